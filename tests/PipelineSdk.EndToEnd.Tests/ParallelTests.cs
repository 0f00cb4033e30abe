namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// Independent steps run at the same time, up to the compute target's MaxNodes. (The steps differ in
/// their commands: two identical steps have one fingerprint, and the second would reuse the first.)
/// </summary>
public sealed class ParallelTests
{
    [Fact]
    public void IndependentStepsOverlapInTime()
    {
        var project = new PipelineProject("parallel").WithProject("""
              <ItemGroup>
                <ComputeTarget Include="cluster" Kind="Local" MaxNodes="2" />
                <CommandStep Include="left" Compute="cluster" Command="sleep 1.5" />
                <CommandStep Include="right" Compute="cluster" Command="sleep 1.6" />
                <CommandStep Include="after" Compute="cluster" Command="true" RunAfter="left;right" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var runs = history.StepRuns(build.RunId).ToDictionary(s => s.Step);
        var (left, right, after) = (runs["left"], runs["right"], runs["after"]);
        Assert.True(left.Started < right.Ended && right.Started < left.Ended,
            $"left {left.Started:O}..{left.Ended:O} and right {right.Started:O}..{right.Ended:O} did not overlap");
        Assert.True(after.Started >= left.Ended && after.Started >= right.Ended, "RunAfter was not honoured");
    }

    [Fact]
    public void MaxNodesOfOneRunsStepsOneAtATime()
    {
        var project = new PipelineProject("serial").WithProject("""
              <ItemGroup>
                <ComputeTarget Include="single" Kind="Local" MaxNodes="1" />
                <CommandStep Include="left" Compute="single" Command="sleep 0.5" />
                <CommandStep Include="right" Compute="single" Command="sleep 0.6" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var runs = history.StepRuns(build.RunId).OrderBy(s => s.Started).ToList();
        Assert.True(runs[1].Started >= runs[0].Ended, "steps overlapped on a MaxNodes=1 target");
    }
}
