using PipelineSdk.Core.Environments;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Everything a compute target needs to run one step. Paths are the build machine's; targets that run elsewhere
/// (a container, a cluster node) see them at the same paths, through bind mounts or a shared file system.
/// </summary>
public sealed record StepLaunch
{
    public required string StepName { get; init; }
    /// <summary>The step run's id, also the name of its container or job.</summary>
    public required string StepRunId { get; init; }
    public required string PipelineRunId { get; init; }
    /// <summary>The script and its arguments when <see cref="RunsPython"/> (the target picks the interpreter), else the whole command.</summary>
    public required IReadOnlyList<string> Arguments { get; init; }
    public bool RunsPython { get; init; }
    /// <summary>The copy of the step's snapshot it runs in.</summary>
    public required string WorkingDirectory { get; init; }
    /// <summary>The step run's private folder (snapshot copy, laid-out inputs, metrics file, job files).</summary>
    public required string WorkDirectory { get; init; }
    /// <summary>Variables for the step; a null value removes one the build process has.</summary>
    public required IReadOnlyDictionary<string, string?> Variables { get; init; }
    /// <summary>The step's std_log.txt; build logs of its environment go next to it.</summary>
    public required string LogPath { get; init; }
    /// <summary>Folders the step reads (inputs, the files they link to, the step library).</summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];
    /// <summary>Folders the step writes (its working folder, its outputs' staging folders).</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];
    public ResolvedEnvironment? Environment { get; init; }
    public StepResources Resources { get; init; } = new();

    /// <summary>Every folder once, writable when the step writes it (a writable folder may lie inside a read-only one).</summary>
    public IEnumerable<(string Path, bool ReadOnly)> Mounts =>
        WritablePaths.Distinct().Select(p => (p, false)).Concat(ReadOnlyPaths.Distinct().Except(WritablePaths).Select(p => (p, true)));

    public string ImageBuildLogPath => Path.Combine(Path.GetDirectoryName(LogPath)!, "20_image_build_log.txt");
}

/// <summary>Where steps run: this machine, a Docker engine, a Slurm cluster.</summary>
public interface IComputeBackend : IAsyncDisposable
{
    /// <summary>Runs the step and returns how it ended; throws <see cref="ComputeException"/> when it cannot run there at all, and cancels cleanly (nothing left running).</summary>
    Task<ProcessOutcome> RunAsync(StepLaunch launch, StepLogWriter log, CancellationToken cancel);

    /// <summary>True when the target stops a step at its TimeLimit itself (Slurm); else the runner does.</summary>
    bool EnforcesTimeLimit { get; }

    /// <summary>Stops what a build that was killed (not cancelled) left running for <paramref name="pipelineRunId"/>: containers, jobs. Best effort: an unreachable target is skipped.</summary>
    Task RemoveLeftoversAsync(string pipelineRunId);
}

/// <summary>The step could not run on its compute target (unreachable, environment build failed, job rejected); the message says why and how to fix it.</summary>
public sealed class ComputeException(string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    /// <summary>Lines to show under the message (a build log's tail).</summary>
    public IReadOnlyList<string> Details { get; } = details ?? [];
}
