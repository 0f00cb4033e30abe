using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Tests;

/// <summary>`mlp logs`: each step's std_log.txt, a reused step's from the run it reused, and --follow on a live run.</summary>
public sealed class LogsCommandTests
{
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Fact]
    public void PrintsEveryStepsLogUnderAHeader()
    {
        var output = _w.Mlp("logs", _w.FirstRun).ShouldSucceed().Stdout;

        var sections = Sections(output);
        Assert.Equal(4, output.Split('\n').Count(l => l.StartsWith("==> ")));
        Assert.Equal(["fails", "prep", "report", "train"], sections.Keys.Order());
        Assert.Equal("preparing", sections["prep"]);
        Assert.Equal("training lr=0.1", sections["train"]);
        Assert.Equal(["about to fail", "boom"], sections["fails"].Split('\n').Order());
        Assert.Equal("(no log: skipped, upstream step 'fails' failed)", sections["report"]);
        Assert.Equal("report", sections.Keys.Last()); // never started: last
    }

    [Fact]
    public void PrintsOneStepsLogAlone()
    {
        Assert.Equal("training lr=0.1\n", _w.Mlp("logs", _w.FirstRun, "train").ShouldSucceed().Stdout);
    }

    [Fact]
    public void AReusedStepShowsTheLogOfTheRunItReused()
    {
        Assert.Equal("preparing\n", _w.Mlp("logs", _w.SecondRun, "prep").ShouldSucceed().Stdout);
        Assert.Equal("training lr=0.2", Sections(_w.Mlp("logs", _w.SecondRun).ShouldSucceed().Stdout)["train"]);
    }

    [Fact]
    public void AStepWithoutALogOrAnUnknownStepIsAnError()
    {
        var skipped = _w.Mlp("logs", _w.FirstRun, "report");
        Assert.Equal(1, skipped.ExitCode);
        Assert.Equal($"mlp: step 'report' of run '{_w.FirstRun}' has no log (skipped: upstream step 'fails' failed)\n", skipped.Stderr);
        Assert.Empty(skipped.Stdout);

        var unknown = _w.Mlp("logs", _w.FirstRun, "nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Equal($"mlp: run '{_w.FirstRun}' has no step 'nope'\n", unknown.Stderr);
    }

    [Fact]
    public void FollowOnAFinishedRunPrintsTheLogsAndEnds()
    {
        var followed = _w.Mlp("logs", _w.FirstRun, "--follow").ShouldSucceed().Stdout;

        Assert.Equal(Sections(_w.Mlp("logs", _w.FirstRun).Stdout), Sections(followed));
    }

    [Fact]
    public async Task FollowPrintsLinesAsARunningStepWritesThemAndEndsWhenTheRunEnds()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");
        var pipeline = new Pipeline
        {
            ExperimentName = "live",
            ProjectFile = dir.WriteFile("p.mlproj", "<Project />"),
            Steps = [RecordedWorkspace.Sh("slow", "echo first; sleep 2; echo second"), RecordedWorkspace.Sh("quick", "echo quick")],
        };
        var run = Task.Run(() => PipelineRunner.Run(pipeline, new RunOptions { IntermediateDirectory = dir["obj/pipeline"] }, new NoEvents()));

        // The run id is known once the run is recorded as Running; follow from then on, while `slow` sleeps.
        string? runId = null;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (runId is null && DateTime.UtcNow < deadline)
        {
            if (File.Exists(dir["ws/runs.db"]))
            {
                using var history = RunHistory.Open(dir["ws/runs.db"]);
                runId = history.PipelineRuns().SingleOrDefault(r => r.Status == RunStatus.Running)?.Id;
            }
            if (runId is null) await Task.Delay(20);
        }
        Assert.NotNull(runId);
        var follow = MlpTool.Start(dir.Path, "logs", runId, "--follow");
        Assert.False(run.IsCompleted, "the run ended before mlp started following it");

        var result = follow.Wait(TimeSpan.FromSeconds(30));
        var ended = DateTimeOffset.UtcNow;
        Assert.True((await run.WaitAsync(TimeSpan.FromSeconds(30))).Succeeded);

        result.ShouldSucceed();
        var sections = Sections(result.Stdout);
        Assert.Equal("first\nsecond", sections["slow"]);
        Assert.Equal("quick", sections["quick"]);
        using (var history = RunHistory.Open(dir["ws/runs.db"]))
            Assert.True(history.PipelineRun(runId)!.Ended <= ended, "mlp stopped following before the run ended");
    }

    /// <summary>
    /// The text under each `==> step &lt;==` header, by step in order of first appearance, trimmed. Following interleaves
    /// steps that run at once (a header each time the step changes, as tail -f does); their sections are joined.
    /// </summary>
    private static Dictionary<string, string> Sections(string output)
    {
        var sections = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith("==> ") && line.EndsWith(" <=="))
                current = sections.TryGetValue(line[4..^4], out var known) ? known : sections[line[4..^4]] = [];
            else if (current is not null) current.Add(line);
            else Assert.True(line.Length == 0, $"output before the first header:\n{output}");
        }
        return sections.ToDictionary(s => s.Key, s => string.Join('\n', s.Value.Where(l => l.Length > 0)).Trim());
    }
}
