namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The hooks the README names run: BeforeBuild/AfterBuild from the .mlproj and from Directory.Build.targets.</summary>
public sealed class HookTests
{
    [Fact]
    public void BeforeBuildAndAfterBuildOfTheProjectAndDirectoryBuildTargetsRun()
    {
        var project = new PipelineProject("hooks").WithProject("""
              <ItemGroup>
                <CommandStep Include="a" Command="echo step-ran" />
              </ItemGroup>
              <Target Name="AfterBuild">
                <Message Importance="high" Text="hook: after, run $(PipelineRunId)" />
              </Target>
            """)
            .Write("Directory.Build.targets", """
              <Project>
                <Target Name="BeforeBuild">
                  <Message Importance="high" Text="hook: before" />
                </Target>
              </Project>
              """);

        var build = project.Build().ShouldSucceed();

        var before = build.Output.IndexOf("hook: before", StringComparison.Ordinal);
        var step = build.Output.IndexOf("a: ran in", StringComparison.Ordinal);
        var after = build.Output.IndexOf($"hook: after, run {build.RunId}", StringComparison.Ordinal);
        Assert.True(before >= 0 && step > before && after > step, build.Output);
    }
}
