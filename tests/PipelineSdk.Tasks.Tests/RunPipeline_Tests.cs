using System.Security;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Tasks.Tests;

/// <summary>
/// The RunPipeline task over a mock build engine: items are built in code, as MSBuild would pass them, and the
/// same declarations are written to a temp .mlproj on disk, which the task reads only for line numbers.
/// </summary>
public sealed class RunPipeline_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly MockEngine _engine = new();

    public RunPipeline_Tests() => _dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");

    public void Dispose() => _dir.Dispose();

    private string ProjectFile => _dir["p.mlproj"];
    private string OutputsFolder => _dir["ws/datastore/outputs"];

    /// <summary>One item as written in the .mlproj: its element name, Include and metadata attributes.</summary>
    private sealed record Decl(string Type, string Name, params (string Key, string Value)[] Metadata);

    private static Decl Param(string name, string @default) => new("PipelineParameter", name, ("Default", @default));
    private static Decl Output(string name) => new("StepOutput", name);

    /// <summary>A CommandStep running <paramref name="script"/> under sh; the arguments become $1, $2, ...</summary>
    private static Decl Sh(string name, string script, string arguments = "", params (string Key, string Value)[] more) =>
        new("CommandStep", name, [("Command", $"sh -c '{script}' sh"), ("Arguments", arguments), .. more]);

    /// <summary>Writes the .mlproj and returns a task whose item parameters hold the same declarations.</summary>
    private RunPipeline Task(params Decl[] decls)
    {
        var xml = new StringBuilder();
        xml.AppendLine("<Project Sdk=\"PipelineSdk\">");
        xml.AppendLine("  <PropertyGroup>");
        xml.AppendLine("    <ExperimentName>exp</ExperimentName>");
        xml.AppendLine("  </PropertyGroup>");
        xml.AppendLine();
        xml.AppendLine("  <ItemGroup>");
        foreach (var d in decls)
            xml.AppendLine($"    <{d.Type} Include=\"{d.Name}\"{string.Concat(d.Metadata.Select(m => $" {m.Key}=\"{SecurityElement.Escape(m.Value)}\""))} />");
        xml.AppendLine("  </ItemGroup>");
        xml.AppendLine("</Project>");
        File.WriteAllText(ProjectFile, xml.ToString());

        ITaskItem[] Items(string type) => [.. decls.Where(d => d.Type == type).Select(d => new TaskItem(d.Name, d.Metadata.ToDictionary(m => m.Key, m => m.Value)))];
        return new RunPipeline
        {
            BuildEngine = _engine,
            ProjectFile = ProjectFile,
            ExperimentName = "exp",
            IntermediateDirectory = _dir["obj/pipeline"],
            PythonScriptSteps = Items("PythonScriptStep"),
            CommandSteps = Items("CommandStep"),
            FileDatasets = Items("FileDataset"),
            StepOutputs = Items("StepOutput"),
            PipelineParameters = Items("PipelineParameter"),
            ComputeTargets = Items("ComputeTarget"),
            Datastores = Items("Datastore"),
            Environments = Items("Environment"),
        };
    }

    /// <summary>The line of the <paramref name="occurrence"/>th element declaring <paramref name="name"/> in the .mlproj.</summary>
    private int LineOf(string type, string name, int occurrence = 1)
    {
        var lines = File.ReadAllLines(ProjectFile);
        var found = Enumerable.Range(0, lines.Length).Where(i => lines[i].Contains($"<{type} Include=\"{name}\"")).ToList();
        return found[occurrence - 1] + 1;
    }

    private BuildErrorEventArgs SingleError(string code)
    {
        var errors = _engine.Errors.Where(e => e.Code == code).ToList();
        Assert.True(errors.Count == 1, $"expected one {code}:{Environment.NewLine}{_engine.Log}");
        return errors[0];
    }

    private IReadOnlyList<PipelineRunRecord> PipelineRuns()
    {
        if (!File.Exists(_dir["ws/runs.db"])) return [];
        using var history = RunHistory.Open(_dir["ws/runs.db"]);
        return history.PipelineRuns();
    }

    private string HighMessages => string.Join("\n", _engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message));

    /// <summary>write: puts the learning rate into result/value.txt.</summary>
    private Decl[] WritesLearningRate() =>
    [
        Param("learning_rate", "0.1"),
        Output("result"),
        Sh("write", "echo \"$1\" > \"$2/value.txt\"", "{param:learning_rate} {output:result}"),
    ];

    private string ResultOf(string runId) => File.ReadAllText(Path.Combine(OutputsFolder, $"{runId}-write", "result", "value.txt")).Trim();

    [Fact]
    public void UnknownInputIsLoggedAtTheLineOfItsStep()
    {
        var task = Task(
            Output("model"),
            Sh("prep", "true", "{output:model}"),
            Sh("train", "true", "--data {input:raw_dta} --model {input:model}"));

        var ok = task.Execute();

        Assert.False(ok);
        var e = SingleError(Codes.UnknownInput);
        Assert.Equal(ProjectFile, e.File);
        Assert.Equal(LineOf("CommandStep", "train"), e.LineNumber);
        Assert.True(e.ColumnNumber > 0);
        Assert.Contains("'raw_dta'", e.Message);
        Assert.Contains("'train'", e.Message);
        Assert.Single(_engine.Errors);
        Assert.Equal("", task.RunId);
        Assert.False(File.Exists(_dir["ws/runs.db"]));
    }

    [Fact]
    public void DuplicateStepNamesPointAtTheSecondDeclaration()
    {
        var task = Task(
            Sh("train", "echo one"),
            Sh("other", "true"),
            Sh("train", "echo two"));

        Assert.False(task.Execute());

        var e = SingleError(Codes.DuplicateName);
        Assert.Equal(ProjectFile, e.File);
        Assert.Equal(LineOf("CommandStep", "train", occurrence: 2), e.LineNumber);
        Assert.NotEqual(LineOf("CommandStep", "train", occurrence: 1), e.LineNumber);
        Assert.Contains("'train'", e.Message);
    }

    [Fact]
    public void StepsOfBothKindsWithOneNameAreDuplicates()
    {
        _dir.WriteFile("steps/train/train.py", "print(1)\n");
        var task = Task(
            new Decl("PythonScriptStep", "train", ("SourceDirectory", "steps/train"), ("ScriptName", "train.py")),
            Sh("train", "true"));

        Assert.False(task.Execute());

        var e = SingleError(Codes.DuplicateName);
        Assert.Equal(LineOf("CommandStep", "train"), e.LineNumber);
    }

    [Fact]
    public void AllowReuseThatIsNotABooleanIsBadMetadata()
    {
        var task = Task(Sh("a", "true", "", ("AllowReuse", "maybe")));

        Assert.False(task.Execute());

        var e = SingleError(Codes.InvalidMetadata);
        Assert.Equal(ProjectFile, e.File);
        Assert.Equal(LineOf("CommandStep", "a"), e.LineNumber);
        Assert.Contains("'maybe'", e.Message);
        Assert.Contains("AllowReuse", e.Message);
        Assert.Empty(PipelineRuns());
    }

    [Fact]
    public void MaxNodesThatIsNotANumberIsBadMetadata()
    {
        var task = Task(new Decl("ComputeTarget", "cpu", ("Kind", "Local"), ("MaxNodes", "two")), Sh("a", "true", "", ("Compute", "cpu")));

        Assert.False(task.Execute());

        var e = SingleError(Codes.InvalidMetadata);
        Assert.Equal(LineOf("ComputeTarget", "cpu"), e.LineNumber);
        Assert.Contains("'two'", e.Message);
    }

    [Theory]
    [InlineData("Kind", "AmlCompute", "use Local, Docker or Slurm")]
    [InlineData("Memory", "lots", "512M, 4G")]
    [InlineData("TimeLimit", "soon", "hh:mm:ss")]
    [InlineData("Cpus", "-1", "above 0")]
    public void ComputeTargetMetadataThatCannotBeReadIsBadMetadata(string metadata, string value, string advice)
    {
        var task = Task(new Decl("ComputeTarget", "cpu", (metadata, value)), Sh("a", "true", "", ("Compute", "cpu")));

        Assert.False(task.Execute());

        var e = SingleError(Codes.InvalidMetadata);
        Assert.Equal(LineOf("ComputeTarget", "cpu"), e.LineNumber);
        Assert.Contains($"'{value}'", e.Message);
        Assert.Contains(advice, e.Message);
        Assert.Empty(PipelineRuns());
    }

    [Fact]
    public void StepInAnUndeclaredEnvironmentIsReportedWithTheCatalogue()
    {
        var task = Task(Sh("a", "true", "", ("Environment", "sklearn-9")));

        Assert.False(task.Execute());

        var e = SingleError(Codes.UnknownEnvironment);
        Assert.Equal(LineOf("CommandStep", "a"), e.LineNumber);
        Assert.Contains("'sklearn-9'", e.Message);
        Assert.Contains("python-3.11", e.Message);
        Assert.Empty(PipelineRuns());
    }

    [Fact]
    public void DockerStepNeedsAnEnvironmentWithAnImage()
    {
        var task = Task(
            new Decl("ComputeTarget", "engine", ("Kind", "Docker")),
            new Decl("Environment", "venv-only", ("PipPackages", "numpy")),
            Sh("bare", "true", "", ("Compute", "engine")),
            Sh("no_image", "echo 2", "", ("Compute", "engine"), ("Environment", "venv-only")),
            Sh("curated", "echo 3", "", ("Compute", "engine"), ("Environment", "python-3.11")));

        Assert.False(task.Execute());

        var errors = _engine.Errors.Where(e => e.Code == Codes.EnvironmentNeedsImage).ToList();
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Message!.Contains("'bare'") && e.Message.Contains("is not set") && e.LineNumber == LineOf("CommandStep", "bare"));
        Assert.Contains(errors, e => e.Message!.Contains("'no_image'") && e.Message.Contains("'venv-only' has no BaseImage"));
        Assert.Empty(PipelineRuns());
    }

    [Fact]
    public void EnvironmentThatIsUserManagedAndListsPackagesIsBadMetadata()
    {
        var task = Task(
            new Decl("Environment", "contradiction", ("UserManagedDependencies", "true"), ("PipPackages", "pandas==2.2.3;numpy>=1,<2")),
            Sh("a", "true", "", ("Environment", "contradiction")));

        Assert.False(task.Execute());

        var e = SingleError(Codes.InvalidMetadata);
        Assert.Equal(LineOf("Environment", "contradiction"), e.LineNumber);
        Assert.Contains("never be installed", e.Message);
    }

    [Fact]
    public void ParameterDefaultIsUsedWithoutAGlobalProperty()
    {
        var task = Task(WritesLearningRate());

        Assert.True(task.Execute(), _engine.Log);

        Assert.Equal("0.1", ResultOf(task.RunId));
    }

    [Fact]
    public void GlobalPropertyWithTheParametersNameOverridesItsDefault()
    {
        _engine.GlobalProperties["LEARNING_RATE"] = "0.2";
        _engine.GlobalProperties["Configuration"] = "Release";
        var task = Task(WritesLearningRate());

        Assert.True(task.Execute(), _engine.Log);

        Assert.Equal("0.2", ResultOf(task.RunId));
        var run = Assert.Single(PipelineRuns());
        Assert.Equal(task.RunId, run.Id);
        Assert.Equal(new Dictionary<string, string> { ["learning_rate"] = "0.2" }, run.Parameters);
    }

    [Fact]
    public void ValidateOnlyRunsNoStepAndCreatesNoRun()
    {
        var task = Task(WritesLearningRate());
        task.ValidateOnly = true;

        Assert.True(task.Execute(), _engine.Log);

        Assert.Equal("", task.RunId);
        Assert.Empty(_engine.Errors);
        Assert.False(Directory.Exists(_dir["ws"]));
        Assert.DoesNotContain("running", HighMessages);
    }

    [Fact]
    public void ValidateOnlyStillReportsMistakes()
    {
        var task = Task(Sh("a", "true", "{param:missing}"));
        task.ValidateOnly = true;

        Assert.False(task.Execute());

        var e = SingleError(Codes.UnknownParameter);
        Assert.Equal(LineOf("CommandStep", "a"), e.LineNumber);
    }

    [Fact]
    public void FailIfNotIncrementalFailsOnANeverRunPipelineAndRunsNothing()
    {
        var task = Task(WritesLearningRate());
        task.FailIfNotIncremental = true;

        Assert.False(task.Execute());

        var e = SingleError(Codes.NotUpToDate);
        Assert.Equal(LineOf("CommandStep", "write"), e.LineNumber);
        Assert.Contains("'write'", e.Message);
        Assert.Contains("1 step(s) would run", e.Message);
        Assert.Equal("", task.RunId);
        Assert.Empty(PipelineRuns());
        Assert.False(Directory.Exists(OutputsFolder) && Directory.EnumerateFileSystemEntries(OutputsFolder).Any());
    }

    [Fact]
    public void FailIfNotIncrementalSucceedsAfterARealRun()
    {
        var real = Task(WritesLearningRate());
        Assert.True(real.Execute(), _engine.Log);

        var question = Task(WritesLearningRate());
        question.FailIfNotIncremental = true;

        Assert.True(question.Execute(), _engine.Log);
        Assert.Empty(_engine.Errors);
        Assert.Equal("", question.RunId);
        Assert.Equal([real.RunId], PipelineRuns().Select(r => r.Id));
        Assert.Contains("PipelineSdk: exp dry run: 1 steps, 0 would run, 1 would be reused", HighMessages);
    }

    [Fact]
    public void FailIfNotIncrementalFailsWhenAParameterChanged()
    {
        Assert.True(Task(WritesLearningRate()).Execute(), _engine.Log);
        _engine.GlobalProperties["learning_rate"] = "0.3";

        var question = Task(WritesLearningRate());
        question.FailIfNotIncremental = true;

        Assert.False(question.Execute());
        var e = SingleError(Codes.NotUpToDate);
        Assert.Contains("parameter learning_rate 0.1 → 0.3", e.Message);
    }

    [Fact]
    public void SummaryLineIsLogged()
    {
        var first = Task(WritesLearningRate());
        Assert.True(first.Execute(), _engine.Log);

        Assert.Matches("^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$", first.RunId);
        Assert.Contains($"PipelineSdk: exp run {first.RunId}: 1 steps, 1 ran, 0 reused, 0 failed", HighMessages.Split('\n'));
        Assert.Contains("write: running (no earlier run)", HighMessages.Split('\n'));

        var second = Task(WritesLearningRate());
        Assert.True(second.Execute(), _engine.Log);

        Assert.NotEqual(first.RunId, second.RunId);
        Assert.Contains($"PipelineSdk: exp run {second.RunId}: 1 steps, 0 ran, 1 reused, 0 failed", HighMessages.Split('\n'));
        Assert.Contains($"write: reused from run {first.RunId}", HighMessages.Split('\n'));
    }

    [Fact]
    public void FailingStepLogsItsExitCodeAndStderrTail()
    {
        var task = Task(
            Output("o"),
            Output("after_o"),
            Sh("bad", "echo working; echo first line >&2; echo boom >&2; exit 3", "{output:o}"),
            Sh("after", "cp -r \"$1\" \"$2\"", "{input:o} {output:after_o}"),
            Sh("fine", "true"));

        Assert.False(task.Execute());

        var e = SingleError(Codes.StepFailed);
        Assert.Equal(ProjectFile, e.File);
        Assert.Equal(LineOf("CommandStep", "bad"), e.LineNumber);
        Assert.Contains("Step 'bad' failed with exit code 3", e.Message);
        Assert.Contains($"first line{Environment.NewLine}boom", e.Message);
        Assert.DoesNotContain("working", e.Message);
        Assert.Single(_engine.Errors);
        Assert.Contains("after: skipped (upstream step 'bad' failed)", HighMessages.Split('\n'));
        Assert.Contains($"PipelineSdk: exp run {task.RunId}: 3 steps, 1 ran, 0 reused, 1 failed", HighMessages.Split('\n'));
        Assert.Equal(RunStatus.Failed, Assert.Single(PipelineRuns()).Status);
    }

    [Fact]
    public void FailingStepThatWritesNothingToStderrSaysSo()
    {
        var task = Task(Sh("quiet", "exit 2"));

        Assert.False(task.Execute());

        var e = SingleError(Codes.StepFailed);
        Assert.Contains("exit code 2", e.Message);
        Assert.Contains("It wrote nothing to stderr.", e.Message);
    }

    [Fact]
    public void DryRunRunsNothingAndSaysWhatWouldRun()
    {
        var task = Task(WritesLearningRate());
        task.DryRun = true;

        Assert.True(task.Execute(), _engine.Log);

        Assert.Equal("", task.RunId);
        Assert.Empty(PipelineRuns());
        Assert.Contains("write: would run (no earlier run)", HighMessages.Split('\n'));
        Assert.Contains("PipelineSdk: exp dry run: 1 steps, 1 would run, 0 would be reused", HighMessages.Split('\n'));
    }

    [Fact]
    public void RebuildRunsEveryStepAgain()
    {
        Assert.True(Task(WritesLearningRate()).Execute(), _engine.Log);
        var task = Task(WritesLearningRate());
        task.Rebuild = true;

        Assert.True(task.Execute(), _engine.Log);

        Assert.Contains($"PipelineSdk: exp run {task.RunId}: 1 steps, 1 ran, 0 reused, 0 failed", HighMessages.Split('\n'));
        Assert.Contains("write: running (Rebuild requested)", HighMessages.Split('\n'));
    }

    [Fact]
    public void ForceStepsRunsTheNamedStepOnly()
    {
        Decl[] decls = [.. WritesLearningRate(), Sh("other", "echo other")];
        Assert.True(Task(decls).Execute(), _engine.Log);
        var task = Task(decls);
        task.ForceSteps = ["other"];

        Assert.True(task.Execute(), _engine.Log);

        Assert.Contains($"PipelineSdk: exp run {task.RunId}: 2 steps, 1 ran, 1 reused, 0 failed", HighMessages.Split('\n'));
        Assert.Contains("other: running (forced by ForceSteps)", HighMessages.Split('\n'));
    }

    [Fact]
    public void ErrorsNameTheProjectFileWhenItCannotBeReadForLines()
    {
        var task = Task(Sh("a", "true", "{input:nope}"));
        File.WriteAllText(ProjectFile, "<Project><ItemGroup><CommandStep Include=\"a\"");

        Assert.False(task.Execute());

        var e = SingleError(Codes.UnknownInput);
        Assert.Equal(ProjectFile, e.File);
        Assert.Equal(0, e.LineNumber);
    }

    [Fact]
    public void PythonScriptStepRunsWithTheGivenInterpreter()
    {
        _dir.WriteFile("steps/hello/hello.py", "import sys, pathlib\npathlib.Path(sys.argv[1], 'out.txt').write_text('hello from ' + sys.argv[2])\n");
        var task = Task(
            Output("greeting"),
            Param("who", "tests"),
            new Decl("PythonScriptStep", "hello", ("SourceDirectory", "steps/hello"), ("ScriptName", "hello.py"), ("Arguments", "{output:greeting} {param:who}")));
        task.PythonExecutable = "python3";

        Assert.True(task.Execute(), _engine.Log);

        Assert.Equal("hello from tests", File.ReadAllText(Path.Combine(OutputsFolder, $"{task.RunId}-hello", "greeting", "out.txt")));
    }

    /// <summary>Starts the task on another thread and cancels it once <paramref name="step"/> has started.</summary>
    private bool ExecuteAndCancelWhenRunning(RunPipeline task, string step)
    {
        var running = System.Threading.Tasks.Task.Run(task.Execute);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_engine.Messages.ToArray().Any(m => m.Message?.StartsWith($"{step}: running") == true))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{step} did not start:{Environment.NewLine}{_engine.Log}");
            Thread.Sleep(20);
        }
        task.Cancel();
        Assert.True(running.Wait(TimeSpan.FromSeconds(10)), "the task did not stop after Cancel");
        return running.Result;
    }

    [Fact]
    public void CancelStopsTheRunningStepAndKeepsNothingOfIt()
    {
        var task = Task(Output("o"), Sh("slow", "sleep 30; echo late > \"$1/f.txt\"", "{output:o}"));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var ok = ExecuteAndCancelWhenRunning(task, "slow");

        Assert.False(ok);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        var warning = Assert.Single(_engine.Warnings);
        Assert.Contains("cancelled", warning.Message);
        Assert.Empty(_engine.Errors);
        Assert.False(Directory.Exists(OutputsFolder) && Directory.EnumerateFileSystemEntries(OutputsFolder).Any());
        var staging = _dir["ws/datastore/.staging"];
        Assert.False(Directory.Exists(staging) && Directory.EnumerateFileSystemEntries(staging).Any());
    }

    [Fact]
    public void CancelledRunIsNotLeftRunning()
    {
        var task = Task(Output("o"), Sh("slow", "sleep 30; echo late > \"$1/f.txt\"", "{output:o}"));

        Assert.False(ExecuteAndCancelWhenRunning(task, "slow"));

        var run = Assert.Single(PipelineRuns());
        Assert.NotEqual(RunStatus.Running, run.Status);
        Assert.NotNull(run.Ended);
    }

    [Fact]
    public void DuplicateParameterOverriddenOnTheCommandLineIsReportedNotThrown()
    {
        _engine.GlobalProperties["learning_rate"] = "0.2";
        var task = Task([.. WritesLearningRate(), Param("learning_rate", "0.5")]);

        Assert.False(task.Execute());

        var e = SingleError(Codes.DuplicateName);
        Assert.Equal(LineOf("PipelineParameter", "learning_rate", occurrence: 2), e.LineNumber);
    }
}
