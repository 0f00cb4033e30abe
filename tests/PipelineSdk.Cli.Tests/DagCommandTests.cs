using System.Text.Json;
using System.Xml.Linq;

namespace PipelineSdk.Cli.Tests;

/// <summary>`mlp dag` on real .mlproj files evaluated by the real MSBuild, coloured from the recorded workspace.</summary>
public sealed class DagCommandTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Fact]
    public void MermaidByDefaultWithStepsColouredByTheirLatestRun()
    {
        var lines = _w.Mlp("dag", "p.mlproj").ShouldSucceed().Lines.Select(l => l.Trim()).ToList();

        Assert.Equal("flowchart LR", lines[0]);
        Assert.Equal(
            [
                "d0[(\"raw\")]",
                "s1(\"prep<br/>reused\")", "s2(\"train<br/>succeeded\")", "s3(\"fails<br/>failed\")", "s4(\"report<br/>skipped\")", "s5(\"evaluate<br/>never run\")",
                "d0 -->|\"raw\"| s1", "s1 -->|\"clean\"| s2", "s2 -->|\"model\"| s5", "s3 -.-> s4",
            ],
            lines.Skip(1).Take(10));
        Assert.Contains("class s1 reused", lines);
        Assert.Contains("class s2 succeeded", lines);
        Assert.Contains("class s3 failed", lines);
        Assert.Contains("class s4 skipped", lines);
        Assert.Contains("class s5 neverrun", lines);
        Assert.Contains("class d0 dataset", lines);
        Assert.Contains(lines, l => l.StartsWith("classDef failed fill:#f9d0d0,stroke:#c0392b"));
        Assert.Contains(lines, l => l.StartsWith("classDef neverrun fill:#ffffff"));
    }

    [Fact]
    public void DotFormat()
    {
        var dot = _w.Mlp("dag", _w.ProjectFile, "--format", "dot").ShouldSucceed().Stdout;

        Assert.StartsWith("digraph pipeline {\n    rankdir=LR;", dot);
        Assert.EndsWith("}\n", dot);
        Assert.Contains("\"dataset:raw\" [label=\"raw\", shape=cylinder", dot);
        Assert.Contains("\"step:fails\" [label=\"fails\\nfailed\", fillcolor=\"#f9d0d0\"", dot);
        Assert.Contains("\"step:evaluate\" [label=\"evaluate\\nnever run\", fillcolor=\"#ffffff\"", dot);
        Assert.Contains("\"dataset:raw\" -> \"step:prep\" [label=\"raw\"];", dot);
        Assert.Contains("\"step:train\" -> \"step:evaluate\" [label=\"model\"];", dot);
        Assert.Contains("\"step:fails\" -> \"step:report\" [style=dashed];", dot);
    }

    [Fact]
    public void JsonHasNodesEdgesStatusesAndOrder()
    {
        var dag = _w.Mlp("dag", "p.mlproj", "--json").Json();

        Assert.Equal(_w.ProjectFile, dag.GetProperty("project").GetString());
        Assert.Equal("exp", dag.GetProperty("experiment").GetString());
        Assert.Equal(_w.Workspace, dag.GetProperty("workspace").GetString());
        var nodes = dag.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!);
        Assert.Equal(["dataset:raw", "step:prep", "step:train", "step:fails", "step:report", "step:evaluate"], nodes.Keys);
        Assert.Equal("dataset", nodes["dataset:raw"].GetProperty("kind").GetString());
        Assert.Equal("data/*.csv", nodes["dataset:raw"].GetProperty("path").GetString());
        Assert.Equal(JsonValueKind.Null, nodes["dataset:raw"].GetProperty("status").ValueKind);
        Assert.Equal(
            ["reused", "succeeded", "failed", "skipped", "neverRun"],
            new[] { "prep", "train", "fails", "report", "evaluate" }.Select(s => nodes[$"step:{s}"].GetProperty("status").GetString()));
        Assert.Equal(_w.SecondRun, nodes["step:train"].GetProperty("lastRun").GetProperty("run").GetString());
        Assert.Equal($"{_w.SecondRun}-train", nodes["step:train"].GetProperty("lastRun").GetProperty("stepRun").GetString());
        Assert.Equal(JsonValueKind.Null, nodes["step:evaluate"].GetProperty("lastRun").ValueKind);
        Assert.Equal([0, 1, 2, 3], new[] { "dataset:raw", "step:prep", "step:train", "step:evaluate" }.Select(n => nodes[n].GetProperty("column").GetInt32()));

        var edges = dag.GetProperty("edges").EnumerateArray()
            .Select(e => $"{e.GetProperty("from").GetString()} {e.GetProperty("kind").GetString()} {e.GetProperty("to").GetString()} {e.GetProperty("label").GetString()}").ToList();
        Assert.Equal(["dataset:raw data step:prep raw", "step:prep data step:train clean", "step:train data step:evaluate model", "step:fails runAfter step:report "], edges);
        Assert.Equal(["prep", "train", "fails", "report", "evaluate"], dag.GetProperty("order").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public void SvgIsAStandaloneDrawingWithOneNodePerStep()
    {
        using var dir = new TempDirectory();
        var file = dir["dag.svg"];

        var result = _w.Mlp("dag", "p.mlproj", "--svg", file).ShouldSucceed();

        Assert.Equal($"Wrote {file}: 5 steps, 1 dataset.\n", result.Stdout);
        var svg = XDocument.Load(file);
        Assert.Equal(Svg + "svg", svg.Root!.Name);
        Assert.All(svg.Descendants(), e => Assert.Equal(Svg, e.Name.Namespace));
        Assert.NotEqual(0xEF, File.ReadAllBytes(file)[0]); // no byte order mark
        var steps = svg.Descendants(Svg + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("node step") == true).ToList();
        Assert.Equal(["prep", "train", "fails", "report", "evaluate"], steps.Select(g => (string?)g.Attribute("data-name")));
        Assert.Equal(["reused", "succeeded", "failed", "skipped", "never run"], steps.Select(g => (string?)g.Attribute("data-status")));
        Assert.All(steps, g => Assert.Single(g.Elements(Svg + "rect")));
        Assert.Equal("#f9d0d0", (string?)steps[2].Element(Svg + "rect")!.Attribute("fill"));
        Assert.Equal(["prep", "reused"], steps[0].Elements(Svg + "text").Select(t => t.Value));
        Assert.Single(svg.Descendants(Svg + "g"), g => (string?)g.Attribute("class") == "node dataset");
        var edges = svg.Descendants(Svg + "g").Where(g => ((string?)g.Attribute("class"))?.StartsWith("edge ") == true).ToList();
        Assert.Equal(4, edges.Count);
        Assert.All(edges, e => Assert.Equal("url(#arrow)", (string?)e.Element(Svg + "path")!.Attribute("marker-end")));
        Assert.Equal("6 4", (string?)edges.Single(e => (string?)e.Attribute("class") == "edge runafter").Element(Svg + "path")!.Attribute("stroke-dasharray"));

        // With --format as well, the text is printed besides the file.
        Assert.StartsWith("digraph", _w.Mlp("dag", "p.mlproj", "--svg", file, "--format", "dot").ShouldSucceed().Stdout);
    }

    [Fact]
    public void AProjectWithoutAWorkspaceHasNeverRunSteps()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("solo.mlproj", Project("""<CommandStep Include="only" Command="sh -c 'true'" />"""));

        var dag = MlpTool.Run(dir.Path, "dag", "solo.mlproj", "--json").Json();

        Assert.Equal(JsonValueKind.Null, dag.GetProperty("workspace").ValueKind);
        Assert.Equal("solo", dag.GetProperty("experiment").GetString()); // ExperimentName defaults to the project name
        Assert.Equal("neverRun", dag.GetProperty("nodes")[0].GetProperty("status").GetString());
        Assert.False(Directory.Exists(dir[".mlworkspace"]), "mlp dag created a workspace");
        // --workspace reads another workspace (the project's experiment has no runs there either).
        Assert.Equal(_w.Workspace, MlpTool.Run(dir.Path, "dag", "solo.mlproj", "--json", "--workspace", _w.Workspace).Json().GetProperty("workspace").GetString());
    }

    [Fact]
    public void ACycleIsReportedLikeABuildWouldAndNothingIsDrawn()
    {
        using var dir = new TempDirectory();
        var project = dir.WriteFile("cycle.mlproj", Project("""
            <StepOutput Include="x" />
            <StepOutput Include="y" />
            <CommandStep Include="a" Command="sh -c 'true' sh" Arguments="{input:y} {output:x}" />
            <CommandStep Include="b" Command="sh -c 'true' sh" Arguments="{input:x} {output:y}" />
            """));

        var result = MlpTool.Run(dir.Path, "dag", "cycle.mlproj");

        Assert.Equal(1, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"{project}(6,", line);
        Assert.Contains("): error PS0003: The steps depend on each other in a cycle: a -> b -> a.", line);
    }

    [Fact]
    public void AProjectMSBuildCannotEvaluateOrThatDoesNotExistIsAnError()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("broken.mlproj", "<Project><ItemGroup></Project>");

        var broken = MlpTool.Run(dir.Path, "dag", "broken.mlproj");
        Assert.Equal(1, broken.ExitCode);
        Assert.Empty(broken.Stdout);
        Assert.Contains("broken.mlproj", broken.Stderr);
        Assert.Contains(": error MSB", broken.Stderr);

        var missing = MlpTool.Run(dir.Path, "dag", "missing.mlproj");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("mlp: project file 'missing.mlproj' does not exist\n", missing.Stderr);
    }

    /// <summary>A project taking the SDK from this repository (as the samples do), with <paramref name="items"/> in its body.</summary>
    private static string Project(string items) => $"""
        <Project>
          <Import Project="{MlpTool.RepositoryRoot}samples/PipelineSdk.FromSource.props" />
          <ItemGroup>
        {items}
          </ItemGroup>
          <Import Project="{MlpTool.RepositoryRoot}samples/PipelineSdk.FromSource.targets" />
        </Project>
        """;
}
