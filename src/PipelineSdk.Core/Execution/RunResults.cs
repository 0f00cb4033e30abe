using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Execution;

public enum StepOutcome { Ran, Reused, Failed, Skipped, WouldRun, WouldReuse }

public sealed record StepResult(
    string Step,
    StepOutcome Outcome,
    string Reason,
    string? StepRunId = null,
    string? ReusedFrom = null,
    int? ExitCode = null,
    IReadOnlyList<string>? StderrTail = null,
    TimeSpan Duration = default,
    string? LogPath = null,
    IReadOnlyList<string>? AllDifferences = null,
    IReadOnlyList<string>? TelemetryProblems = null);

public sealed record PipelineResult(string? RunId, string Experiment, IReadOnlyList<StepResult> Steps, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>Dataset versions this run registered (only new ones: unchanged content keeps its version).</summary>
    public IReadOnlyList<DatasetVersionRecord> Registered { get; init; } = [];

    public bool Succeeded => Diagnostics.All(d => d.IsWarning) && Steps.All(s => s.Outcome is not (StepOutcome.Failed or StepOutcome.Skipped));

    public int Count(StepOutcome outcome) => Steps.Count(s => s.Outcome == outcome);

    /// <summary>The line scripts and CI read; its shape is part of the product.</summary>
    public string SummaryLine =>
        $"PipelineSdk: {Experiment} run {RunId}: {Steps.Count} steps, {Count(StepOutcome.Ran)} ran, {Count(StepOutcome.Reused)} reused, {Count(StepOutcome.Failed)} failed";
}

/// <summary>What the engine tells its face (MSBuild task, CLI) while it works. Called from worker threads.</summary>
public interface IRunEvents
{
    void StepStarted(string step, string reason);
    void StepFinished(StepResult result);

    /// <summary>A line the step wrote to stdout or stderr (it is in the step's log file too).</summary>
    void StepOutput(string step, string line);

    /// <summary>A line about the run as a whole, such as what it waits for before any step can start.</summary>
    void RunNote(string line);

    /// <summary>Something the build should warn of while the step runs (a process it left behind), with its code; <paramref name="message"/> follows "Step 'name' ".</summary>
    void StepWarning(string step, string code, string message);
}

public sealed record RunOptions
{
    /// <summary>Run every step regardless of the cache (<c>-t:Rebuild</c>, Azure ML's regenerate_outputs).</summary>
    public bool Rebuild { get; init; }
    /// <summary>Decide, report and record nothing.</summary>
    public bool DryRun { get; init; }
    /// <summary>Steps run regardless of the cache.</summary>
    public IReadOnlySet<string> ForceSteps { get; init; } = new HashSet<string>();
    public string PythonExecutable { get; init; } = "python3";
    /// <summary>The step-side Python library's folder, put first on every step's PYTHONPATH.</summary>
    public string? StepLibraryPath { get; init; }
    /// <summary>The project's local build state (snapshots being run, working folders); <c>obj/pipeline</c>.</summary>
    public required string IntermediateDirectory { get; init; }
    public CancellationToken Cancellation { get; init; }
    /// <summary>The PipelineSdk version running the pipeline, recorded with the run.</summary>
    public string? SdkVersion { get; init; }
}
