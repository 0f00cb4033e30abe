using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>A step that fails: the build fails, independent work finishes, nothing of the failure is kept.</summary>
public sealed class FailureTests
{
    private const string Pipeline = """
          <ItemGroup>
            <StepOutput Include="a_out" />
            <StepOutput Include="b_out" />
            <StepOutput Include="c_out" />
            <CommandStep Include="flaky" SourceDirectory="flaky" Command="sh run.sh {output:a_out}" />
            <CommandStep Include="independent" Command="sh -c 'echo fine > {output:b_out}/b.txt'" />
            <CommandStep Include="downstream" Command="sh -c 'cat {input:a_out}/a.txt > {output:c_out}/c.txt'" />
          </ItemGroup>
        """;

    [Fact]
    public void FailingStepFailsTheBuildSkipsDownstreamAndIsNeverCached()
    {
        var project = new PipelineProject("failing").WithProject(Pipeline)
            .Write("flaky/run.sh", "echo partial > \"$1/a.txt\"\necho 'model diverged: loss is nan' >&2\nexit 3\n");

        var failed = project.Build().ShouldFail();

        Assert.Equal((3, 1, 0, 1), (failed.Steps, failed.Ran, failed.Reused, failed.Failed));
        Assert.Matches(@"failing\.mlproj\(\d+,\d+\): error PS0100: Step 'flaky' failed with exit code 3", failed.Output);
        Assert.Contains("model diverged: loss is nan", failed.Output);
        Assert.Contains("downstream: skipped (upstream step 'flaky' failed)", failed.Output);
        Assert.Equal(new HashSet<string> { "independent" }, failed.StepsThatRan);
        using (var history = project.History())
        {
            var runs = history.StepRuns(failed.RunId).ToDictionary(s => s.Step);
            Assert.Equal((RunStatus.Failed, 3), (runs["flaky"].Status, runs["flaky"].ExitCode!.Value));
            Assert.Empty(runs["flaky"].Outputs);
            Assert.Equal(RunStatus.Skipped, runs["downstream"].Status);
            Assert.Equal(RunStatus.Failed, history.PipelineRun(failed.RunId)!.Status);
        }
        // The half-written output of the failed step is nowhere in the datastore.
        Assert.DoesNotContain(Directory.EnumerateFiles(project.Datastore, "a.txt", SearchOption.AllDirectories), _ => true);

        project.Write("flaky/run.sh", "echo good > \"$1/a.txt\"\n");
        var fixedBuild = project.Build().ShouldSucceed();

        Assert.Equal(new HashSet<string> { "flaky", "downstream" }, fixedBuild.StepsThatRan);
        Assert.Equal(new HashSet<string> { "independent" }, fixedBuild.StepsReused);
        Assert.Equal("script run.sh changed", fixedBuild.ReasonFor("flaky").Replace("source file", "script"));
    }

    [Fact]
    public void FailedStepRerunsEvenWhenNothingChanged()
    {
        var project = new PipelineProject("alwaysfails").WithProject(Pipeline)
            .Write("flaky/run.sh", "exit 7\n");
        var first = project.Build().ShouldFail();

        var second = project.Build().ShouldFail();

        Assert.Contains("flaky", second.Output);
        Assert.Equal($"earlier run {first.RunId} failed", second.Output.Split('\n').Select(l => l.Trim())
            .First(l => l.StartsWith("flaky: running (")).Replace("flaky: running (", "").TrimEnd(')'));
        Assert.Contains("error PS0100: Step 'flaky' failed with exit code 7", second.Output);
        Assert.Contains("It wrote nothing to stderr.", second.Output);
    }
}
