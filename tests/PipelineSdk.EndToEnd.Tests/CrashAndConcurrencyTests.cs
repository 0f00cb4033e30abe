using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>A build killed mid-step, and two builds of one pipeline at once, leave the workspace consistent.</summary>
public sealed class CrashAndConcurrencyTests
{
    [Fact]
    public void SigkillMidStepRerunsOnlyThatStepAndLeavesNoHalfOutput()
    {
        var project = new PipelineProject("sigkill");
        // The first run of train records its pid and never ends; the rerun finds the record and finishes.
        var orphanPid = Path.Combine(project.Directory, "orphan.pid");
        project.WithProject("""
              <ItemGroup>
                <StepOutput Include="prepared" /><StepOutput Include="model" />
                <CommandStep Include="prepare" Command="sh -c 'echo rows > {output:prepared}/rows.txt'" />
                <CommandStep Include="train" SourceDirectory="train" Command="sh train.sh {input:prepared} {output:model}" />
              </ItemGroup>
            """)
            .Write("train/train.sh", $"echo half > \"$2/weights.bin\"\necho training\nif [ ! -f '{orphanPid}' ]; then echo $$ > '{orphanPid}'; while true; do sleep 0.1; done; fi\necho full > \"$2/weights.bin\"\n");

        var killed = project.StartBuild();
        killed.WaitForOutput("train: running", TimeSpan.FromMinutes(2));
        for (var waited = 0; !File.Exists(orphanPid) || File.ReadAllText(orphanPid).Trim().Length == 0; waited++)
        {
            Assert.True(waited < 600, "train never started");
            Thread.Sleep(100);
        }
        killed.Kill();
        var orphan = ProcessIdentity.Of(int.Parse(File.ReadAllText(orphanPid)));
        Assert.NotNull(orphan); // a step process outlives its killed build

        Assert.Contains("prepare: ran in", killed.Output);
        var killedRun = OnlyRun(project);
        Assert.Equal(RunStatus.Running, killedRun.Status);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(project.Datastore, "outputs"), "weights.bin", SearchOption.AllDirectories));

        var next = project.Build().ShouldSucceed();

        Assert.False(orphan.Value.IsRunning, "the killed build's step process is still running");
        Assert.Equal(new HashSet<string> { "train" }, next.StepsThatRan);
        Assert.Contains($"prepare: reused from run {killedRun.Id}", next.Output);
        using var history = project.History();
        Assert.Equal(RunStatus.Interrupted, history.PipelineRun(killedRun.Id)!.Status);
        var model = history.StepRuns(next.RunId).Single(s => s.Step == "train").Outputs["model"];
        Assert.Equal("full", File.ReadAllText(Path.Combine(project.Datastore, model.Path, "weights.bin")).Trim());
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(project.Datastore, ".staging")));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(project.Directory, "obj", "pipeline", "work")));
    }

    [Fact]
    public void TwoConcurrentBuildsExecuteEachStepOnceAndBothSucceed()
    {
        var project = new PipelineProject("concurrent");
        var ledger = Path.Combine(project.Directory, "executions.log");
        project.WithProject($"""
              <ItemGroup>
                <StepOutput Include="a_out" /><StepOutput Include="b_out" />
                <CommandStep Include="a" Command="sh -c 'echo a >> {ledger}; sleep 1; echo a > {"{output:a_out}"}/a.txt'" />
                <CommandStep Include="b" Command="sh -c 'echo b >> {ledger}; cat {"{input:a_out}"}/a.txt > {"{output:b_out}"}/b.txt'" />
              </ItemGroup>
            """);

        var one = project.StartBuild();
        var two = project.StartBuild();
        var results = new[] { one.WaitForExit(), two.WaitForExit() };

        Assert.All(results, r => r.ShouldSucceed());
        Assert.Equal(["a", "b"], File.ReadAllLines(ledger));
        Assert.Equal(2, results.Sum(r => r.Ran));
        Assert.Equal(2, results.Sum(r => r.Reused));
        using var history = project.History();
        var runs = history.PipelineRuns();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
        var stepRuns = runs.SelectMany(r => history.StepRuns(r.Id)).ToList();
        Assert.Equal(4, stepRuns.Count);
        Assert.Equal(1, stepRuns.Count(s => s.Step == "a" && s.Ran));
        Assert.Equal(1, stepRuns.Count(s => s.Step == "b" && s.Ran));
    }

    private static PipelineRunRecord OnlyRun(PipelineProject project)
    {
        using var history = project.History();
        return Assert.Single(history.PipelineRuns());
    }
}
