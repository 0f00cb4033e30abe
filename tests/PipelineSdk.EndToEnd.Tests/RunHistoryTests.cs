using System.Diagnostics;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>What a run records besides outputs: metrics, tags and artifacts through the step protocol, git state, progress.</summary>
public sealed class RunHistoryTests
{
    private const string ShellStep = """
          <ItemGroup>
            <StepOutput Include="counted" />
            <CommandStep Include="count" SourceDirectory="step" Command="sh count.sh {output:counted}" />
          </ItemGroup>
        """;

    /// <summary>A step in plain shell, no library: it appends JSON lines to $PIPELINE_METRICS_FILE and writes ./outputs.</summary>
    private const string CountScript = """
        echo 42 > "$1/rows.txt"
        echo '{"kind":"metric","name":"rows","value":42}' >> "$PIPELINE_METRICS_FILE"
        echo '{"kind":"metric","name":"loss","value":0.5}' >> "$PIPELINE_METRICS_FILE"
        echo '{"kind":"metric","name":"loss","value":0.25}' >> "$PIPELINE_METRICS_FILE"
        echo '{"kind":"tags","value":{"team":"data","language":"sh"}}' >> "$PIPELINE_METRICS_FILE"
        mkdir -p outputs logs
        echo "rows: 42" > outputs/report.txt
        echo "debug" > logs/trace.txt
        echo "counted $PIPELINE_STEP in $PIPELINE_EXPERIMENT"
        """;

    [Fact]
    public void ShellCommandStepLogsMetricsTagsAndArtifactsThroughTheProtocol()
    {
        var project = new PipelineProject("protocol").WithProject(ShellStep).Write("step/count.sh", CountScript);

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var run = history.StepRuns(build.RunId).Single();
        var metrics = history.Metrics(run.Id);
        Assert.Equal([("rows", "42"), ("loss", "0.5"), ("loss", "0.25")], metrics.Select(m => (m.Name, m.ValueJson)));
        Assert.Equal(new Dictionary<string, string> { ["language"] = "sh", ["team"] = "data" }, history.Tags(run.Id));
        var artifacts = history.Artifacts(run.Id).ToDictionary(a => a.Name);
        Assert.Equal(["logs/trace.txt", "outputs/report.txt"], artifacts.Keys.Order());
        Assert.Equal("rows: 42", File.ReadAllText(Path.Combine(project.Datastore, artifacts["outputs/report.txt"].Path)).Trim());
        Assert.Equal("counted count in protocol", File.ReadAllText(run.LogPath!).Trim());

        // A reused step run reports the metrics of the run it reused.
        var again = project.Build().ShouldSucceed();
        using var later = project.History();
        Assert.Equal(3, later.Metrics(later.StepRuns(again.RunId).Single().Id).Count);
    }

    [Fact]
    public void ShellMetricsSampleCountsWordsAndLogsThem()
    {
        var project = PipelineProject.FromSample("ShellMetrics");

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var run = history.StepRuns(build.RunId).Single();
        var metrics = history.Metrics(run.Id).ToDictionary(m => m.Name, m => m.ValueJson);
        Assert.Equal("2", metrics["files"]);
        Assert.Equal("48", metrics["words"]); // wc -w over the two files of data/
        Assert.Equal("sh", history.Tags(run.Id)["language"]);
        Assert.Equal(["outputs/summary.txt"], history.Artifacts(run.Id).Select(a => a.Name));
    }

    [Fact]
    public void UnreadableMetricsLineIsAWarningNotAFailure()
    {
        var project = new PipelineProject("badmetrics").WithProject(ShellStep)
            .Write("step/count.sh", "echo 1 > \"$1/x\"\necho 'not json' >> \"$PIPELINE_METRICS_FILE\"\necho '{\"kind\":\"metric\",\"name\":\"ok\",\"value\":1}' >> \"$PIPELINE_METRICS_FILE\"\n");

        var build = project.Build().ShouldSucceed();

        Assert.Matches(@"warning PS0103: Step 'count' reported something that could not be read \(metrics line 1: ", build.Output);
        using var history = project.History();
        Assert.Equal("ok", Assert.Single(history.Metrics(history.StepRuns(build.RunId).Single().Id)).Name);
    }

    [Fact]
    public void GitStateIsRecordedCleanAndDirtyAndAbsentOutsideARepository()
    {
        var outside = new PipelineProject("nogit").WithProject(ShellStep).Write("step/count.sh", CountScript);
        var noGit = outside.Build().ShouldSucceed();
        using (var history = outside.History())
            Assert.Null(history.PipelineRun(noGit.RunId)!.Git);

        var project = new PipelineProject("git").WithProject(ShellStep).Write("step/count.sh", CountScript).Write("notes.txt", "v1\n");
        Git(project, "init", "-q", "-b", "main");
        Git(project, "remote", "add", "origin", "https://example.invalid/team/pipelines.git");
        File.WriteAllText(Path.Combine(project.Directory, ".gitignore"), ".mlworkspace/\nobj/\n");
        Git(project, "add", "-A");
        Git(project, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "pipeline");
        var head = Git(project, "rev-parse", "HEAD");

        var clean = project.Build().ShouldSucceed();
        File.WriteAllText(Path.Combine(project.Directory, "notes.txt"), "v2\n");
        var dirty = project.Build().ShouldSucceed();

        using var runs = project.History();
        Assert.Equal(new GitState("https://example.invalid/team/pipelines.git", "main", head, false), runs.PipelineRun(clean.RunId)!.Git);
        Assert.Equal(new GitState("https://example.invalid/team/pipelines.git", "main", head, true), runs.PipelineRun(dirty.RunId)!.Git);
    }

    [Fact]
    public void ProgressLinesShowWhatRunsWhileStepsTakeTime()
    {
        var project = new PipelineProject("progress").WithProject("""
              <ItemGroup>
                <CommandStep Include="slow" Command="sh -c 'echo hello from the step; sleep 2.5'" />
                <CommandStep Include="later" Command="true" RunAfter="slow" />
              </ItemGroup>
            """);

        var build = project.Build("-p:PipelineProgressInterval=1", "-v:d").ShouldSucceed();

        Assert.Matches(@"PipelineSdk: 0 of 2 steps done; running slow \(\d+ s\); 1 waiting", build.Output);
        Assert.Contains("slow> hello from the step", build.Output);
        var quiet = project.Build("-t:Rebuild", "-p:PipelineProgressInterval=1").ShouldSucceed();
        Assert.DoesNotContain("slow> hello from the step", quiet.Output);
    }

    private static string Git(PipelineProject project, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = project.Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', arguments)}: {error}");
        return output.Trim();
    }
}
