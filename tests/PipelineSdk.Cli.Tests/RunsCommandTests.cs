using System.Text.Json;

namespace PipelineSdk.Cli.Tests;

/// <summary>`mlp runs list` and `mlp runs show` on the recorded workspace, as tables and as JSON.</summary>
public sealed class RunsCommandTests
{
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Fact]
    public void ListShowsEveryRunNewestFirstWithStepCountsAndGitState()
    {
        var lines = _w.Mlp("runs", "list").ShouldSucceed().Lines;

        Assert.Equal(4, lines.Length);
        Assert.Equal(["RUN", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "RAN", "REUSED", "FAILED", "GIT"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var rows = lines.Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal([_w.OtherRun, _w.SecondRun, _w.FirstRun], rows.Select(r => r[0]));
        var shortCommit = _w.Commit[..7];
        // run, experiment, status, date, time, duration, ran, reused, failed, git
        Assert.Equal(["other", "Succeeded", "1", "0", "0", shortCommit + "*"], [rows[0][1], rows[0][2], rows[0][6], rows[0][7], rows[0][8], rows[0][9]]);
        Assert.Equal(["exp", "Failed", "1", "1", "1", shortCommit + "*"], [rows[1][1], rows[1][2], rows[1][6], rows[1][7], rows[1][8], rows[1][9]]);
        Assert.Equal(["exp", "Failed", "2", "0", "1", shortCommit], [rows[2][1], rows[2][2], rows[2][6], rows[2][7], rows[2][8], rows[2][9]]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", $"{rows[2][3]} {rows[2][4]}");
        Assert.Matches(@"^\d+\.\ds$", rows[2][5]);
    }

    [Fact]
    public void ListFiltersByExperimentStatusAndCount()
    {
        Assert.Equal([_w.SecondRun, _w.FirstRun], Ids(_w.Mlp("runs", "list", "--experiment", "exp")));
        Assert.Equal([_w.OtherRun], Ids(_w.Mlp("runs", "list", "--status", "succeeded")));
        Assert.Equal([_w.SecondRun], Ids(_w.Mlp("runs", "list", "--experiment", "exp", "--last", "1")));
        Assert.Equal("No runs match.", _w.Mlp("runs", "list", "--experiment", "nope").ShouldSucceed().Stdout.Trim());
        Assert.Equal(0, _w.Mlp("runs", "list", "--status", "Interrupted", "--json").Json().GetArrayLength());

        static IEnumerable<string> Ids(MlpResult r) => r.ShouldSucceed().Lines.Skip(1).Select(l => l.Split(' ')[0]);
    }

    [Fact]
    public void ListAsJson()
    {
        var runs = _w.Mlp("runs", "list", "--json").Json();

        Assert.Equal(JsonValueKind.Array, runs.ValueKind);
        Assert.Equal([_w.OtherRun, _w.SecondRun, _w.FirstRun], runs.EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        var first = runs[2];
        Assert.Equal("exp", first.GetProperty("experiment").GetString());
        Assert.Equal(_w.ProjectFile, first.GetProperty("project").GetString());
        Assert.Equal("Failed", first.GetProperty("status").GetString());
        Assert.True(first.GetProperty("ended").GetDateTimeOffset() >= first.GetProperty("started").GetDateTimeOffset());
        Assert.True(first.GetProperty("durationSeconds").GetDouble() > 0);
        var counts = first.GetProperty("stepCounts");
        Assert.Equal((4, 2, 0, 1, 1), (counts.GetProperty("total").GetInt32(), counts.GetProperty("ran").GetInt32(), counts.GetProperty("reused").GetInt32(),
            counts.GetProperty("failed").GetInt32(), counts.GetProperty("skipped").GetInt32()));
        Assert.Equal("0.1", first.GetProperty("parameters").GetProperty("lr").GetString());
        Assert.Equal("0.9", first.GetProperty("parameters").GetProperty("acc").GetString());
        var git = first.GetProperty("git");
        Assert.Equal(_w.Commit, git.GetProperty("commit").GetString());
        Assert.Equal("main", git.GetProperty("branch").GetString());
        Assert.False(git.GetProperty("dirty").GetBoolean());
        Assert.Equal(JsonValueKind.Null, git.GetProperty("repository").ValueKind);
        Assert.True(runs[1].GetProperty("git").GetProperty("dirty").GetBoolean());
        Assert.Contains("4 steps, 2 ran, 0 reused, 1 failed", first.GetProperty("summary").GetString());
    }

    [Fact]
    public void ShowPrintsTheHeaderAndEveryStepWithWhyItRan()
    {
        var output = _w.Mlp("runs", "show", _w.SecondRun).ShouldSucceed().Stdout;

        var header = output[..output.IndexOf("\n\n", StringComparison.Ordinal)].Split('\n')
            .ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 1)..].Trim());
        Assert.Equal(_w.SecondRun, header["Run"]);
        Assert.Equal("exp", header["Experiment"]);
        Assert.Equal(_w.ProjectFile, header["Project"]);
        Assert.Equal("Failed", header["Status"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", header["Started"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \([\d.]+s\)$", header["Ended"]);
        Assert.Equal("acc=0.95, lr=0.2", header["Parameters"]);
        Assert.Equal("4 (1 ran, 1 reused, 1 failed, 1 skipped)", header["Steps"]);
        Assert.Equal("main", header["Git branch"]);
        Assert.Equal(_w.Commit, header["Git commit"]);
        Assert.StartsWith("yes", header["Git dirty"]);
        Assert.False(header.ContainsKey("Git repository")); // no remote: not recorded, not shown

        var table = output[output.IndexOf("STEP", StringComparison.Ordinal)..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^STEP\s+STATUS\s+RAN/REUSED\s+DURATION\s+REASON\s+COMPUTE\s+EXIT$", table[0]);
        var steps = table.Skip(1).ToDictionary(l => l.Split(' ')[0]);
        Assert.Equal(4, steps.Count);
        Assert.Matches($@"^prep\s+Succeeded\s+reused\s+[\d.]+s\s+reused from run {_w.FirstRun}\s+local\s+-$", steps["prep"]);
        Assert.Matches(@"^train\s+Succeeded\s+ran\s+[\d.]+s\s+parameter \w+ [\d.]+ → [\d.]+\s+local\s+0$", steps["train"]);
        Assert.Matches($@"^fails\s+Failed\s+ran\s+[\d.]+s\s+earlier run {_w.FirstRun} failed\s+local\s+3$", steps["fails"]);
        Assert.Matches(@"^report\s+Skipped\s+-\s+-\s+upstream step 'fails' failed\s+local\s+-$", steps["report"]);
    }

    [Fact]
    public void ShowAsJson()
    {
        var run = _w.Mlp("runs", "show", _w.FirstRun, "--json").Json();

        Assert.Equal(_w.FirstRun, run.GetProperty("id").GetString());
        Assert.Equal("Failed", run.GetProperty("status").GetString());
        Assert.Equal(2, run.GetProperty("stepCounts").GetProperty("ran").GetInt32());
        var steps = run.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("step").GetString()!);
        Assert.Equal(["fails", "prep", "report", "train"], steps.Keys.Order());

        var train = steps["train"];
        Assert.Equal($"{_w.FirstRun}-train", train.GetProperty("id").GetString());
        Assert.Equal("Succeeded", train.GetProperty("status").GetString());
        Assert.True(train.GetProperty("ran").GetBoolean());
        Assert.False(train.GetProperty("reused").GetBoolean());
        Assert.Equal("no earlier run", train.GetProperty("reason").GetString());
        Assert.Equal("local", train.GetProperty("compute").GetString());
        Assert.Equal(0, train.GetProperty("exitCode").GetInt32());
        Assert.True(File.Exists(train.GetProperty("logPath").GetString()));
        Assert.False(string.IsNullOrEmpty(train.GetProperty("fingerprint").GetString()));
        var model = train.GetProperty("outputs").GetProperty("model");
        Assert.Equal("workspacestore", model.GetProperty("datastore").GetString());
        Assert.Equal($"outputs/{_w.FirstRun}-train/model", model.GetProperty("path").GetString());
        Assert.Equal(1, model.GetProperty("files").GetInt32());

        Assert.Equal(3, steps["fails"].GetProperty("exitCode").GetInt32());
        Assert.Equal("Skipped", steps["report"].GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, steps["report"].GetProperty("started").ValueKind);
        Assert.Equal(JsonValueKind.Null, steps["report"].GetProperty("durationSeconds").ValueKind);

        var second = _w.Mlp("runs", "show", _w.SecondRun, "--json").Json();
        var prep = second.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("step").GetString() == "prep");
        Assert.True(prep.GetProperty("reused").GetBoolean());
        Assert.Equal($"{_w.FirstRun}-prep", prep.GetProperty("reusedFrom").GetString());
    }

    [Fact]
    public void WorkspaceOptionTakesAWorkspaceFolderAProjectFolderOrAFile()
    {
        foreach (var path in new[] { _w.Workspace, _w.Folder, _w.ProjectFile, Path.Combine(_w.Folder, "data") })
            Assert.Equal(3, MlpTool.Run(Path.GetTempPath(), "runs", "list", "--workspace", path, "--json").Json().GetArrayLength());
    }
}
