using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Reporting;

public enum DagNodeKind { Step, Dataset }

public enum DagEdgeKind
{
    /// <summary>The target reads a dataset or an output of the source.</summary>
    Data,
    /// <summary>The target runs after the source without reading from it (RunAfter).</summary>
    RunAfter,
}

/// <summary>
/// A node of a drawn pipeline. Steps and data have separate name spaces in a .mlproj (a step and a dataset may
/// share a name), so nodes are told apart by <see cref="Id"/>, which includes the kind.
/// </summary>
public sealed record DagNode(string Name, DagNodeKind Kind, StepStatus Status = StepStatus.NeverRun, string? Detail = null)
{
    public string Id => $"{(Kind == DagNodeKind.Step ? "step" : "dataset")}:{Name}";
}

/// <summary>An edge between two node <see cref="DagNode.Id"/>s; data edges are labelled with the names of what flows.</summary>
public sealed record DagEdge(string From, string To, DagEdgeKind Kind, string? Label = null);

/// <summary>
/// A pipeline as the renderers draw it: plain data (nodes, edges, a status per step), so every renderer and every
/// face (CLI, tests, a future IDE view) works from the same picture without the engine's types.
/// </summary>
public sealed record Dag(IReadOnlyList<DagNode> Nodes, IReadOnlyList<DagEdge> Edges)
{
    /// <summary>
    /// Datasets (declaration order) then steps (declaration order); an edge per dataset or output a step reads
    /// (several outputs between the same two steps share one edge, labels joined) and per RunAfter entry.
    /// </summary>
    public static Dag FromGraph(PipelineGraph graph, IReadOnlyDictionary<string, StepStatus> statuses, IReadOnlyDictionary<string, string>? stepDetails = null)
    {
        var datasets = graph.Pipeline.Datasets.Select(d => new DagNode(d.Name, DagNodeKind.Dataset, Detail: d.Path)).ToList();
        var steps = graph.Nodes.Select(n => new DagNode(n.Name, DagNodeKind.Step, statuses.GetValueOrDefault(n.Name), stepDetails?.GetValueOrDefault(n.Name))).ToList();
        var datasetNames = datasets.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);

        var data = new List<(string From, string To, string Label)>();
        var edges = new List<DagEdge>();
        foreach (var node in graph.Nodes)
        {
            var to = Step(node.Name);
            foreach (var input in node.Inputs)
            {
                if (graph.ProducerOfOutput.TryGetValue(input, out var producer)) data.Add((Step(producer), to, input));
                else if (datasetNames.Contains(input)) data.Add((Dataset(input), to, input));
            }
        }
        // Grouping keeps the order in which each pair first appeared.
        edges.AddRange(data.GroupBy(e => (e.From, e.To)).Select(g => new DagEdge(g.Key.From, g.Key.To, DagEdgeKind.Data, string.Join(", ", g.Select(e => e.Label).Distinct()))));
        foreach (var node in graph.Nodes)
            foreach (var before in node.Step.RunAfter.Distinct(StringComparer.Ordinal))
                edges.Add(new DagEdge(Step(before), Step(node.Name), DagEdgeKind.RunAfter));
        return new Dag([.. datasets, .. steps], edges);
    }

    public static string Step(string name) => new DagNode(name, DagNodeKind.Step).Id;

    public static string Dataset(string name) => new DagNode(name, DagNodeKind.Dataset).Id;

    public IEnumerable<DagNode> Steps => Nodes.Where(n => n.Kind == DagNodeKind.Step);

    /// <summary>
    /// The column of every node: a node's topological depth, one more than the deepest node it depends on (sources at 0).
    /// A dataset is drawn just before the first step that reads it rather than at 0, so its edge stays short.
    /// </summary>
    public IReadOnlyDictionary<string, int> Layers()
    {
        var incoming = Edges.ToLookup(e => e.To, e => e.From);
        var depth = new Dictionary<string, int>();
        var visiting = new HashSet<string>();
        int Depth(string id)
        {
            if (depth.TryGetValue(id, out var known)) return known;
            // A cycle cannot be drawn in layers; validation rejects one before anything is drawn, this only keeps a bad input finite.
            if (!visiting.Add(id)) return 0;
            var d = incoming[id].Select(from => Depth(from) + 1).DefaultIfEmpty(0).Max();
            visiting.Remove(id);
            return depth[id] = d;
        }
        foreach (var node in Nodes) Depth(node.Id);
        var outgoing = Edges.ToLookup(e => e.From, e => e.To);
        foreach (var node in Nodes.Where(n => n.Kind == DagNodeKind.Dataset && !incoming[n.Id].Any() && outgoing[n.Id].Any()))
            depth[node.Id] = Math.Max(0, outgoing[node.Id].Min(to => depth[to]) - 1);
        return depth;
    }
}
