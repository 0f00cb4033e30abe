using System.Text.RegularExpressions;
using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>How a build ends its steps' processes: on SIGTERM, when a step leaves a process behind, and when a step prints without end.</summary>
public sealed class ProcessEndTests
{
    [Fact]
    public void SigtermStopsTheStepsRemovesTheirMountOutputAndFailsTheBuild()
    {
        var project = new PipelineProject("sigterm");
        var pids = Path.Combine(project.Directory, "pids.txt");
        project.WithProject($"""
              <ItemGroup>
                <StepOutput Include="checkpoints" Mode="Mount" />
                <CommandStep Include="train" Command="sh -c 'echo half > {"{output:checkpoints}"}/ckpt.txt; sleep 600 &amp; echo $$ $! > {pids}; wait'" />
              </ItemGroup>
            """);
        var build = project.StartBuild();
        var processes = WaitForPids(build, pids, count: 2);
        try
        {
            var checkpoint = Assert.Single(Directory.EnumerateFiles(Path.Combine(project.Datastore, "outputs"), "ckpt.txt", SearchOption.AllDirectories));

            build.Terminate();
            var result = build.WaitForExit(TimeSpan.FromMinutes(1)).ShouldFail();

            Assert.Contains("error PS0104", result.Output);
            Assert.All(processes, p => Assert.False(p.IsRunning, $"step process {p.Pid} still runs after SIGTERM"));
            Assert.False(Directory.Exists(Path.GetDirectoryName(checkpoint)), "the Mount output of the stopped step is still there");
            using var history = project.History();
            Assert.Equal(RunStatus.Cancelled, Assert.Single(history.PipelineRuns()).Status);
        }
        finally
        {
            foreach (var p in processes) p.KillTree();
        }
    }

    [Fact]
    public void AStepLeavingABackgroundProcessOnItsOutputFinishesAndTheProcessIsEnded()
    {
        var project = new PipelineProject("leftover");
        var pid = Path.Combine(project.Directory, "pid.txt");
        project.WithProject($"""
              <ItemGroup>
                <CommandStep Include="daemonizes" Command="sh -c 'sleep 600 &amp; echo $! > {pid}; echo done'" />
              </ItemGroup>
            """);
        var build = project.StartBuild();
        var sleep = WaitForPids(build, pid, count: 1).Single();
        try
        {
            var result = build.WaitForExit(TimeSpan.FromSeconds(90)).ShouldSucceed();

            Assert.Matches($@"warning PS0105: .*{sleep.Pid} \(sleep 600\)", result.Output);
            Assert.True(double.Parse(Regex.Match(result.Output, @"daemonizes: ran in ([\d.]+) s").Groups[1].Value) < 10, result.Output);
            Assert.False(sleep.IsRunning, "the step's background process still runs");
            Assert.Contains("done", File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{result.RunId}-daemonizes", "std_log.txt")));
        }
        finally
        {
            sleep.KillTree();
        }
    }

    [Fact]
    public void AGigabyteWithoutANewlineKeepsTheBuildsMemoryFlatAndTheLogCapped()
    {
        var project = new PipelineProject("longline").WithProject("""
              <ItemGroup>
                <CommandStep Include="chatty" SourceDirectory="step" Command="sh write.sh" />
              </ItemGroup>
            """)
            .Write("step/write.sh", "head -c 1000000000 /dev/zero | tr '\\0' x\n");

        var (build, peak) = project.StartBuild().WaitForExitMeasuringMemory();

        build.ShouldSucceed();
        Assert.True(peak < 400L << 20, $"the build's peak resident memory was {peak >> 20} MiB");
        var log = new FileInfo(Path.Combine(project.Datastore, "logs", $"{build.RunId}-chatty", "std_log.txt"));
        Assert.InRange(log.Length, 100L << 20, (101L << 20) + 1024);
        using var reader = log.OpenText();
        var start = new char[1000];
        reader.ReadBlock(start);
        Assert.Equal(new string('x', 1000), new string(start));
        Assert.Contains("warning PS0106", build.Output);
    }

    /// <summary>The step processes a test step wrote to <paramref name="file"/> once it started.</summary>
    private static List<ProcessIdentity> WaitForPids(RunningBuild build, string file, int count)
    {
        for (var waited = 0; ; waited++)
        {
            var words = File.Exists(file) ? File.ReadAllText(file).Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries) : [];
            if (words.Length == count && File.ReadAllText(file).EndsWith('\n'))
                return [.. words.Select(w => ProcessIdentity.Of(int.Parse(w)) ?? throw new Xunit.Sdk.XunitException($"step process {w} ended already:\n{build.Output}"))];
            if (waited > 1200) throw new Xunit.Sdk.XunitException($"the step never started:\n{build.Output}");
            Thread.Sleep(100);
        }
    }
}
