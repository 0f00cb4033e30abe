using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Reporting;

/// <summary>Where one step's output of a pipeline run is: its std_log.txt (null when it has none, e.g. skipped) and its record once it has one.</summary>
public sealed record StepLog(string Step, string? Path, StepRunRecord? Record);

/// <summary>
/// The logs of a pipeline run's steps. A step run is recorded only when it ends, so while a run goes on its running
/// steps are found by their log file, which the engine writes from the first line on at
/// <see cref="PipelineWorkspace.StepLogPath"/> of <c>&lt;run id&gt;-&lt;step&gt;</c>. A reused step's log is the reused run's.
/// </summary>
public static class StepLogs
{
    public static IReadOnlyList<StepLog> Of(RunHistory history, PipelineWorkspace workspace, string runId)
    {
        var logs = StepRunOrder.Chronological(history.StepRuns(runId)).Select(r => (Log: new StepLog(r.Step, r.LogPath, r), Started: r.Started)).ToList();
        var recorded = logs.Select(l => l.Log.Step).ToHashSet(StringComparer.Ordinal);
        var folder = workspace.LogsRoot;
        var prefix = runId + "-";
        if (Directory.Exists(folder))
            logs.AddRange(Directory.EnumerateDirectories(folder, prefix + "*")
                .Select(d => (Step: Path.GetFileName(d)[prefix.Length..], Path: workspace.StepLogPath(Path.GetFileName(d))))
                .Where(x => !recorded.Contains(x.Step) && File.Exists(x.Path))
                .Select(x => (new StepLog(x.Step, x.Path, null), (DateTimeOffset?)new DateTimeOffset(File.GetCreationTimeUtc(x.Path), TimeSpan.Zero))));
        // In the order the steps started; steps that never started (skipped) last.
        return logs.OrderBy(l => l.Started ?? DateTimeOffset.MaxValue).ThenBy(l => l.Log.Step, StringComparer.Ordinal).Select(l => l.Log).ToList();
    }
}
