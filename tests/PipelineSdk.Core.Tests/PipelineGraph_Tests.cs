using PipelineSdk.Core.Model;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Tests;

public sealed class PipelineGraph_Tests
{
    private static Step Command(string name, string arguments = "", params string[] runAfter) =>
        new() { Name = name, Kind = StepKind.Command, Command = "true", Arguments = arguments, RunAfter = runAfter };

    private static PipelineGraph Graph(IReadOnlyList<Step> steps, params string[] outputs)
    {
        var (graph, diagnostics) = PipelineValidator.Validate(new Pipeline
        {
            ExperimentName = "exp",
            ProjectFile = Path.Combine(Path.GetTempPath(), "graph-tests", "p.mlproj"),
            Steps = steps,
            Outputs = [.. outputs.Select(o => new StepOutput(o))],
        });
        Assert.Empty(diagnostics);
        return graph!;
    }

    private static List<string> Order(PipelineGraph graph) => graph.TopologicalOrder().Select(n => n.Name).ToList();

    [Fact]
    public void IndependentStepsKeepDeclarationOrder()
    {
        var graph = Graph([Command("zeta"), Command("alpha"), Command("mid")]);

        Assert.Equal(["zeta", "alpha", "mid"], Order(graph));
    }

    [Fact]
    public void ConsumerComesAfterTheProducerDeclaredAfterIt()
    {
        var graph = Graph([Command("train", "{input:clean} {output:model}"), Command("prep", "{output:clean}")], "clean", "model");

        Assert.Equal(["prep", "train"], Order(graph));
    }

    [Fact]
    public void RunAfterOrdersStepsWithoutData()
    {
        var graph = Graph([Command("report", "", "cleanup"), Command("cleanup")]);

        Assert.Equal(["cleanup", "report"], Order(graph));
        Assert.Equal(["cleanup"], graph.Dependencies["report"]);
    }

    [Fact]
    public void DiamondPutsEveryStepAfterAllItsDependencies()
    {
        var graph = Graph(
            [
                Command("compare", "{input:m1} {input:m2} {output:best}"),
                Command("train2", "{input:clean} {output:m2}"),
                Command("train1", "{input:clean} {output:m1}"),
                Command("prep", "{output:clean}"),
            ],
            "clean", "m1", "m2", "best");

        var order = Order(graph);

        Assert.Equal(4, order.Count);
        foreach (var (step, deps) in graph.Dependencies)
            foreach (var dep in deps)
                Assert.True(order.IndexOf(dep) < order.IndexOf(step), $"{dep} should come before {step} in {string.Join(", ", order)}");
        Assert.Equal("prep", order[0]);
        Assert.Equal("compare", order[^1]);
    }

    [Fact]
    public void DataDependencyAndRunAfterOnTheSameStepAreOneDependency()
    {
        var graph = Graph([Command("a", "{output:o}"), Command("b", "{input:o}", "a")], "o");

        Assert.Equal(["a"], graph.Dependencies["b"]);
        Assert.Empty(graph.Dependencies["a"]);
    }

    [Fact]
    public void DatasetInputsAreNotDependencies()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(new Pipeline
        {
            ExperimentName = "exp",
            ProjectFile = Path.Combine(Path.GetTempPath(), "graph-tests", "p.mlproj"),
            Steps = [Command("b", "{input:raw}"), Command("a", "{input:raw}")],
            Datasets = [new FileDataset("raw", "data")],
        });

        Assert.Empty(diagnostics);
        Assert.Empty(graph!.Dependencies["a"]);
        Assert.Empty(graph.Dependencies["b"]);
        Assert.Equal(["b", "a"], Order(graph));
    }

    [Fact]
    public void UnrelatedStepDeclaredEarlierStaysBeforeALaterStepsDependency()
    {
        // b needs a; c is unrelated to both and declared before a.
        var graph = Graph([Command("b", "{input:o}"), Command("c"), Command("a", "{output:o}")], "o");

        Assert.Equal(["c", "a", "b"], Order(graph));
    }

    [Fact]
    public void ParallelStepsKeepDeclarationOrderWhateverTheConsumerListsFirst()
    {
        var graph = Graph(
            [
                Command("compare", "{input:m1} {input:m2} {output:best}"),
                Command("prep", "{output:clean}"),
                Command("train2", "{input:clean} {output:m2}"),
                Command("train1", "{input:clean} {output:m1}"),
            ],
            "clean", "m1", "m2", "best");

        Assert.Equal(["prep", "train2", "train1", "compare"], Order(graph));
    }
}
