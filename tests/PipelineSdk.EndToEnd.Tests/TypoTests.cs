namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Typos in a .mlproj are caught where they are, with a suggestion, instead of silently doing nothing.</summary>
public sealed class TypoTests
{
    private static PipelineProject WithTypos(string name) => new PipelineProject(name).WithProject("""
          <ItemGroup>
            <CommandStep Include="a" Command="echo" Argument="--epochs 3" AlowReuse="false" />
            <PythonScriptSteps Include="b" SourceDirectory="src" ScriptName="b.py" />
          </ItemGroup>
        """);

    [Fact]
    public void UnknownMetadataAndLookalikeItemsAreWarnedWithTheLineAndASuggestion()
    {
        var build = WithTypos("typos").Build().ShouldSucceed();

        Assert.Matches(@"typos\.mlproj\(3,\d+\): warning PS0024: CommandStep 'a' has metadata 'Argument', .* Did you mean 'Arguments'\?", build.Output);
        Assert.Matches(@"typos\.mlproj\(3,\d+\): warning PS0024: CommandStep 'a' has metadata 'AlowReuse', .* Did you mean 'AllowReuse'\?", build.Output);
        Assert.Matches(@"typos\.mlproj\(4,\d+\): warning PS0025: <PythonScriptSteps> is not a PipelineSdk item, .* Did you mean <PythonScriptStep>\?", build.Output);
    }

    [Fact]
    public void MSBuildWarningsAsErrorsMakesThemErrors()
    {
        var build = WithTypos("strict").Build("-p:MSBuildWarningsAsErrors=PS0024%3BPS0025").ShouldFail();

        Assert.Contains("error PS0024", build.Output);
        Assert.Contains("error PS0025", build.Output);
    }

    [Fact]
    public void TheSeedSampleHasNoUnknownMetadata()
    {
        var build = PipelineProject.FromSeedSample().Build().ShouldSucceed();

        Assert.DoesNotContain("PS0024", build.Output);
        Assert.DoesNotContain("PS0025", build.Output);
    }
}
