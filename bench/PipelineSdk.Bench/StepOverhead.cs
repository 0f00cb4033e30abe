using System.Diagnostics;
using System.Text;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// 4. What running one trivial step costs beyond starting its process. Steps of a chain run one at a time,
/// so (rebuild − no-op build) / steps is the time per step, and minus a bare process spawn it is pure overhead:
/// fingerprint, run-history lookups and records, staging, commit, content store, log.
/// </summary>
public static class StepOverhead
{
    public const int Rebuilds = 3, NoOpBuilds = 7, Spawns = 100;

    public static IReadOnlyList<Row> Measure(Feed feed, Sizes sizes)
    {
        var steps = sizes.ChainSteps;
        var directory = Path.Combine(feed.Root, "chain");
        Directory.CreateDirectory(directory);
        var project = Path.Combine(directory, "c.mlproj");
        var items = new StringBuilder();
        for (var i = 0; i < steps; i++)
        {
            var command = i == 0 ? "echo 0" : $"cat {{input:o{i - 1}}}/x";
            items.AppendLine($"""    <StepOutput Include="o{i}" />""");
            items.AppendLine($$"""    <CommandStep Include="s{{i}}" Command="sh -c '{{command}} &gt; {output:o{{i}}}/x'" />""");
        }
        File.WriteAllText(project, $"<Project Sdk=\"PipelineSdk\">\n  <ItemGroup>\n{items}  </ItemGroup>\n</Project>\n");
        Say($"[4] chain of {steps} steps, each reading the previous one's output: {project}");

        var first = feed.Build(project, "-nologo", "-v:n", "-nodeReuse:false").ShouldSucceed("first build");
        if (Feed.Summary(first).Ran != steps) throw new InvalidOperationException($"the first build should run every step:\n{first.Output}");
        Say($"    first build: {S(first.Elapsed.TotalSeconds)}");

        // -t:Rebuild runs every step (Azure ML regenerate_outputs).
        var rebuilds = Enumerable.Range(0, Rebuilds)
            .Select(_ => feed.Build(project, ["-t:Rebuild", .. Feed.BuildFlags]).ShouldSucceed("rebuild").Elapsed.TotalSeconds).ToList();
        var recorded = Feed.LastRecordedSummary(directory);
        if (!recorded.Contains($"{steps} steps, {steps} ran, 0 reused")) throw new InvalidOperationException($"-t:Rebuild did not run every step: {recorded}");

        feed.Build(project, Feed.BuildFlags).ShouldSucceed("warm-up no-op build");
        var noOps = Enumerable.Range(0, NoOpBuilds)
            .Select(_ => feed.Build(project, Feed.BuildFlags).ShouldSucceed("no-op build").Elapsed.TotalSeconds).ToList();
        recorded = Feed.LastRecordedSummary(directory);
        if (!recorded.Contains($"{steps} steps, 0 ran, {steps} reused")) throw new InvalidOperationException($"the no-op builds ran steps: {recorded}");

        // The bare cost of what the step itself is: start `sh -c true` and wait for it (no pipes, no log).
        Spawn();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Spawns; i++) Spawn();
        var spawn = clock.Elapsed.TotalSeconds / Spawns;

        var (rebuild, noOp) = (Median(rebuilds), Median(noOps));
        var perStep = (rebuild - noOp) / steps;
        var overhead = perStep - spawn;
        Say($"    rebuild: {string.Join(" ", rebuilds.Select(S))}; no-op: {string.Join(" ", noOps.Select(S))}");
        Say($"    per step: {Ms(perStep)} in all, of which spawning sh -c true takes {Ms(spawn)} (mean of {Spawns})");
        return [new Row($"per-step overhead, {steps}-step chain", Ms(overhead), $"spawn {Ms(spawn)}", $"{overhead / spawn:0.0}x", "<= 15 ms", overhead * 1000 <= 15)];
    }

    private static void Spawn()
    {
        var start = new ProcessStartInfo("sh") { UseShellExecute = false, ArgumentList = { "-c", "true" } };
        using var process = Process.Start(start)!;
        process.WaitForExit();
    }
}
