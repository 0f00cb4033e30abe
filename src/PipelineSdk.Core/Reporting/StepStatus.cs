using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Reporting;

/// <summary>How a step last ended, as reports colour it. Reused is kept apart from Succeeded so a report can say which.</summary>
public enum StepStatus { NeverRun, Succeeded, Reused, Failed, Skipped }

public static class StepStatuses
{
    /// <summary>The status a recorded step run stands for; no record means the step never ran.</summary>
    public static StepStatus Of(StepRunRecord? run) => run?.Status switch
    {
        null => StepStatus.NeverRun,
        RunStatus.Succeeded => run.Ran ? StepStatus.Succeeded : StepStatus.Reused,
        RunStatus.Failed => StepStatus.Failed,
        RunStatus.Skipped => StepStatus.Skipped,
        // Step runs are recorded only when they end with one of the above; anything else is from a newer engine.
        _ => StepStatus.NeverRun,
    };

    /// <summary>The word reports print (and JSON carries) for a status.</summary>
    public static string Label(this StepStatus status) => status switch
    {
        StepStatus.Succeeded => "succeeded",
        StepStatus.Reused => "reused",
        StepStatus.Failed => "failed",
        StepStatus.Skipped => "skipped",
        _ => "never run",
    };

    /// <summary>
    /// The most recent step run of each of <paramref name="steps"/> in <paramref name="experiment"/>: the pipeline runs
    /// newest first, the first record of each step. Unlike <see cref="RunHistory.LatestStepRun"/> this counts skipped
    /// steps too, because a report shows the state the last run left the step in.
    /// </summary>
    public static IReadOnlyDictionary<string, StepRunRecord> Latest(RunHistory history, string experiment, IReadOnlyCollection<string> steps)
    {
        var latest = new Dictionary<string, StepRunRecord>(StringComparer.Ordinal);
        var wanted = steps.ToHashSet(StringComparer.Ordinal);
        foreach (var run in history.PipelineRuns("WHERE experiment = $e", ("$e", experiment)).Reverse())
        {
            foreach (var stepRun in history.StepRuns(run.Id))
                if (wanted.Contains(stepRun.Step)) latest.TryAdd(stepRun.Step, stepRun);
            if (latest.Count == wanted.Count) break;
        }
        return latest;
    }
}
