using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Cli.Tests;

/// <summary>`mlp gc` on a workspace of its own (it removes what the shared recorded workspace's tests read).</summary>
public sealed class GcCommandTests
{
    [Fact]
    public void GcLeavesNoEmptyStepRunFolderBehindAndKeepsTheDatastoreRoot()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");
        foreach (var n in new[] { "1", "2" })
        {
            var pipeline = new Pipeline
            {
                ExperimentName = "gc",
                ProjectFile = dir.WriteFile("p.mlproj", "<Project />"),
                Steps = [RecordedWorkspace.Sh("write", """echo "$1" > "$2/n.txt" """, "{param:n} {output:out}")],
                Outputs = [new StepOutput("out")],
                Parameters = [new PipelineParameter("n", "1")],
                ParameterValues = new Dictionary<string, string> { ["n"] = n },
            };
            Assert.True(PipelineRunner.Run(pipeline, new RunOptions { IntermediateDirectory = dir["obj/pipeline"] }, new NoEvents()).Succeeded);
        }
        var outputs = dir["ws/datastore/outputs"];
        Assert.Equal(2, Directory.GetDirectories(outputs).Length);

        MlpTool.Run(dir.Path, "gc", "--keep-last", "1").ShouldSucceed();

        var kept = Assert.Single(Directory.GetDirectories(outputs));
        Assert.Equal("2\n", File.ReadAllText(Path.Combine(kept, "out", "n.txt")));

        MlpTool.Run(dir.Path, "gc", "--keep-last", "0").ShouldSucceed();

        Assert.False(Directory.Exists(outputs), "gc left the emptied outputs folder");
        Assert.True(Directory.Exists(dir["ws/datastore"]), "gc removed the datastore itself");
    }
}
