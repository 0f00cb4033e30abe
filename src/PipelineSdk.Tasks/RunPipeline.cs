using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Tasks;

/// <summary>
/// Submits the pipeline declared by the project's items and waits for it: every step is reused or
/// run, and each says why. With <see cref="ValidateOnly"/> (design-time builds) it only checks the
/// project. Under <c>-question</c> it runs nothing and fails when any step would run.
/// </summary>
public sealed class RunPipeline : Microsoft.Build.Utilities.Task, IIncrementalTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly ManualResetEventSlim _executed = new();
    private volatile bool _terminated;
    private volatile bool _exiting;

    /// <summary>How long the process's exit waits for the steps to be stopped and their outputs removed.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The .mlproj; errors point into it and relative paths start from its folder.</summary>
    [Required] public string ProjectFile { get; set; } = "";

    /// <summary>The experiment runs are recorded under (Azure ML's <c>Experiment(ws, name)</c>).</summary>
    [Required] public string ExperimentName { get; set; } = "";

    /// <summary>The project's local build state folder (obj/pipeline): working copies of step snapshots.</summary>
    [Required] public string IntermediateDirectory { get; set; } = "";

    /// <summary><c>PythonScriptStep</c> items: SourceDirectory, ScriptName, Arguments, Inputs, Outputs, Parameters, AllowReuse, HashPaths, Compute, Environment, RunAfter.</summary>
    public ITaskItem[] PythonScriptSteps { get; set; } = [];

    /// <summary><c>CommandStep</c> items: Command plus the same metadata as a PythonScriptStep but ScriptName.</summary>
    public ITaskItem[] CommandSteps { get; set; } = [];

    /// <summary><c>DataTransferStep</c> items: Source (a dataset or output), Destination (an output, usually on another datastore).</summary>
    public ITaskItem[] DataTransferSteps { get; set; } = [];

    /// <summary><c>FileDataset</c> items: Path (folder or glob), Datastore, Mode, Register, Dataset.</summary>
    public ITaskItem[] FileDatasets { get; set; } = [];

    /// <summary><c>TabularDataset</c> items: a FileDataset's metadata plus Delimiter, Header, Encoding.</summary>
    public ITaskItem[] TabularDatasets { get; set; } = [];

    /// <summary><c>StepOutput</c> items: Datastore, Destination (with {run-id} and {output-name}).</summary>
    public ITaskItem[] StepOutputs { get; set; } = [];

    /// <summary><c>PipelineParameter</c> items: Default. A global property of the same name (<c>-p:name=value</c>) overrides it.</summary>
    public ITaskItem[] PipelineParameters { get; set; } = [];

    /// <summary><c>ComputeTarget</c> items: Kind (Local, Docker, Slurm), MaxNodes, resources, and the engine's or cluster's address.</summary>
    public ITaskItem[] ComputeTargets { get; set; } = [];

    /// <summary><c>Datastore</c> items: Kind, Path.</summary>
    public ITaskItem[] Datastores { get; set; } = [];

    /// <summary><c>Environment</c> items: Curated, BaseImage, CondaPackages, PipPackages, Variables, DockerfileLines, UserManagedDependencies.</summary>
    public ITaskItem[] Environments { get; set; } = [];

    /// <summary>Run every step regardless of earlier results (<c>-t:Rebuild</c>).</summary>
    public bool Rebuild { get; set; }

    /// <summary>Say per step what would run and why; run and record nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>The PipelineSdk version (<c>$(PipelineSdkVersion)</c>), recorded with every run.</summary>
    public string SdkVersion { get; set; } = "";

    /// <summary>Let symbolic links in sources, scripts, datasets and HashPaths lead out of the project folder.</summary>
    public bool AllowLinksOutsideProject { get; set; }

    /// <summary>Check the project only (design-time builds).</summary>
    public bool ValidateOnly { get; set; }

    /// <summary>Steps to run even when an earlier result could be reused.</summary>
    public string[] ForceSteps { get; set; } = [];

    /// <summary>The interpreter for PythonScriptSteps.</summary>
    public string PythonExecutable { get; set; } = "python3";

    /// <summary>The step-side Python library folder (<c>pipelinesdk</c>), put on every step's PYTHONPATH.</summary>
    public string StepLibraryPath { get; set; } = "";

    /// <summary>Seconds between progress lines while steps run (0: none).</summary>
    public int ProgressInterval { get; set; } = 10;

    /// <summary>Set by MSBuild under <c>-question</c>.</summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>The pipeline run's id (empty when nothing was submitted).</summary>
    [Output] public string RunId { get; set; } = "";

    public void Cancel() => _cancel.Cancel();

    public override bool Execute()
    {
        // SIGTERM (CI cancellation, timeout, docker stop) would end the process with the steps still running, their
        // outputs in place, and exit code 0. While the pipeline runs it is taken as Ctrl+C is. It arrives as the signal
        // where nothing else handles it (an MSBuild worker node), or as the process's exit: the dotnet CLI answers
        // SIGTERM with Environment.Exit(0), which runs ProcessExit handlers first.
        using var sigterm = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSigterm);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        try
        {
            var succeeded = Submit();
            if (!_terminated) return succeeded;
            const string stopped = "The build was stopped by SIGTERM: the steps still running were stopped and nothing of theirs was kept; the run is recorded as cancelled unless it had ended.";
            // While the process exits, MSBuild's loggers may not get to print a message logged now: it goes to stderr itself.
            if (_exiting) Console.Error.WriteLine($"{ProjectFile} : error {Codes.StoppedBySigterm}: {stopped}");
            else LogError(Codes.StoppedBySigterm, null, stopped);
            return false;
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            _executed.Set();
        }
    }

    private void OnSigterm(PosixSignalContext context)
    {
        context.Cancel = true; // the process goes on until the steps are stopped; MSBuild then ends the build, failed
        Terminate();
    }

    /// <summary>The process exits under the running pipeline: it waits until the steps are stopped, and exits 143 (SIGTERM's), not 0.</summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        _exiting = true;
        Terminate();
        _executed.Wait(StopTimeout);
        Environment.ExitCode = 128 + 15;
    }

    private void Terminate()
    {
        _terminated = true;
        _cancel.Cancel();
    }

    private bool Submit()
    {
        var items = new Dictionary<string, IReadOnlyList<ProjectItem>>
        {
            ["PythonScriptStep"] = ToItems(PythonScriptSteps),
            ["CommandStep"] = ToItems(CommandSteps),
            ["DataTransferStep"] = ToItems(DataTransferSteps),
            ["FileDataset"] = ToItems(FileDatasets),
            ["TabularDataset"] = ToItems(TabularDatasets),
            ["StepOutput"] = ToItems(StepOutputs),
            ["PipelineParameter"] = ToItems(PipelineParameters),
            ["ComputeTarget"] = ToItems(ComputeTargets),
            ["Datastore"] = ToItems(Datastores),
            ["Environment"] = ToItems(Environments),
        };
        var globals = BuildEngine is IBuildEngine6 engine ? engine.GetGlobalProperties() : new Dictionary<string, string>();
        var (pipeline, itemDiagnostics) = ProjectReader.Read(ProjectFile, ExperimentName, items, globals);
        pipeline = pipeline with { AllowLinksOutsideProject = AllowLinksOutsideProject };
        Report(itemDiagnostics);
        if (itemDiagnostics.Any(d => !d.IsWarning)) return false;

        var options = new RunOptions
        {
            Rebuild = Rebuild,
            DryRun = DryRun || FailIfNotIncremental,
            ForceSteps = ForceSteps.ToHashSet(StringComparer.Ordinal),
            PythonExecutable = PythonExecutable,
            StepLibraryPath = StepLibraryPath.Length > 0 ? Path.GetFullPath(StepLibraryPath) : null,
            IntermediateDirectory = IntermediateDirectory,
            Cancellation = _cancel.Token,
            SdkVersion = SdkVersion.Length > 0 ? SdkVersion : null,
        };

        // The engine reports from worker threads; MSBuild is logged to from this one.
        var events = new QueuedEvents();
        var run = System.Threading.Tasks.Task.Run(() =>
        {
            try { return PipelineRunner.Run(pipeline, options, events, ValidateOnly); }
            finally { events.Queue.CompleteAdding(); }
        });
        var progress = new Progress(pipeline.Steps.Count, TimeSpan.FromSeconds(ProgressInterval));
        while (!events.Queue.IsCompleted)
        {
            if (events.Queue.TryTake(out var report, TimeSpan.FromSeconds(1))) report(this, pipeline, progress);
            if (progress.Due() is { } line) Log.LogMessage(MessageImportance.High, line);
        }

        PipelineResult result;
        try
        {
            result = run.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            if (!_terminated) Log.LogWarning("PipelineSdk: the build was cancelled; running steps were stopped and nothing of theirs was kept.");
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            // The machine failed the engine (a full disk, a folder it may not write, a refused delete): a coded error, not a stack trace.
            LogError(Codes.EngineStopped, null, $"PipelineSdk could not go on: {e.Message} Free the disk or fix the folder's permissions and build again; the run is recorded as failed where the workspace could still be written, and nothing of an unfinished step was kept.");
            return false;
        }
        Report(result.Diagnostics);
        if (result.RunId is null) return !Log.HasLoggedErrors;

        RunId = options.DryRun ? "" : result.RunId;
        if (FailIfNotIncremental && result.Steps.FirstOrDefault(s => s.Outcome == StepOutcome.WouldRun) is { } stale)
        {
            var count = result.Count(StepOutcome.WouldRun);
            LogError(Codes.NotUpToDate, pipeline.Steps.First(s => s.Name == stale.Step).Location,
                $"The pipeline is not up to date: {count} step(s) would run, first '{stale.Step}' ({stale.Reason}). Build without -question to run them.");
            return false;
        }
        foreach (var version in result.Registered)
            Log.LogMessage(MessageImportance.High, $"PipelineSdk: registered dataset '{version.Name}' version {version.Version} from {version.Source}");
        if (options.DryRun)
            Log.LogMessage(MessageImportance.High, $"PipelineSdk: {ExperimentName} dry run: {result.Steps.Count} steps, {result.Count(StepOutcome.WouldRun)} would run, {result.Count(StepOutcome.WouldReuse)} would be reused");
        else
            Log.LogMessage(MessageImportance.High, result.SummaryLine);
        return !Log.HasLoggedErrors;
    }

    private sealed class QueuedEvents : IRunEvents
    {
        /// <summary>Bounded: a step printing faster than MSBuild logs waits for it rather than filling the memory.</summary>
        public BlockingCollection<Action<RunPipeline, Pipeline, Progress>> Queue { get; } = new(boundedCapacity: 1024);

        public void StepStarted(string step, string reason) => Queue.Add((task, _, progress) =>
        {
            progress.Started(step);
            task.Log.LogMessage(MessageImportance.High, $"{step}: running ({reason})");
        });

        public void StepFinished(StepResult result) => Queue.Add((task, pipeline, progress) =>
        {
            progress.Finished(result.Step);
            task.ReportStep(result, pipeline);
        });

        public void StepOutput(string step, string line) =>
            Queue.Add((task, _, _) => task.Log.LogMessage(MessageImportance.Low, $"{step}> {line}"));

        public void RunNote(string line) => Queue.Add((task, _, _) => task.Log.LogMessage(MessageImportance.High, $"PipelineSdk: {line}"));

        public void StepWarning(string step, string code, string message) => Queue.Add((task, pipeline, _) =>
        {
            var at = pipeline.Steps.First(s => s.Name == step).Location;
            task.Log.LogWarning(null, code, null, at?.File ?? task.ProjectFile, at?.Line ?? 0, at?.Column ?? 0, 0, 0, $"Step '{step}' {message}");
        });
    }

    /// <summary>One line now and then while steps run: what is running (for how long), done and waiting.</summary>
    private sealed class Progress(int total, TimeSpan interval)
    {
        private readonly Dictionary<string, DateTime> _running = [];
        private int _finished;
        private DateTime _next = DateTime.UtcNow + interval;

        public void Started(string step) => _running[step] = DateTime.UtcNow;

        public void Finished(string step)
        {
            _running.Remove(step);
            _finished++;
        }

        public string? Due()
        {
            var now = DateTime.UtcNow;
            if (interval <= TimeSpan.Zero || now < _next || _running.Count == 0) return null;
            _next = now + interval;
            var running = string.Join(", ", _running.OrderBy(r => r.Value).Select(r => $"{r.Key} ({(now - r.Value).TotalSeconds:0} s)"));
            return $"PipelineSdk: {_finished} of {total} steps done; running {running}; {total - _finished - _running.Count} waiting";
        }
    }

    private void ReportStep(StepResult r, Pipeline pipeline)
    {
        var step = pipeline.Steps.First(s => s.Name == r.Step);
        switch (r.Outcome)
        {
            case StepOutcome.Ran:
                Log.LogMessage(MessageImportance.High, $"{r.Step}: ran in {r.Duration.TotalSeconds:0.0} s ({r.Reason})");
                break;
            case StepOutcome.Reused:
                Log.LogMessage(MessageImportance.High, $"{r.Step}: {r.Reason}");
                break;
            case StepOutcome.WouldRun:
                Log.LogMessage(MessageImportance.High, $"{r.Step}: would run ({r.Reason})");
                break;
            case StepOutcome.WouldReuse:
                Log.LogMessage(MessageImportance.High, $"{r.Step}: would be {r.Reason}");
                break;
            case StepOutcome.Skipped:
                Log.LogMessage(MessageImportance.High, $"{r.Step}: skipped ({r.Reason})");
                break;
            case StepOutcome.Failed when r.ExitCode is null:
                // It never started (inputs, environment, compute target): the first line says why, the rest is detail (a build log's tail).
                var detail = r.StderrTail?.Skip(1).ToList() ?? [];
                LogError(Codes.StepFailed, step.Location,
                    $"Step '{r.Step}' could not start: {r.StderrTail?.FirstOrDefault()} (it ran because: {r.Reason}). Nothing of it was kept.{(detail.Count > 0 ? Environment.NewLine + string.Join(Environment.NewLine, detail) : "")}");
                break;
            case StepOutcome.Failed:
                var tail = r.StderrTail is { Count: > 0 } lines ? $" Last lines of stderr:{Environment.NewLine}{string.Join(Environment.NewLine, lines)}" : " It wrote nothing to stderr.";
                var how = r.ExitCode switch
                {
                    0 => "after its process exited 0",
                    < 0 => $"on its compute target: {r.StderrTail?.LastOrDefault()}",
                    var code => $"with exit code {code}",
                };
                LogError(Codes.StepFailed, step.Location,
                    $"Step '{r.Step}' failed {how} (it ran because: {r.Reason}). Its outputs were discarded; fix the step and build again. Log: {r.LogPath}.{tail}");
                break;
        }
        foreach (var problem in r.TelemetryProblems ?? [])
            Log.LogWarning(null, Codes.TelemetryUnreadable, null, step.Location?.File ?? ProjectFile, step.Location?.Line ?? 0, step.Location?.Column ?? 0, 0, 0,
                $"Step '{r.Step}' reported something that could not be read ({problem}); it was left out of the run history. Write one JSON object per line as the README's step protocol says.");
        if (r.AllDifferences is { Count: > 0 } all)
            Log.LogMessage(MessageImportance.Low, $"{r.Step}: fingerprint fields that differ from its most recent run: {string.Join("; ", all.Take(50))}{(all.Count > 50 ? $"; and {all.Count - 50} more" : "")}");
    }

    private static IReadOnlyList<ProjectItem> ToItems(ITaskItem[] items) => [.. items.Select(item =>
    {
        var custom = item.CloneCustomMetadata();
        return new ProjectItem(item.ItemSpec, custom.Keys.Cast<string>().ToDictionary(k => k, k => (string)custom[k]!, StringComparer.OrdinalIgnoreCase));
    })];

    private void Report(IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            if (d.IsWarning)
                Log.LogWarning(null, d.Code, null, d.Location?.File ?? ProjectFile, d.Location?.Line ?? 0, d.Location?.Column ?? 0, 0, 0, d.Message);
            else
                LogError(d.Code, d.Location, d.Message);
        }
    }

    private void LogError(string code, SourceLocation? at, string message) =>
        Log.LogError(null, code, null, at?.File ?? ProjectFile, at?.Line ?? 0, at?.Column ?? 0, 0, 0, message);
}
