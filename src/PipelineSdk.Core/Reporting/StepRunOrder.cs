using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Reporting;

public static class StepRunOrder
{
    /// <summary>
    /// Step runs in the order they started, those that never started (skipped) last: the order a person reads a run in.
    /// (The run history orders by start time with never-started ones first.)
    /// </summary>
    public static IReadOnlyList<StepRunRecord> Chronological(IEnumerable<StepRunRecord> stepRuns) =>
        [.. stepRuns.OrderBy(s => s.Started ?? DateTimeOffset.MaxValue).ThenBy(s => s.Id, StringComparer.Ordinal)];
}
