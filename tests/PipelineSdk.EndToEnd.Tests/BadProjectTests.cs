namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Every kind of bad project gets a coded error at its .mlproj line, and nothing runs.</summary>
public sealed class BadProjectTests
{
    public static TheoryData<string, string, string, string> Cases => new()
    {
        {
            "cycle", "PS0003", "a -> b -> a",
            """
            <StepOutput Include="x" /><StepOutput Include="y" />
            <CommandStep Include="a" Command="sh -c 'cat {input:y} > {output:x}/f'" />
            <CommandStep Include="b" Command="sh -c 'cat {input:x} > {output:y}/f'" />
            """
        },
        { "unknownstep", "PS0004", "'nope'", """<CommandStep Include="a" Command="true" RunAfter="nope" />""" },
        { "unknowninput", "PS0005", "'missing'", """<CommandStep Include="a" Command="cat {input:missing}" />""" },
        { "unknownoutput", "PS0006", "'result'", """<CommandStep Include="a" Command="touch {output:result}/f" />""" },
        { "unknownparameter", "PS0007", "'lr'", """<CommandStep Include="a" Command="echo {param:lr}" />""" },
        { "unknowncompute", "PS0008", "'gpu-cluster'", """<CommandStep Include="a" Command="true" Compute="gpu-cluster" />""" },
        { "duplicate", "PS0002", "'a'", """<CommandStep Include="a" Command="true" /><CommandStep Include="a" Command="false" />""" },
        { "missingsource", "PS0009", "'steps/absent'", """<PythonScriptStep Include="a" SourceDirectory="steps/absent" ScriptName="x.py" />""" },
        { "missingscript", "PS0010", "'absent.py'", """<PythonScriptStep Include="a" SourceDirectory="src" ScriptName="absent.py" />""" },
        { "sourceescapes", "PS0011", "outside the project folder", """<PythonScriptStep Include="a" SourceDirectory="../elsewhere" ScriptName="x.py" />""" },
        {
            "outputescapes", "PS0011", "'../../etc/{run-id}'",
            """<StepOutput Include="o" Destination="../../etc/{run-id}" /><CommandStep Include="a" Command="touch {output:o}/f" />"""
        },
        { "empty", "PS0001", "no steps", """<PipelineParameter Include="lr" Default="0.1" />""" },
        { "transfer", "PS0013", "copies one input to one output", """<DataTransferStep Include="copy" Source="" />""" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadProjectFailsWithCodeAndLineAndRunsNothing(string name, string code, string mentions, string items)
    {
        var project = new PipelineProject(name).WithProject($"<ItemGroup>\n{items}\n</ItemGroup>").Write("src/keep.txt", "");
        Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(project.Directory)!, "elsewhere"));

        var build = project.Build().ShouldFail();

        var error = build.Output.Split('\n').FirstOrDefault(l => l.Contains($"error {code}:"))
            ?? throw new Xunit.Sdk.XunitException($"no error {code} in:\n{build.Output}");
        Assert.Contains(project.ProjectFile, error);
        Assert.Contains(mentions, error);
        if (name != "empty") Assert.Matches($@"\.mlproj\([3-9],\d+\): error {code}", error);
        Assert.False(build.HasSummary);
        Assert.False(File.Exists(Path.Combine(project.Workspace, "runs.db")), "a run was recorded for a bad project");
    }
}
