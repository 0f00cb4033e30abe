using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Reporting;

/// <summary>What the steps of one pipeline run did, counted from its step runs the way the build's summary line counts.</summary>
public sealed record StepCounts(int Total, int Ran, int Reused, int Failed, int Skipped)
{
    public static StepCounts Of(IReadOnlyCollection<StepRunRecord> stepRuns)
    {
        var statuses = stepRuns.Select(StepStatuses.Of).ToList();
        return new StepCounts(
            stepRuns.Count,
            statuses.Count(s => s == StepStatus.Succeeded),
            statuses.Count(s => s == StepStatus.Reused),
            statuses.Count(s => s == StepStatus.Failed),
            statuses.Count(s => s == StepStatus.Skipped));
    }
}
