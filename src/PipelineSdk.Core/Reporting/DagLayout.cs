namespace PipelineSdk.Core.Reporting;

/// <summary>Where a node is drawn: its box, top-left corner and size.</summary>
public sealed record NodeBox(DagNode Node, int Column, double X, double Y, double Width, double Height)
{
    public double CenterY => Y + Height / 2;
}

/// <summary>Where an edge is drawn: from a point on the right side of its source to one on the left side of its target.</summary>
public sealed record EdgeRoute(DagEdge Edge, double X1, double Y1, double X2, double Y2);

/// <summary>
/// A layered layout of a <see cref="Dag"/> for drawing without Graphviz: one column per topological depth
/// (<see cref="Dag.Layers"/>), nodes stacked in each column in the order of the nodes they come from (barycentre),
/// so edges mostly run left to right without crossing. Sizes are estimated from the text, in SVG user units.
/// </summary>
public sealed class DagLayout
{
    public const double Margin = 24;
    public const double ColumnGap = 96; // room for an edge label between columns
    public const double RowGap = 26;
    public const double NodeHeight = 46;
    private const double CharWidth = 7.2; // 12 px sans-serif, a little generous so text stays inside its box
    private const double LabelCharWidth = 6.2;
    private const double LabelPadding = 14;
    private const double Padding = 28;
    private const double MinNodeWidth = 110;

    private DagLayout(IReadOnlyList<NodeBox> nodes, IReadOnlyList<EdgeRoute> edges, double width, double height)
    {
        Nodes = nodes;
        Edges = edges;
        Width = width;
        Height = height;
    }

    public IReadOnlyList<NodeBox> Nodes { get; }
    public IReadOnlyList<EdgeRoute> Edges { get; }
    /// <summary>Size of the drawing including margins.</summary>
    public double Width { get; }
    public double Height { get; }

    public static double TextWidth(string text) => text.Length * CharWidth;

    /// <summary>Edge labels are drawn at 10 px.</summary>
    public static double LabelWidth(string text) => text.Length * LabelCharWidth;

    public static DagLayout Of(Dag dag)
    {
        var layers = dag.Layers();
        var declared = dag.Nodes.Select((n, i) => (n.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var incoming = dag.Edges.ToLookup(e => e.To, e => e.From);
        var row = new Dictionary<string, double>();
        var columns = new List<List<DagNode>>();
        foreach (var group in dag.Nodes.GroupBy(n => layers[n.Id]).OrderBy(g => g.Key))
        {
            // Barycentre of the rows of the nodes an edge comes from; nodes without any keep declaration order, below.
            var ordered = group
                .Select(n => (Node: n, Key: incoming[n.Id].Where(row.ContainsKey).Select(f => row[f]).DefaultIfEmpty(double.MaxValue).Average()))
                .OrderBy(x => x.Key).ThenBy(x => declared[x.Node.Id])
                .Select(x => x.Node).ToList();
            for (var i = 0; i < ordered.Count; i++) row[ordered[i].Id] = i;
            columns.Add(ordered);
        }

        var columnWidths = columns.Select(c => c.Max(NodeWidth)).ToList();
        // The gap after a column fits the widest label of the edges leaving it (labels sit halfway along their edge).
        var column = columns.SelectMany((c, i) => c.Select(n => (n.Id, i))).ToDictionary(x => x.Id, x => x.i);
        var gaps = columns.Select((_, i) => Math.Max(ColumnGap, dag.Edges
            .Where(e => column.TryGetValue(e.From, out var from) && from == i && !string.IsNullOrEmpty(e.Label))
            .Select(e => LabelWidth(e.Label!) + 2 * LabelPadding).DefaultIfEmpty(0).Max())).ToList();
        var columnHeights = columns.Select(c => c.Count * NodeHeight + (c.Count - 1) * RowGap).ToList();
        var contentHeight = columnHeights.DefaultIfEmpty(0).Max();
        var boxes = new List<NodeBox>();
        var x = Margin;
        for (var c = 0; c < columns.Count; c++)
        {
            var y = Margin + (contentHeight - columnHeights[c]) / 2;
            foreach (var node in columns[c])
            {
                var nodeWidth = NodeWidth(node);
                boxes.Add(new NodeBox(node, c, x + (columnWidths[c] - nodeWidth) / 2, y, nodeWidth, NodeHeight));
                y += NodeHeight + RowGap;
            }
            x += columnWidths[c] + gaps[c];
        }
        var width = columns.Count == 0 ? 2 * Margin : x - gaps[^1] + Margin;
        return new DagLayout(boxes, Route(dag, boxes), width, contentHeight + 2 * Margin);
    }

    private static double NodeWidth(DagNode node) =>
        Math.Max(MinNodeWidth, Math.Ceiling(TextWidth(node.Kind == DagNodeKind.Step ? Longer(node.Name, node.Status.Label()) : node.Name) + Padding));

    private static string Longer(string a, string b) => a.Length >= b.Length ? a : b;

    /// <summary>
    /// Each edge leaves its source's right side and enters its target's left side; several edges on one side are
    /// spread along it in the vertical order of their other ends, so they do not start or end on one point.
    /// </summary>
    private static List<EdgeRoute> Route(Dag dag, List<NodeBox> boxes)
    {
        var box = boxes.ToDictionary(b => b.Node.Id);
        var drawable = dag.Edges.Where(e => box.ContainsKey(e.From) && box.ContainsKey(e.To)).ToList();
        var outPort = Ports(drawable.GroupBy(e => e.From), e => box[e.To].CenterY, e => box[e.From]);
        var inPort = Ports(drawable.GroupBy(e => e.To), e => box[e.From].CenterY, e => box[e.To]);
        return drawable.Select(e => new EdgeRoute(e, box[e.From].X + box[e.From].Width, outPort[e], box[e.To].X, inPort[e])).ToList();
    }

    private static Dictionary<DagEdge, double> Ports(IEnumerable<IGrouping<string, DagEdge>> sides, Func<DagEdge, double> otherEnd, Func<DagEdge, NodeBox> own)
    {
        var ports = new Dictionary<DagEdge, double>(ReferenceEqualityComparer.Instance);
        foreach (var side in sides)
        {
            var edges = side.OrderBy(otherEnd).ToList();
            for (var i = 0; i < edges.Count; i++)
            {
                var b = own(edges[i]);
                ports[edges[i]] = b.Y + b.Height * (i + 1) / (edges.Count + 1);
            }
        }
        return ports;
    }
}
