using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;
using static PipelineSdk.Core.Tests.PipelineProject;

namespace PipelineSdk.Core.Tests;

/// <summary>Real processes (sh, python3) and a real SQLite run history in a temp workspace.</summary>
public sealed class PipelineRunner_Tests : IDisposable
{
    private readonly PipelineProject _p = new();

    public void Dispose() => _p.Dispose();

    /// <summary>prep concatenates the raw csv files; train writes the learning rate and the clean data into its model.</summary>
    private Pipeline TwoSteps(string? lr = null)
    {
        if (!File.Exists(_p.Dir["data/a.csv"]))
        {
            _p.Dir.WriteFile("data/a.csv", "1,2\n");
            _p.Dir.WriteFile("data/b.csv", "3,4\n");
        }
        return _p.Pipeline(
            [
                Sh("prep", "cat \"$1\"/*.csv > \"$2/clean.csv\"", "{input:raw} {output:clean}"),
                Sh("train", "echo \"lr=$1\" > \"$3/model.txt\"; cat \"$2/clean.csv\" >> \"$3/model.txt\"", "{param:lr} {input:clean} {output:model}"),
            ],
            outputs: [new("clean"), new("model")],
            datasets: [new("raw", "data/*.csv")],
            parameters: [new("lr", "0.1")],
            values: lr is null ? null : new Dictionary<string, string> { ["lr"] = lr });
    }

    [Fact]
    public void FirstRunRunsEveryStepAndTheSecondReusesThemAll()
    {
        var first = _p.Run(TwoSteps());

        Assert.Empty(first.Diagnostics);
        Assert.True(first.Succeeded);
        Assert.All(first.Steps, s => Assert.Equal(StepOutcome.Ran, s.Outcome));
        Assert.Equal("no earlier run", first.Step("prep").Reason);
        Assert.Equal("lr=0.1\n1,2\n3,4\n", File.ReadAllText(Path.Combine(_p.Output($"{first.RunId}-train", "model"), "model.txt")));

        var second = _p.Run(TwoSteps());

        Assert.True(second.Succeeded);
        Assert.NotEqual(first.RunId, second.RunId);
        foreach (var name in new[] { "prep", "train" })
        {
            var s = second.Step(name);
            Assert.Equal(StepOutcome.Reused, s.Outcome);
            Assert.Equal($"reused from run {first.RunId}", s.Reason);
            Assert.Equal($"{first.RunId}-{name}", s.ReusedFrom);
        }
        Assert.Equal($"PipelineSdk: exp run {second.RunId}: 2 steps, 0 ran, 2 reused, 0 failed", second.SummaryLine);
        Assert.Empty(_p.Events.Started.Where(e => e.Step == "train").Skip(1));

        using var history = _p.History();
        var runs = history.StepRuns(second.RunId!);
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.False(r.Ran));
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
        Assert.Equal(RunStatus.Succeeded, history.PipelineRun(second.RunId!)!.Status);
        Assert.Equal(second.SummaryLine, history.PipelineRun(second.RunId!)!.Summary);
    }

    [Fact]
    public void ParameterBackToAnEarlierValueRunsNothing()
    {
        var first = _p.Run(TwoSteps("0.1"));
        var second = _p.Run(TwoSteps("0.2"));
        var third = _p.Run(TwoSteps("0.1"));

        Assert.Equal(StepOutcome.Reused, second.Step("prep").Outcome);
        Assert.Equal(StepOutcome.Ran, second.Step("train").Outcome);
        Assert.Equal("parameter lr 0.1 → 0.2", second.Step("train").Reason);
        Assert.Equal("lr=0.2\n1,2\n3,4\n", File.ReadAllText(Path.Combine(_p.Output($"{second.RunId}-train", "model"), "model.txt")));

        Assert.Equal(0, third.Count(StepOutcome.Ran));
        Assert.Equal(2, third.Count(StepOutcome.Reused));
        Assert.Equal($"reused from run {first.RunId}", third.Step("train").Reason);

        using var history = _p.History();
        Assert.Equal("0.2", history.PipelineRun(second.RunId!)!.Parameters["lr"]);
        Assert.Equal("0.1", history.PipelineRun(third.RunId!)!.Parameters["lr"]);
    }

    [Fact]
    public void FailedStepKeepsNoOutputSkipsItsConsumersAndLetsIndependentStepsRun()
    {
        var fixedMarker = _p.Dir["fixed"];
        Pipeline Pipeline() => _p.Pipeline(
            [
                Sh("bad", "if [ -f \"$1\" ]; then echo ok > \"$2/r.txt\"; else echo half > \"$2/r.txt\"; echo boom >&2; exit 3; fi", $"{fixedMarker} {{output:bad_out}}"),
                Sh("after_bad", "cat \"$1/r.txt\" > \"$2/r2.txt\"", "{input:bad_out} {output:after_out}"),
                Sh("independent", "echo ind > \"$1/i.txt\"", "{output:ind_out}"),
            ],
            outputs: [new("bad_out"), new("after_out"), new("ind_out")]);

        var first = _p.Run(Pipeline());

        Assert.False(first.Succeeded);
        var bad = first.Step("bad");
        Assert.Equal(StepOutcome.Failed, bad.Outcome);
        Assert.Equal(3, bad.ExitCode);
        Assert.Contains("boom", bad.StderrTail!);
        Assert.True(File.Exists(bad.LogPath), bad.LogPath);
        Assert.Contains("boom", File.ReadAllText(bad.LogPath!));
        Assert.Equal(StepOutcome.Skipped, first.Step("after_bad").Outcome);
        Assert.Equal("upstream step 'bad' failed", first.Step("after_bad").Reason);
        Assert.Equal(StepOutcome.Ran, first.Step("independent").Outcome);
        Assert.Equal($"PipelineSdk: exp run {first.RunId}: 3 steps, 1 ran, 0 reused, 1 failed", first.SummaryLine);

        var committed = Directory.GetDirectories(_p.Outputs).Select(Path.GetFileName).ToList();
        Assert.Equal([$"{first.RunId}-independent"], committed);
        Assert.Empty(Directory.GetFiles(_p.Dir["ws/datastore"], "r.txt", SearchOption.AllDirectories));

        using (var history = _p.History())
        {
            Assert.Equal(RunStatus.Failed, history.PipelineRun(first.RunId!)!.Status);
            var failed = history.StepRuns(first.RunId!).Single(r => r.Step == "bad");
            Assert.Equal(RunStatus.Failed, failed.Status);
            Assert.Equal(3, failed.ExitCode);
            Assert.Empty(failed.Outputs);
            Assert.Equal(RunStatus.Skipped, history.StepRuns(first.RunId!).Single(r => r.Step == "after_bad").Status);
        }

        File.WriteAllText(fixedMarker, "");
        var second = _p.Run(Pipeline());

        Assert.True(second.Succeeded);
        Assert.Equal(StepOutcome.Ran, second.Step("bad").Outcome);
        Assert.Equal($"earlier run {first.RunId} failed", second.Step("bad").Reason);
        Assert.Equal(StepOutcome.Ran, second.Step("after_bad").Outcome);
        Assert.Equal(StepOutcome.Reused, second.Step("independent").Outcome);
        Assert.Equal($"reused from run {first.RunId}", second.Step("independent").Reason);
        Assert.Equal("ok\n", File.ReadAllText(Path.Combine(_p.Output($"{second.RunId}-after_bad", "after_out"), "r2.txt")));
    }

    [Fact]
    public void StepThatCannotStartFailsWithExitCode127()
    {
        var step = new Step { Name = "ghost", Kind = StepKind.Command, Command = "no-such-program-pipelinesdk --x" };

        var result = _p.Run(_p.Pipeline([step]));

        var s = result.Step("ghost");
        Assert.Equal(StepOutcome.Failed, s.Outcome);
        Assert.Equal(127, s.ExitCode);
        Assert.Contains(s.StderrTail!, l => l.Contains("no-such-program-pipelinesdk"));
    }

    private Pipeline TwoSleepers(int maxNodes) => _p.Pipeline(
        [
            Sh("sleep_a", "sleep 1; echo a") with { Compute = "pool" },
            Sh("sleep_b", "sleep 1; echo b") with { Compute = "pool" },
        ],
        computes: [new ComputeTarget("pool", ComputeKind.Local, maxNodes)]);

    private (StepRunRecord A, StepRunRecord B) Timings(PipelineResult result)
    {
        using var history = _p.History();
        var runs = history.StepRuns(result.RunId!);
        return (runs.Single(r => r.Step == "sleep_a"), runs.Single(r => r.Step == "sleep_b"));
    }

    [Fact]
    public void IndependentStepsOverlapUpToMaxNodes()
    {
        var result = _p.Run(TwoSleepers(maxNodes: 2));

        Assert.Equal(2, result.Count(StepOutcome.Ran));
        var (a, b) = Timings(result);
        Assert.True(a.Started < b.Ended && b.Started < a.Ended, $"a {a.Started:O}..{a.Ended:O}, b {b.Started:O}..{b.Ended:O} do not overlap");
    }

    [Fact]
    public void MaxNodesOfOneRunsStepsOneAtATime()
    {
        var result = _p.Run(TwoSleepers(maxNodes: 1));

        Assert.Equal(2, result.Count(StepOutcome.Ran));
        var (a, b) = Timings(result);
        var (early, late) = a.Started <= b.Started ? (a, b) : (b, a);
        Assert.True(early.Ended <= late.Started, $"{early.Step} {early.Started:O}..{early.Ended:O} overlaps {late.Step} {late.Started:O}..{late.Ended:O}");
        Assert.True(late.Ended - early.Started >= TimeSpan.FromSeconds(2));
    }

    /// <summary>Removes the datastore's content store (the copies outputs are restored from), if there is one.</summary>
    private void ForgetStoredCopies()
    {
        var store = _p.Dir["ws/datastore/.cas"];
        if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
    }

    [Fact]
    public void DeletedOutputWithoutAStoredCopyMakesItsStepRerun()
    {
        var first = _p.Run(TwoSteps());
        Directory.Delete(_p.Output($"{first.RunId}-prep", "clean"), recursive: true);
        ForgetStoredCopies();

        var second = _p.Run(TwoSteps());

        var prep = second.Step("prep");
        Assert.Equal(StepOutcome.Ran, prep.Outcome);
        Assert.Contains("output", prep.Reason);
        Assert.Contains("deleted or modified", prep.Reason);
        Assert.Contains(first.RunId!, prep.Reason);
        Assert.Equal("1,2\n3,4\n", File.ReadAllText(Path.Combine(_p.Output($"{second.RunId}-prep", "clean"), "clean.csv")));
        // The rerun wrote the same content, so the consumer's fingerprint is unchanged.
        Assert.Equal(StepOutcome.Reused, second.Step("train").Outcome);
    }

    [Fact]
    public void OutputModifiedByHandWithoutAStoredCopyMakesItsStepRerun()
    {
        var first = _p.Run(TwoSteps());
        File.AppendAllText(Path.Combine(_p.Output($"{first.RunId}-train", "model"), "model.txt"), "tampered\n");
        ForgetStoredCopies();

        var second = _p.Run(TwoSteps());

        Assert.Equal(StepOutcome.Reused, second.Step("prep").Outcome);
        var train = second.Step("train");
        Assert.Equal(StepOutcome.Ran, train.Outcome);
        Assert.Contains("output", train.Reason);
        Assert.Contains("deleted or modified", train.Reason);
        Assert.Contains(first.RunId!, train.Reason);
    }

    [Fact]
    public void DeletedOutputIsRestoredFromTheStoreWithoutRerunning()
    {
        var first = _p.Run(TwoSteps());
        var clean = _p.Output($"{first.RunId}-prep", "clean");
        Directory.Delete(clean, recursive: true);
        var started = _p.Events.Started.Count;

        var second = _p.Run(TwoSteps());

        var prep = second.Step("prep");
        Assert.Equal(StepOutcome.Reused, prep.Outcome);
        Assert.Equal($"reused from run {first.RunId} (output 'clean' restored from the store)", prep.Reason);
        Assert.Equal(StepOutcome.Reused, second.Step("train").Outcome);
        Assert.Equal(started, _p.Events.Started.Count);
        Assert.Equal("1,2\n3,4\n", File.ReadAllText(Path.Combine(clean, "clean.csv")));
    }

    [Fact]
    public void OutputModifiedByHandIsRestoredFromTheStore()
    {
        var first = _p.Run(TwoSteps());
        var model = Path.Combine(_p.Output($"{first.RunId}-train", "model"), "model.txt");
        File.WriteAllText(model, "tampered\n");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(model)!, "extra.txt"), "x");

        var second = _p.Run(TwoSteps());

        Assert.Equal(StepOutcome.Reused, second.Step("train").Outcome);
        Assert.Equal($"reused from run {first.RunId} (output 'model' restored from the store)", second.Step("train").Reason);
        Assert.Equal("lr=0.1\n1,2\n3,4\n", File.ReadAllText(model));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(model)!, "extra.txt")));
    }

    [Fact]
    public void DamagedStoredCopyIsNotRestored()
    {
        var first = _p.Run(TwoSteps());
        Directory.Delete(_p.Output($"{first.RunId}-prep", "clean"), recursive: true);
        foreach (var copy in Directory.GetFiles(_p.Dir["ws/datastore/.cas"], "*", SearchOption.AllDirectories))
            File.WriteAllText(copy, "rot");

        var second = _p.Run(TwoSteps());

        Assert.Equal(StepOutcome.Ran, second.Step("prep").Outcome);
        Assert.Contains("no intact copy", second.Step("prep").Reason);
        Assert.Equal("1,2\n3,4\n", File.ReadAllText(Path.Combine(_p.Output($"{second.RunId}-prep", "clean"), "clean.csv")));
    }

    [Fact]
    public void RebuildRunsEveryStep()
    {
        _p.Run(TwoSteps());

        var rebuilt = _p.Run(TwoSteps(), _p.Options with { Rebuild = true });

        Assert.All(rebuilt.Steps, s => Assert.Equal(StepOutcome.Ran, s.Outcome));
        Assert.All(rebuilt.Steps, s => Assert.Equal("Rebuild requested", s.Reason));
    }

    [Fact]
    public void ForcedStepRunsAndTheOthersAreReused()
    {
        _p.Run(TwoSteps());

        var forced = _p.Run(TwoSteps(), _p.Options with { ForceSteps = new HashSet<string> { "prep" } });

        Assert.Equal(StepOutcome.Ran, forced.Step("prep").Outcome);
        Assert.Equal("forced by ForceSteps", forced.Step("prep").Reason);
        Assert.Equal(StepOutcome.Reused, forced.Step("train").Outcome);
    }

    [Fact]
    public void StepThatDisallowsReuseRunsEveryTime()
    {
        var pipeline = TwoSteps();
        pipeline = pipeline with { Steps = [pipeline.Steps[0] with { AllowReuse = false }, pipeline.Steps[1]] };
        _p.Run(pipeline);

        var second = _p.Run(pipeline);

        Assert.Equal(StepOutcome.Ran, second.Step("prep").Outcome);
        Assert.Equal("AllowReuse=false", second.Step("prep").Reason);
        Assert.Equal(StepOutcome.Reused, second.Step("train").Outcome);
    }

    [Fact]
    public void DryRunRunsNothingAndRecordsNoPipelineRun()
    {
        var dry = _p.Run(TwoSteps(), _p.Options with { DryRun = true });

        Assert.Equal(StepOutcome.WouldRun, dry.Step("prep").Outcome);
        Assert.Equal(StepOutcome.WouldRun, dry.Step("train").Outcome);
        Assert.Equal("upstream step 'prep' would run", dry.Step("train").Reason);
        Assert.Empty(_p.Events.Started);
        Assert.False(Directory.Exists(_p.Outputs) && Directory.EnumerateFileSystemEntries(_p.Outputs).Any());
        using (var history = _p.History())
            Assert.Empty(history.PipelineRuns());

        var real = _p.Run(TwoSteps());
        var dryAgain = _p.Run(TwoSteps(), _p.Options with { DryRun = true });

        Assert.All(dryAgain.Steps, s => Assert.Equal(StepOutcome.WouldReuse, s.Outcome));
        Assert.Equal($"reused from run {real.RunId}", dryAgain.Step("train").Reason);
        using (var history = _p.History())
            Assert.Equal([real.RunId], history.PipelineRuns().Select(r => r.Id));
    }

    [Fact]
    public void ChangedOutputDestinationDoesNotMakeAStepRerun()
    {
        var first = _p.Run(TwoSteps());
        var moved = TwoSteps() with { Outputs = [new("clean", Destination: "cleaned/{run-id}"), new("model", Destination: "models/{output-name}-{run-id}")] };

        var second = _p.Run(moved);

        Assert.Equal(0, second.Count(StepOutcome.Ran));
        Assert.Equal($"reused from run {first.RunId}", second.Step("train").Reason);
    }

    [Fact]
    public void OutputDestinationTemplateIsFilledIn()
    {
        var pipeline = TwoSteps() with { Outputs = [new("clean"), new("model", Destination: "models/{output-name}-{run-id}")] };

        var result = _p.Run(pipeline);

        var model = _p.Dir[$"ws/datastore/models/model-{result.RunId}-train/model.txt"];
        Assert.True(File.Exists(model), model);
        Assert.StartsWith("lr=0.1", File.ReadAllText(model));
    }

    [Fact]
    public void StepGetsItsInputsOutputsAndParametersAsEnvironmentVariables()
    {
        _p.Dir.WriteFile("data/a.csv", "x\n");
        var step = Sh("env", "printf \"%s|%s|%s|%s\" \"$PIPELINE_PARAM_SEED_V2\" \"$PIPELINE_STEP\" \"$PIPELINE_EXPERIMENT\" \"$(cat \"$PIPELINE_INPUT_RAW\"/a.csv)\" > \"$PIPELINE_OUTPUT_OUT/env.txt\"") with
        {
            Inputs = ["raw"],
            Outputs = ["out"],
            Parameters = ["seed.v2"],
        };

        var result = _p.Run(_p.Pipeline([step], outputs: [new("out")], datasets: [new("raw", "data")], parameters: [new("seed.v2", "42")]));

        Assert.Equal(StepOutcome.Ran, result.Step("env").Outcome);
        Assert.Equal("42|env|exp|x", File.ReadAllText(Path.Combine(_p.Output($"{result.RunId}-env", "out"), "env.txt")));
    }

    [Fact]
    public void PythonScriptStepRerunsWhenItsInputOrScriptChanges()
    {
        _p.Dir.WriteFile("steps/prep/prepare.py", """
            import pathlib, sys
            raw, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
            (out / "clean.csv").write_text("".join(p.read_text() for p in sorted(raw.glob("*.csv"))))
            """);
        _p.Dir.WriteFile("data/a.csv", "1\n");
        _p.Dir.WriteFile("data/b.csv", "2\n");
        var pipeline = _p.Pipeline(
            [new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = _p.Dir["steps/prep"], ScriptName = "prepare.py", Arguments = "{input:raw} {output:clean}" }],
            outputs: [new("clean")],
            datasets: [new("raw", "data/*.csv")]);

        var first = _p.Run(pipeline);
        Assert.Equal(StepOutcome.Ran, first.Step("prep").Outcome);
        Assert.Equal("1\n2\n", File.ReadAllText(Path.Combine(_p.Output($"{first.RunId}-prep", "clean"), "clean.csv")));

        _p.Dir.WriteFile("data/a.csv", "9\n");
        var second = _p.Run(pipeline);
        Assert.Equal(StepOutcome.Ran, second.Step("prep").Outcome);
        Assert.Equal("input 'raw' file a.csv changed", second.Step("prep").Reason);
        Assert.Equal("9\n2\n", File.ReadAllText(Path.Combine(_p.Output($"{second.RunId}-prep", "clean"), "clean.csv")));

        File.AppendAllText(_p.Dir["steps/prep/prepare.py"], "\n# tidy\n");
        var third = _p.Run(pipeline);
        Assert.Equal(StepOutcome.Ran, third.Step("prep").Outcome);
        Assert.Equal("script prepare.py changed", third.Step("prep").Reason);

        var fourth = _p.Run(pipeline);
        Assert.Equal(StepOutcome.Reused, fourth.Step("prep").Outcome);
        Assert.Equal($"reused from run {third.RunId}", fourth.Step("prep").Reason);
    }

    [Fact]
    public void ProjectCopiedToAnotherFolderReusesItsResults()
    {
        _p.Dir.WriteFile("steps/hello/hello.py", "import sys, pathlib\npathlib.Path(sys.argv[1], 'h.txt').write_text('hi')\n");
        Pipeline Pipeline(PipelineProject p) => p.Pipeline(
            [new Step { Name = "hello", Kind = StepKind.PythonScript, SourceDirectory = p.Dir["steps/hello"], ScriptName = "hello.py", Arguments = "{output:o}" }],
            outputs: [new("o")]);
        var first = _p.Run(Pipeline(_p));

        using var copy = new PipelineProject();
        foreach (var file in Directory.EnumerateFiles(_p.Dir.Path, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(_p.Dir.Path, file);
            if (relative.StartsWith("obj")) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(copy.Dir[relative])!);
            File.Copy(file, copy.Dir[relative], overwrite: true);
        }

        var second = copy.Run(Pipeline(copy));

        Assert.Equal(StepOutcome.Ran, first.Step("hello").Outcome);
        Assert.Equal(StepOutcome.Reused, second.Step("hello").Outcome);
        Assert.Equal($"reused from run {first.RunId}", second.Step("hello").Reason);
    }

    [Fact]
    public void StepWhoseSourceIsTheProjectFolderIsReusedWithTheDefaultWorkspace()
    {
        // Without workspace.json the workspace is .mlworkspace/ in the project folder, which snapshots leave out.
        File.Delete(_p.Dir["workspace.json"]);
        _p.Dir.WriteFile("main.py", "import sys, pathlib\npathlib.Path(sys.argv[1], 'f.txt').write_text('x')\n");
        var pipeline = _p.Pipeline(
            [new Step { Name = "main", Kind = StepKind.PythonScript, SourceDirectory = _p.Dir.Path, ScriptName = "main.py", Arguments = "{output:o}" }],
            outputs: [new("o")]);

        var first = _p.Run(pipeline);
        var second = _p.Run(pipeline);

        Assert.True(Directory.Exists(_p.Dir[".mlworkspace/datastore"]));
        Assert.Equal(StepOutcome.Ran, first.Step("main").Outcome);
        Assert.Equal(StepOutcome.Reused, second.Step("main").Outcome);
    }

    [Fact]
    public void StepWhoseSourceIsTheProjectFolderIsReusedWithAWorkspaceInside()
    {
        _p.Dir.WriteFile("main.py", "import sys, pathlib\npathlib.Path(sys.argv[1], 'f.txt').write_text('x')\n");
        var pipeline = _p.Pipeline(
            [new Step { Name = "main", Kind = StepKind.PythonScript, SourceDirectory = _p.Dir.Path, ScriptName = "main.py", Arguments = "{output:o}" }],
            outputs: [new("o")]);

        var first = _p.Run(pipeline);
        var second = _p.Run(pipeline);

        Assert.Equal(StepOutcome.Ran, first.Step("main").Outcome);
        Assert.Equal($"reused from run {first.RunId}", second.Step("main").Reason);
        Assert.Empty(Directory.GetFiles(_p.Dir["ws/snapshots"], "runs.db", SearchOption.AllDirectories));
    }

    [Fact]
    public void WorkspaceWrittenByTheFirstReleaseStillWorks()
    {
        // The 0.1.0 schema of pipeline_runs, as the committed engine created it (samples/SeedPipeline/.mlworkspace/runs.db has it).
        Directory.CreateDirectory(_p.Workspace);
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_p.Workspace, "runs.db")};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE experiments (name TEXT PRIMARY KEY, created TEXT NOT NULL);
                CREATE TABLE pipeline_runs (
                    id TEXT PRIMARY KEY, experiment TEXT NOT NULL REFERENCES experiments(name), project TEXT NOT NULL,
                    status TEXT NOT NULL, started TEXT NOT NULL, ended TEXT, parameters TEXT NOT NULL, summary TEXT);
                """;
            cmd.ExecuteNonQuery();
        }

        var result = _p.Run(TwoSteps());

        Assert.True(result.Succeeded);
        Assert.Equal(2, result.Count(StepOutcome.Ran));
    }

    [Fact]
    public void DatasetMatchingNoFileStopsBeforeTheWorkspaceIsTouched()
    {
        var pipeline = _p.Pipeline([Sh("a", "true", "{input:raw}")], datasets: [new("raw", "data/*.csv", Location: new SourceLocation(_p.ProjectFile, 4, 3))]);

        var result = _p.Run(pipeline);

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(Codes.EmptyDataset, d.Code);
        Assert.Contains("'raw'", d.Message);
        Assert.Equal(new SourceLocation(_p.ProjectFile, 4, 3), d.Location);
        Assert.Null(result.RunId);
        Assert.Empty(result.Steps);
        Assert.False(Directory.Exists(_p.Workspace));
    }

    [Fact]
    public void InvalidWorkspaceFileIsReported()
    {
        _p.Dir.WriteFile("workspace.json", "{ not json");

        var result = _p.Run(_p.Pipeline([Sh("a", "true")]));

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(Codes.Workspace, d.Code);
        Assert.Contains("workspace.json", d.Message);
        Assert.Null(result.RunId);
        Assert.False(result.Succeeded);
    }

    /// <summary>An existing workspace's history is opened while the project is checked: a project that fails the check leaves it as it was.</summary>
    [Fact]
    public void InvalidPipelineOnAnExistingWorkspaceLeavesItsHistoryAsItWas()
    {
        var first = _p.Run(_p.Pipeline([Sh("a", "echo 1 > \"$1/f\"", "{output:o}")], [new("o")]));
        Assert.True(first.Succeeded);

        var invalid = _p.Run(_p.Pipeline([Sh("a", "echo 1 > \"$1/f\"", "{output:undeclared}")]));
        var again = _p.Run(_p.Pipeline([Sh("a", "echo 1 > \"$1/f\"", "{output:o}")], [new("o")]));

        Assert.Equal(Codes.UnknownOutput, Assert.Single(invalid.Diagnostics).Code);
        Assert.Null(invalid.RunId);
        Assert.Equal(StepOutcome.Reused, Assert.Single(again.Steps).Outcome);
        using var history = _p.History();
        Assert.Equal([first.RunId, again.RunId], history.PipelineRuns().Select(r => r.Id));
    }

    [Fact]
    public void InvalidPipelineRunsNothing()
    {
        var result = _p.Run(_p.Pipeline([Sh("a", "echo x > \"$1/f\"", "{output:undeclared}")]));

        Assert.Equal(Codes.UnknownOutput, Assert.Single(result.Diagnostics).Code);
        Assert.Null(result.RunId);
        Assert.Empty(result.Steps);
        Assert.False(result.Succeeded);
        Assert.False(Directory.Exists(_p.Workspace));
    }

    [Fact]
    public void AddingAnOutputToAStepMakesItRerun()
    {
        // The step writes every output it is given through PIPELINE_OUTPUT_*; which outputs it is given changes what it does.
        const string script = "for d in \"$PIPELINE_OUTPUT_O1\" \"$PIPELINE_OUTPUT_O2\"; do if [ -n \"$d\" ]; then echo x > \"$d/f.txt\"; fi; done";
        _p.Run(_p.Pipeline([Sh("a", script) with { Outputs = ["o1"] }], outputs: [new("o1")]));

        var second = _p.Run(_p.Pipeline(
            [Sh("a", script) with { Outputs = ["o1", "o2"] }, Sh("b", "cat \"$1/f.txt\"", "{input:o2}")],
            outputs: [new("o1"), new("o2")]));

        Assert.Equal(StepOutcome.Ran, second.Step("a").Outcome);
        Assert.Equal(StepOutcome.Ran, second.Step("b").Outcome);
    }
}
