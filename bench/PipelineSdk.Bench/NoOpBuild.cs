using System.Text;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// 3. A no-op `dotnet build` of a pipeline whose every step is reused, against a no-op build of an empty
/// MSBuild project (the issue's reference) and of an empty project on the PipelineSdk package (the same MSBuild
/// work of resolving and evaluating an SDK, without the pipeline): what PipelineSdk adds to "nothing to do" (load
/// the task, fingerprint the inputs, look every step up in the run history). The inputs are one big file and many
/// small ones.
/// </summary>
public static class NoOpBuild
{
    public const int Builds = 7;

    public static IReadOnlyList<Row> Measure(Feed feed, string bigFile, Sizes sizes)
    {
        var directory = Path.Combine(feed.Root, "noop");
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(data);
        // The bytes of measurement 1, linked rather than copied: a second GiB on disk and in the page cache buys nothing.
        Run("ln", [bigFile, Path.Combine(data, "big.bin")]).ShouldSucceed("ln");
        var small = WriteSmallFiles(Path.Combine(data, "small"), sizes.NoOpSmallFolders, seed: 3);
        AgeFiles(data);

        var project = Path.Combine(directory, "p.mlproj");
        var items = new StringBuilder();
        items.AppendLine("""    <FileDataset Include="big" Path="data/big.bin" />""");
        items.AppendLine("""    <FileDataset Include="small" Path="data/small" />""");
        for (var n = 0; n < sizes.NoOpSteps; n++)
        {
            items.AppendLine($"""    <StepOutput Include="o{n}" />""");
            items.AppendLine($$"""    <CommandStep Include="s{{n}}" Command="sh -c 'echo {{n}} &gt; {output:o{{n}}}/x'" Inputs="big;small" />""");
        }
        File.WriteAllText(project, $"<Project Sdk=\"PipelineSdk\">\n  <ItemGroup>\n{items}  </ItemGroup>\n</Project>\n");
        Say($"[3] {sizes.NoOpSteps} steps reading {sizes.BigFileMiB} MiB in one file + {small:N0} small files: {project}");

        var first = feed.Build(project, "-nologo", "-v:n", "-nodeReuse:false").ShouldSucceed("first build");
        if (Feed.Summary(first).Ran != sizes.NoOpSteps) throw new InvalidOperationException($"the first build should run every step:\n{first.Output}");
        Say($"    first build (runs all {sizes.NoOpSteps} steps): {S(first.Elapsed.TotalSeconds)}");

        feed.Build(project, Feed.BuildFlags).ShouldSucceed("warm-up no-op build");
        var check = feed.Build(project, "-nologo", "-v:n", "-nodeReuse:false").ShouldSucceed("no-op build");
        if (Feed.Summary(check) != (sizes.NoOpSteps, 0, sizes.NoOpSteps, 0)) throw new InvalidOperationException($"the no-op build should reuse every step:\n{check.Output}");
        Say($"    no-op build says: {check.Output.Split('\n').First(l => l.Contains("PipelineSdk: ")).Trim()}");

        var empty = Path.Combine(feed.Root, "empty", "e.proj");
        Directory.CreateDirectory(Path.GetDirectoryName(empty)!);
        File.WriteAllText(empty, "<Project><Target Name=\"Build\" /></Project>\n");
        feed.Build(empty, Feed.BuildFlags).ShouldSucceed("warm-up empty build");
        // The same empty project through an MSBuild SDK package: what MSBuild charges any project whose SDK comes from
        // NuGet (the workload and NuGet SDK resolvers, evaluating the SDK's props and targets), before any task runs.
        var emptyOnSdk = Path.Combine(feed.Root, "empty-on-sdk", "e.mlproj");
        Directory.CreateDirectory(Path.GetDirectoryName(emptyOnSdk)!);
        File.WriteAllText(emptyOnSdk, "<Project Sdk=\"PipelineSdk\" />\n");
        string[] noPipeline = [.. Feed.BuildFlags, "-p:PipelineBuildDependsOn=BeforeBuild"];
        feed.Build(emptyOnSdk, noPipeline).ShouldSucceed("warm-up empty build on the SDK");

        // Interleaved, so drift on a shared machine hits all alike.
        List<double> pipeline = [], reference = [], onSdk = [];
        for (var i = 0; i < Builds; i++)
        {
            pipeline.Add(feed.Build(project, Feed.BuildFlags).ShouldSucceed("no-op build").Elapsed.TotalSeconds);
            reference.Add(feed.Build(empty, Feed.BuildFlags).ShouldSucceed("empty build").Elapsed.TotalSeconds);
            onSdk.Add(feed.Build(emptyOnSdk, noPipeline).ShouldSucceed("empty build on the SDK").Elapsed.TotalSeconds);
        }
        var recorded = Feed.LastRecordedSummary(directory);
        if (!recorded.Contains($"{sizes.NoOpSteps} steps, 0 ran, {sizes.NoOpSteps} reused, 0 failed")) throw new InvalidOperationException($"the timed no-op builds ran steps: {recorded}");

        var (p, e, k) = (Median(pipeline), Median(reference), Median(onSdk));
        Say($"    no-op build: {string.Join(" ", pipeline.Select(S))}; empty project: {string.Join(" ", reference.Select(S))}; empty project on the SDK package: {string.Join(" ", onSdk.Select(S))}");
        Say($"    of the {Ms(p - e)} the no-op build adds to the empty project, resolving and evaluating an SDK package takes {Ms(k - e)} (any NuGet-delivered SDK pays it; most is the .NET SDK's workload resolver, see README), the pipeline's items and task {Ms(p - k)}");
        return
        [
            new Row($"no-op build, {sizes.NoOpSteps} steps vs empty project", S(p), S(e), $"{p / e:0.00}x", "<= 1.5x", p / e <= 1.5),
            new Row($"no-op build, {sizes.NoOpSteps} steps vs empty project on the SDK", S(p), S(k), $"{p / k:0.00}x", "<= 1.5x", p / k <= 1.5),
        ];
    }
}
