using System.Text.Json.Nodes;
using PipelineSdk.Core.Reporting;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Output;

// The --json shapes. Property names are serialized camelCase and are a contract with scripts: add fields, never rename.

internal sealed record GitJson(string? Repository, string? Branch, string Commit, bool Dirty)
{
    public static GitJson? From(GitState? git) => git is null ? null : new(git.Repository, git.Branch, git.Commit, git.Dirty);
}

internal sealed record StepCountsJson(int Total, int Ran, int Reused, int Failed, int Skipped)
{
    public static StepCountsJson From(StepCounts c) => new(c.Total, c.Ran, c.Reused, c.Failed, c.Skipped);
}

/// <summary>One pipeline run in <c>mlp runs list --json</c>.</summary>
internal sealed record RunJson(
    string Id, string Experiment, string Project, string Status, DateTimeOffset Started, DateTimeOffset? Ended, double? DurationSeconds,
    StepCountsJson StepCounts, IReadOnlyDictionary<string, string> Parameters, GitJson? Git, string? Summary)
{
    public static RunJson From(PipelineRunRecord run, IReadOnlyCollection<StepRunRecord> stepRuns) => new(
        run.Id, run.Experiment, run.Project, run.Status, run.Started.ToUniversalTime(), run.Ended?.ToUniversalTime(),
        Display.Seconds(run.Started, run.Ended), StepCountsJson.From(Core.Reporting.StepCounts.Of(stepRuns)), Sorted(run.Parameters), GitJson.From(run.Git), run.Summary);

    public static SortedDictionary<string, string> Sorted(IReadOnlyDictionary<string, string> values) => new(values.ToDictionary(), StringComparer.Ordinal);
}

internal sealed record OutputJson(string Datastore, string Path, string Hash, int Files);

/// <summary>One step run in <c>mlp runs show --json</c>.</summary>
internal sealed record StepRunJson(
    string Step, string Id, string Status, bool Ran, bool Reused, string? ReusedFrom, string Reason, string? Compute, int? ExitCode,
    DateTimeOffset? Started, DateTimeOffset? Ended, double? DurationSeconds, string? LogPath, string? Fingerprint, string? Snapshot,
    IReadOnlyDictionary<string, OutputJson> Outputs)
{
    public static StepRunJson From(StepRunRecord r) => new(
        r.Step, r.Id, r.Status, r.Ran, StepStatuses.Of(r) == StepStatus.Reused, r.ReusedFrom, r.Reason, r.Compute, r.ExitCode,
        r.Started?.ToUniversalTime(), r.Ended?.ToUniversalTime(), Display.Seconds(r.Started, r.Ended), r.LogPath, r.Fingerprint, r.Snapshot,
        new SortedDictionary<string, OutputJson>(r.Outputs.ToDictionary(o => o.Key, o => new OutputJson(o.Value.Datastore, o.Value.Path, o.Value.Hash, o.Value.Files.Count)), StringComparer.Ordinal));
}

/// <summary><c>mlp runs show --json</c>: the run as in the list, with its steps.</summary>
internal sealed record RunDetailJson(
    string Id, string Experiment, string Project, string Status, DateTimeOffset Started, DateTimeOffset? Ended, double? DurationSeconds,
    StepCountsJson StepCounts, IReadOnlyDictionary<string, string> Parameters, GitJson? Git, string? Summary, string? SdkVersion, IReadOnlyList<StepRunJson> Steps)
{
    public static RunDetailJson From(PipelineRunRecord run, IReadOnlyList<StepRunRecord> stepRuns)
    {
        var r = RunJson.From(run, stepRuns);
        return new(r.Id, r.Experiment, r.Project, r.Status, r.Started, r.Ended, r.DurationSeconds, r.StepCounts, r.Parameters, r.Git, r.Summary, run.SdkVersion,
            [.. stepRuns.Select(StepRunJson.From)]);
    }
}

/// <summary>One logged point in <c>mlp metrics --json</c>; <see cref="Value"/> is the value as the step logged it (any JSON).</summary>
internal sealed record MetricPointJson(string Run, string Step, string Name, string Kind, JsonNode? Value, DateTimeOffset Logged, int Seq);

internal sealed record MetricsJson(IReadOnlyList<string> Runs, IReadOnlyList<MetricPointJson> Metrics);

internal sealed record DagLastRunJson(string Run, string StepRun);

internal sealed record DagNodeJson(string Id, string Name, string Kind, string? Status, string? Path, int Column, DagLastRunJson? LastRun);

internal sealed record DagEdgeJson(string From, string To, string Kind, string? Label);

/// <summary><c>mlp dag --json</c>: nodes (steps and datasets) and edges as drawn, and the order steps would run in.</summary>
internal sealed record DagJson(
    string Project, string Experiment, string? Workspace, IReadOnlyList<DagNodeJson> Nodes, IReadOnlyList<DagEdgeJson> Edges, IReadOnlyList<string> Order);

/// <summary><c>mlp datasets list --json</c>: one entry per registered dataset, about its latest version.</summary>
internal sealed record DatasetJson(string Name, int LatestVersion, int Versions, int Files, string Hash, string Datastore, string Source, DateTimeOffset Registered);

/// <summary><c>mlp datasets show --json</c>: one version and its files.</summary>
internal sealed record DatasetVersionJson(
    string Name, int Version, IReadOnlyList<int> Versions, string Hash, string Datastore, string Source, DateTimeOffset Registered, IReadOnlyList<DatasetFileJson> Files);

internal sealed record DatasetFileJson(string Path, string Hash);

/// <summary><c>mlp gc --json</c>.</summary>
internal sealed record GcJson(bool DryRun, int KeptRuns, int CollectedRuns, long Bytes, IReadOnlyList<GcItemJson> Removed, IReadOnlyList<string> Skipped);

internal sealed record GcItemJson(string Kind, string Path, long Bytes);
