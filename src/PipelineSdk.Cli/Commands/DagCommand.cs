using System.CommandLine;
using PipelineSdk.Cli.Output;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Reporting;
using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Commands;

/// <summary>
/// <c>mlp dag</c>: draws a project's pipeline (Mermaid, DOT, SVG or JSON), each step coloured by how its most recent
/// run in the project's workspace ended. The project is evaluated and validated as a build would, so a project that
/// would not build is reported with the same errors and not drawn.
/// </summary>
internal static class DagCommand
{
    public static Command Create(WorkspaceOption workspace)
    {
        var project = new Argument<string>("project") { Description = "The .mlproj to draw." };
        var format = new Option<string?>("--format") { Description = "Text format printed: mermaid (default) or dot (Graphviz).", HelpName = "mermaid|dot" };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var svg = new Option<string?>("--svg") { Description = "Also write a standalone SVG drawing to FILE.", HelpName = "FILE" };
        var json = new Option<bool>("--json") { Description = "Print the graph as JSON (nodes, edges, statuses) instead of Mermaid or DOT." };
        var dag = new Command("dag", "Draw the pipeline of a project: steps coloured by their latest run, datasets, data and RunAfter edges.") { project, format, svg, json };
        dag.SetAction(parsed => Mlp.Guard(() =>
        {
            var file = Path.GetFullPath(parsed.GetValue(project)!);
            if (!File.Exists(file)) throw new MlpException($"project file '{parsed.GetValue(project)}' does not exist", ExitCodes.Usage);

            var evaluated = ProjectEvaluator.Evaluate(file);
            var (pipeline, readDiagnostics) = ProjectReader.Read(file, evaluated.ExperimentName, evaluated.Items, new Dictionary<string, string>());
            var (graph, validated) = readDiagnostics.Any(d => !d.IsWarning) ? (null, []) : PipelineValidator.Validate(pipeline);
            var diagnostics = readDiagnostics.Concat(validated).ToList();
            foreach (var warning in diagnostics.Where(d => d.IsWarning)) Console.Error.WriteLine(Format(warning, file));
            if (graph is null) throw new DiagnosticsException([.. diagnostics.Where(d => !d.IsWarning).Select(d => Format(d, file))]);

            var location = parsed.GetValue(workspace.Option) is null ? ProjectWorkspace(pipeline) : workspace.Resolve(parsed);
            var (workspaceRoot, latest) = LatestStepRuns(location, pipeline);
            var drawing = Dag.FromGraph(graph,
                graph.Nodes.ToDictionary(n => n.Name, n => StepStatuses.Of(latest.GetValueOrDefault(n.Name))),
                latest.ToDictionary(l => l.Key, l => $"run {l.Value.PipelineRunId}"));

            var svgFile = parsed.GetValue(svg);
            if (svgFile is not null)
            {
                var target = Path.GetFullPath(svgFile);
                if (Path.GetDirectoryName(target) is { } folder && !Directory.Exists(folder))
                    throw new MlpException($"cannot write {svgFile}: folder {folder} does not exist", ExitCodes.Usage);
                SvgRenderer.Save(drawing, target);
            }

            if (parsed.GetValue(json)) Json.Write(ToJson(drawing, graph, evaluated, workspaceRoot, latest));
            else if (svgFile is null || parsed.GetValue(format) is not null)
                Console.Out.Write(parsed.GetValue(format) == "dot" ? DotRenderer.Render(drawing) : MermaidRenderer.Render(drawing));
            else
                Console.Out.WriteLine($"Wrote {svgFile}: {Plural(drawing.Steps.Count(), "step")}, {Plural(drawing.Nodes.Count(n => n.Kind == DagNodeKind.Dataset), "dataset")}.");
            return ExitCodes.Success;
        }));
        return dag;
    }

    /// <summary>The workspace the project's runs are recorded in, found from its folder as a build finds it; null when there is none yet.</summary>
    private static WorkspaceLocation? ProjectWorkspace(Pipeline pipeline)
    {
        try
        {
            return PipelineWorkspace.Find(pipeline.ProjectDirectory) is { } found ? new WorkspaceLocation(found) : null;
        }
        catch (WorkspaceException e)
        {
            throw new MlpException(e.Message, ExitCodes.Usage);
        }
    }

    /// <summary>Each step's most recent run in the workspace (none when it has no history yet).</summary>
    private static (string? Root, IReadOnlyDictionary<string, StepRunRecord> Latest) LatestStepRuns(WorkspaceLocation? location, Pipeline pipeline)
    {
        using var history = location?.OpenHistory();
        if (history is null) return (location?.Root, new Dictionary<string, StepRunRecord>());
        return (location!.Root, StepStatuses.Latest(history, pipeline.ExperimentName, [.. pipeline.Steps.Select(s => s.Name)]));
    }

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    /// <summary>As MSBuild prints errors, so terminals, editors and CI link them to the .mlproj line.</summary>
    public static string Format(Diagnostic d, string projectFile) =>
        $"{d.Location?.ToString() ?? projectFile}: {(d.IsWarning ? "warning" : "error")} {d.Code}: {d.Message}";

    private static DagJson ToJson(Dag drawing, PipelineGraph graph, EvaluatedProject project, string? workspace, IReadOnlyDictionary<string, StepRunRecord> latest)
    {
        var columns = drawing.Layers();
        var datasetPaths = graph.Pipeline.Datasets.GroupBy(d => d.Name).ToDictionary(g => g.Key, g => g.First().Path);
        return new DagJson(project.ProjectFile, project.ExperimentName, workspace,
            [.. drawing.Nodes.Select(n => n.Kind == DagNodeKind.Step
                ? new DagNodeJson(n.Id, n.Name, "step", System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(n.Status.ToString()), null, columns[n.Id],
                    latest.TryGetValue(n.Name, out var run) ? new DagLastRunJson(run.PipelineRunId, run.Id) : null)
                : new DagNodeJson(n.Id, n.Name, "dataset", null, datasetPaths.GetValueOrDefault(n.Name), columns[n.Id], null))],
            [.. drawing.Edges.Select(e => new DagEdgeJson(e.From, e.To, e.Kind == DagEdgeKind.Data ? "data" : "runAfter", e.Label))],
            [.. graph.TopologicalOrder().Select(n => n.Name)]);
    }
}
