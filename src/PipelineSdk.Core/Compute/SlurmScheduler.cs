using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>A batch job as PipelineSdk submits it: the script (also written at <paramref name="ScriptPath"/>) runs in the step's working folder, output to files on the shared path.</summary>
public sealed record SlurmJob(
    string Name, string Comment, string ScriptPath, string Script, string WorkingDirectory, string OutputFile, string ErrorFile, string? Partition,
    StepResources Resources, IReadOnlyDictionary<string, string> Environment);

/// <summary>
/// A job's state as the scheduler reports it. <see cref="ExitCode"/> is the script's exit status and <see cref="Signal"/>
/// the signal that ended it, whatever the API (the REST API's raw wait status is decoded).
/// </summary>
public sealed record SlurmJobState(string State, int ExitCode, int Signal, string? Nodes, string? Reason)
{
    public bool Finished => State is not ("PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING" or "SUSPENDED" or "REQUEUED" or "RESIZING" or "SIGNALING" or "STAGE_OUT");
}

/// <summary>The two ways to talk to Slurm: slurmrestd, or the sbatch/scontrol/scancel commands.</summary>
public interface ISlurmScheduler
{
    /// <summary>Throws <see cref="ComputeException"/> when the cluster cannot be reached or has no such partition.</summary>
    Task CheckAsync(string? partition, CancellationToken cancel);

    /// <summary>The job's id; throws <see cref="ComputeException"/> with the scheduler's words when it rejects the job.</summary>
    Task<string> SubmitAsync(SlurmJob job, CancellationToken cancel);

    Task<SlurmJobState> StateAsync(string jobId, CancellationToken cancel);

    Task CancelAsync(string jobId);

    /// <summary>Cancels the jobs still queued or running whose comment is <paramref name="comment"/> (a pipeline run's id).</summary>
    Task CancelByCommentAsync(string comment);

    /// <summary>What names the cluster in messages.</summary>
    string Describe { get; }
}
