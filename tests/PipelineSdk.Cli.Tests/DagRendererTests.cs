using System.Xml.Linq;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Reporting;
using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Tests;

/// <summary>The renderers of PipelineSdk.Core/Reporting on plain data: graph building, layers, Mermaid, DOT, SVG and layout.</summary>
public sealed class DagRendererTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>raw → prep → (a, b) → train; check runs after train; a dataset and a step both named 'raw'.</summary>
    private static PipelineGraph Graph()
    {
        static Step Step(string name, string arguments, params string[] runAfter) =>
            new() { Name = name, Kind = StepKind.Command, Command = "true", Arguments = arguments, RunAfter = runAfter };
        var pipeline = new Pipeline
        {
            ExperimentName = "e",
            ProjectFile = Path.Combine(Path.GetTempPath(), "p.mlproj"),
            Steps =
            [
                Step("prep", "{input:raw} {output:a} {output:b}"),
                Step("train", "{input:a} {input:b} {output:model}"),
                Step("check", "", "train"),
                Step("raw", "{input:model}"),
            ],
            Datasets = [new FileDataset("raw", "data")],
            Outputs = [new StepOutput("a"), new StepOutput("b"), new StepOutput("model")],
        };
        var (graph, diagnostics) = PipelineValidator.Validate(pipeline);
        Assert.Empty(diagnostics);
        return graph!;
    }

    private static readonly Dictionary<string, StepStatus> Statuses = new()
    {
        ["prep"] = StepStatus.Reused, ["train"] = StepStatus.Succeeded, ["check"] = StepStatus.Failed,
    };

    [Fact]
    public void TheGraphHasDatasetsThenStepsAndOneEdgePerPairWithTheNamesOfWhatFlows()
    {
        var dag = Dag.FromGraph(Graph(), Statuses);

        Assert.Equal(["dataset:raw", "step:prep", "step:train", "step:check", "step:raw"], dag.Nodes.Select(n => n.Id));
        Assert.Equal([StepStatus.Reused, StepStatus.Succeeded, StepStatus.Failed, StepStatus.NeverRun], dag.Steps.Select(n => n.Status));
        Assert.Equal(
            [
                new DagEdge("dataset:raw", "step:prep", DagEdgeKind.Data, "raw"),
                new DagEdge("step:prep", "step:train", DagEdgeKind.Data, "a, b"),
                new DagEdge("step:train", "step:raw", DagEdgeKind.Data, "model"),
                new DagEdge("step:train", "step:check", DagEdgeKind.RunAfter),
            ],
            dag.Edges);
        Assert.Equal(new Dictionary<string, int> { ["dataset:raw"] = 0, ["step:prep"] = 1, ["step:train"] = 2, ["step:check"] = 3, ["step:raw"] = 3 }, dag.Layers());
    }

    [Fact]
    public void ADatasetIsDrawnJustBeforeTheFirstStepThatReadsIt()
    {
        var dag = new Dag(
            [new DagNode("a", DagNodeKind.Step), new DagNode("b", DagNodeKind.Step), new DagNode("late", DagNodeKind.Dataset), new DagNode("unused", DagNodeKind.Dataset)],
            [new DagEdge("step:a", "step:b", DagEdgeKind.Data, "x"), new DagEdge("dataset:late", "step:b", DagEdgeKind.Data, "late")]);

        Assert.Equal(new Dictionary<string, int> { ["step:a"] = 0, ["step:b"] = 1, ["dataset:late"] = 0, ["dataset:unused"] = 0 }, dag.Layers());
    }

    [Fact]
    public void StatusesComeFromTheRecordedStepRun()
    {
        StepRunRecord Record(string status, bool ran) => new() { Id = "r-s", PipelineRunId = "r", Step = "s", Status = status, Ran = ran, Reason = "" };

        Assert.Equal(StepStatus.NeverRun, StepStatuses.Of(null));
        Assert.Equal(StepStatus.Succeeded, StepStatuses.Of(Record(RunStatus.Succeeded, true)));
        Assert.Equal(StepStatus.Reused, StepStatuses.Of(Record(RunStatus.Succeeded, false)));
        Assert.Equal(StepStatus.Failed, StepStatuses.Of(Record(RunStatus.Failed, true)));
        Assert.Equal(StepStatus.Skipped, StepStatuses.Of(Record(RunStatus.Skipped, false)));
        Assert.Equal(new StepCounts(4, 1, 1, 1, 1), StepCounts.Of([Record("Succeeded", true), Record("Succeeded", false), Record("Failed", true), Record("Skipped", false)]));
    }

    [Fact]
    public void MermaidUsesSafeIdsAndEscapesNames()
    {
        var dag = new Dag(
            [new DagNode("say \"hi\" <now>", DagNodeKind.Step, StepStatus.Skipped), new DagNode("end", DagNodeKind.Step)],
            [new DagEdge("step:say \"hi\" <now>", "step:end", DagEdgeKind.RunAfter), new DagEdge("step:say \"hi\" <now>", "step:end", DagEdgeKind.Data, "a|b")]);

        var lines = MermaidRenderer.Render(dag).Split('\n').Select(l => l.Trim()).ToList();

        Assert.Equal("flowchart LR", lines[0]);
        Assert.Equal("s0(\"say #quot;hi#quot; #lt;now#gt;<br/>skipped\")", lines[1]);
        Assert.Equal("s1(\"end<br/>never run\")", lines[2]); // 'end' is a Mermaid keyword: only ever a label
        Assert.Equal("s0 -.-> s1", lines[3]);
        Assert.Equal("s0 -->|\"a|b\"| s1", lines[4]);
        Assert.Contains("classDef reused fill:#d4f4dd,stroke:#2e8b57,color:#1a1a1a,stroke-dasharray:5 3", lines);
        Assert.Contains("class s0 skipped", lines);
        Assert.Contains("class s1 neverrun", lines);
    }

    [Fact]
    public void DotQuotesEveryNameAndLabel()
    {
        var dag = new Dag(
            [new DagNode("a\"b\\c", DagNodeKind.Step, StepStatus.Reused), new DagNode("d", DagNodeKind.Dataset)],
            [new DagEdge("dataset:d", "step:a\"b\\c", DagEdgeKind.Data, "d")]);

        var dot = DotRenderer.Render(dag).Split('\n').Single(l => l.Contains("reused"));

        Assert.Equal("    \"step:a\\\"b\\\\c\" [label=\"a\\\"b\\\\c\\nreused\", fillcolor=\"#d4f4dd\", color=\"#2e8b57\", fontcolor=\"#1a1a1a\", style=\"rounded,filled,dashed\"];", dot);
        Assert.Contains("    \"dataset:d\" -> \"step:a\\\"b\\\\c\" [label=\"d\"];", DotRenderer.Render(dag));
    }

    [Fact]
    public void SvgIsWellFormedWhateverTheNames()
    {
        var dag = new Dag(
            [new DagNode("x<&>\"'", DagNodeKind.Step, StepStatus.Failed), new DagNode("d&d", DagNodeKind.Dataset, Detail: "data/**/*.csv")],
            [new DagEdge("dataset:d&d", "step:x<&>\"'", DagEdgeKind.Data, "<in>")]);

        var text = SvgRenderer.Render(dag).ToString();
        var svg = XDocument.Parse(text);

        Assert.Equal(Svg + "svg", svg.Root!.Name);
        Assert.Contains("x&lt;&amp;&gt;", text);
        var step = svg.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "node step failed");
        Assert.Equal("x<&>\"'", (string?)step.Attribute("data-name"));
        Assert.Equal("<in>", svg.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == "edge data").Element(Svg + "text")!.Value);
    }

    [Fact]
    public void TheLayoutPutsColumnsLeftToRightWithoutOverlaps()
    {
        var dag = Dag.FromGraph(Graph(), Statuses);

        var layout = DagLayout.Of(dag);

        Assert.Equal(dag.Nodes.Count, layout.Nodes.Count);
        Assert.All(layout.Nodes, b => Assert.True(b.X >= DagLayout.Margin && b.Y >= DagLayout.Margin && b.X + b.Width <= layout.Width && b.Y + b.Height <= layout.Height));
        Assert.All(layout.Nodes, b => Assert.True(b.Width >= DagLayout.TextWidth(b.Node.Name), $"{b.Node.Name} does not fit its box"));
        foreach (var a in layout.Nodes)
            foreach (var b in layout.Nodes.Where(b => b != a))
                Assert.False(a.X < b.X + b.Width && b.X < a.X + a.Width && a.Y < b.Y + b.Height && b.Y < a.Y + a.Height, $"{a.Node.Id} overlaps {b.Node.Id}");
        var column = layout.Nodes.ToDictionary(b => b.Node.Id, b => b.Column);
        Assert.Equal(dag.Layers(), column);
        // Every edge runs from a right side to a left side further right, leaving room for its label.
        Assert.All(layout.Edges, e => Assert.True(e.X2 - e.X1 >= DagLayout.LabelWidth(e.Edge.Label ?? ""), $"{e.Edge} has no room"));
        // Two edges into 'train' would otherwise meet in one point: one per pair here, but 'check' and 'raw' leave train apart.
        var fromTrain = layout.Edges.Where(e => e.Edge.From == "step:train").Select(e => e.Y1).ToList();
        Assert.Equal(fromTrain.Count, fromTrain.Distinct().Count());

        var svg = SvgRenderer.Render(dag).Root!;
        Assert.Equal(4, svg.Descendants(Svg + "g").Count(g => ((string?)g.Attribute("class"))?.StartsWith("node step") == true));
        Assert.Equal($"0 0 {svg.Attribute("width")!.Value} {svg.Attribute("height")!.Value}", (string?)svg.Attribute("viewBox"));
    }

    [Fact]
    public void MetricValuesForATableCell()
    {
        MetricRecord M(string json) => new("metric", "m", json, DateTimeOffset.UnixEpoch, 0);

        Assert.Equal("0.915254", MetricComparison.Display(M("0.9152542372881356")));
        Assert.Equal("1234567", MetricComparison.Display(M("1234567")));
        Assert.Equal("text", MetricComparison.Display(M("\"text\"")));
        Assert.Equal("[1,2,3]", MetricComparison.Display(M("[1, 2, 3]")));
        Assert.Equal("{\"a\":\"xxxxx…", MetricComparison.Display(M("{\"a\": \"xxxxxxxxxxxxxxxx\"}"), width: 12));
    }
}
