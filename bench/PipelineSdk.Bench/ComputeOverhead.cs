using System.Text;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// 5. What a step on a Docker or Slurm target costs against the tool a user would otherwise call: `docker run` of
/// the same command with the same kind of bind mounts, and `sbatch --wait` of the same command. A chain's steps run
/// one at a time, so (rebuild − no-op build) / steps is one step's whole time on the target. Uses the services of
/// .ci/services (started here into /tmp/psdk-* when PIPELINESDK_DOCKER_ENV / PIPELINESDK_SLURM_ENV are not set).
/// </summary>
public static class ComputeOverhead
{
    public const int Rebuilds = 3, References = 5;
    private const string Image = "local/python:3.11";

    public static IReadOnlyList<Row> Measure(Feed feed, string repository, Sizes sizes)
    {
        foreach (var service in new[] { "docker", "slurm" })
            foreach (var (name, value) in Testing.ServiceScripts.Up(repository, service)) Environment.SetEnvironmentVariable(name, value);
        var steps = sizes.ComputeSteps;
        var work = Path.Combine(feed.Root, "compute-reference");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "x"), "0\n");

        var docker = PerStep(feed, "docker", steps, $"""<ComputeTarget Include="target" Kind="Docker" Network="none" /><Environment Include="env" BaseImage="{Image}" UserManagedDependencies="true" />""");
        Run("docker", ["run", "--rm", "--network", "none", "-v", $"{work}:{work}", Image, "true"]).ShouldSucceed("docker run warm-up");
        var dockerRuns = Enumerable.Range(0, References).Select(_ => Seconds(() =>
            Run("docker", ["run", "--rm", "--network", "none", "-v", $"{work}:{work}:ro", "-v", $"{work}/out:{work}/out", "-w", work, Image, "sh", "-c", $"cat {work}/x > {work}/out/x"])
                .ShouldSucceed("docker run"))).ToList();
        Say($"    docker run of the same command: {string.Join(" ", dockerRuns.Select(S))}");

        var slurm = PerStep(feed, "slurm", steps, """<ComputeTarget Include="target" Kind="Slurm" /><Environment Include="env" UserManagedDependencies="true" />""");
        var sbatchRuns = Enumerable.Range(0, References).Select(_ => Seconds(() =>
            Run("sbatch", ["--wait", "--quiet", "--export=NONE", $"--chdir={work}", $"--output={work}/sbatch-%j.out", "--wrap", $"cat {work}/x > {work}/sbatch-x"])
                .ShouldSucceed("sbatch --wait"))).ToList();
        Say($"    sbatch --wait of the same command: {string.Join(" ", sbatchRuns.Select(S))}");

        var (dockerRef, sbatchRef) = (Median(dockerRuns), Median(sbatchRuns));
        return
        [
            new Row($"per step on Docker, {steps}-step chain", S(docker), $"docker run {S(dockerRef)}", $"{docker / dockerRef:0.00}x", "<= 1.3x", docker / dockerRef <= 1.3),
            new Row($"per step on Slurm, {steps}-step chain", S(slurm), $"sbatch --wait {S(sbatchRef)}", $"{slurm / sbatchRef:0.00}x", "<= 1.2x", slurm / sbatchRef <= 1.2),
        ];
    }

    /// <summary>Seconds per step of a chain of trivial steps on the target (rebuild minus no-op build, over the steps).</summary>
    private static double PerStep(Feed feed, string kind, int steps, string target)
    {
        var directory = Path.Combine(feed.Root, $"chain-{kind}");
        Directory.CreateDirectory(directory);
        var project = Path.Combine(directory, "c.mlproj");
        var items = new StringBuilder($"    {target}\n");
        for (var i = 0; i < steps; i++)
        {
            var input = i == 0 ? "echo 0" : $"cat {{input:o{i - 1}}}/x";
            items.AppendLine($"""    <StepOutput Include="o{i}" />""");
            items.AppendLine($$"""    <CommandStep Include="s{{i}}" Compute="target" Environment="env" Command="sh -c '{{input}} &gt; {output:o{{i}}}/x'" />""");
        }
        File.WriteAllText(project, $"<Project Sdk=\"PipelineSdk\">\n  <ItemGroup>\n{items}  </ItemGroup>\n</Project>\n");
        Say($"[5] chain of {steps} steps on {kind}: {project}");
        feed.Build(project, Feed.BuildFlags).ShouldSucceed($"first build on {kind}");
        var rebuilds = Enumerable.Range(0, Rebuilds).Select(_ => feed.Build(project, ["-t:Rebuild", .. Feed.BuildFlags]).ShouldSucceed("rebuild").Elapsed.TotalSeconds).ToList();
        var noOp = Median(Enumerable.Range(0, Rebuilds).Select(_ => feed.Build(project, Feed.BuildFlags).ShouldSucceed("no-op build").Elapsed.TotalSeconds));
        var recorded = Feed.LastRecordedSummary(directory);
        if (!recorded.Contains($"{steps} steps, 0 ran, {steps} reused")) throw new InvalidOperationException($"the no-op build on {kind} ran steps: {recorded}");
        var perStep = (Median(rebuilds) - noOp) / steps;
        Say($"    rebuild: {string.Join(" ", rebuilds.Select(S))}; no-op {S(noOp)}; per step {S(perStep)}");
        return perStep;
    }
}
