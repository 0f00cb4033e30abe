using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace PipelineSdk.Core.Reporting;

/// <summary>
/// A standalone SVG of a <see cref="Dag"/>, laid out by <see cref="DagLayout"/> (no Graphviz needed): steps as
/// rounded boxes with their name and status, datasets as cylinders, edges as curves with arrowheads (RunAfter
/// dashed), and a legend of the colours. Built as XML, so names are escaped and the document is always well formed.
/// </summary>
public static class SvgRenderer
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private const double LegendHeight = 34;
    private const string EdgeColor = "#555555";

    public static XDocument Render(Dag dag)
    {
        var layout = DagLayout.Of(dag);
        var (legend, legendWidth) = Legend(layout.Height);
        var width = Math.Max(layout.Width, legendWidth + 2 * DagLayout.Margin);
        var height = layout.Height + LegendHeight;

        var root = new XElement(Svg + "svg",
            new XAttribute("width", N(width)), new XAttribute("height", N(height)), new XAttribute("viewBox", $"0 0 {N(width)} {N(height)}"),
            new XAttribute("font-family", "Helvetica, Arial, sans-serif"), new XAttribute("font-size", "12"),
            new XElement(Svg + "title", "pipeline"),
            new XElement(Svg + "defs",
                new XElement(Svg + "marker",
                    new XAttribute("id", "arrow"), new XAttribute("viewBox", "0 0 10 10"), new XAttribute("refX", "10"), new XAttribute("refY", "5"),
                    new XAttribute("markerWidth", "8"), new XAttribute("markerHeight", "8"), new XAttribute("orient", "auto"),
                    new XElement(Svg + "path", new XAttribute("d", "M 0 0 L 10 5 L 0 10 z"), new XAttribute("fill", EdgeColor)))),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "#ffffff")),
            new XElement(Svg + "g", new XAttribute("class", "edges"), layout.Edges.Select(Edge)),
            // In declaration order, so the file reads like the project.
            new XElement(Svg + "g", new XAttribute("class", "nodes"), dag.Nodes.Select(n => layout.Nodes.First(b => b.Node.Id == n.Id)).Select(Node)),
            legend);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>Writes the drawing as UTF-8 without a byte order mark (browsers and XML tools expect none).</summary>
    public static void Save(Dag dag, string path)
    {
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true });
        Render(dag).Save(writer);
    }

    private static XElement Edge(EdgeRoute r)
    {
        // A horizontal S-curve: both control points halfway across, so the curve leaves and enters level with the boxes.
        var middle = (r.X1 + r.X2) / 2;
        var path = new XElement(Svg + "path",
            new XAttribute("d", $"M {N(r.X1)} {N(r.Y1)} C {N(middle)} {N(r.Y1)} {N(middle)} {N(r.Y2)} {N(r.X2)} {N(r.Y2)}"),
            new XAttribute("fill", "none"), new XAttribute("stroke", EdgeColor), new XAttribute("stroke-width", "1.4"),
            new XAttribute("marker-end", "url(#arrow)"));
        if (r.Edge.Kind == DagEdgeKind.RunAfter) path.Add(new XAttribute("stroke-dasharray", "6 4"));
        var group = new XElement(Svg + "g", new XAttribute("class", r.Edge.Kind == DagEdgeKind.RunAfter ? "edge runafter" : "edge data"),
            new XElement(Svg + "title", $"{Name(r.Edge.From)} → {Name(r.Edge.To)}{(r.Edge.Kind == DagEdgeKind.RunAfter ? " (runs after)" : "")}"),
            path);
        if (!string.IsNullOrEmpty(r.Edge.Label))
            // The midpoint of this curve is the midpoint of its ends; a white halo keeps the label readable over other edges.
            group.Add(new XElement(Svg + "text",
                new XAttribute("x", N(middle)), new XAttribute("y", N((r.Y1 + r.Y2) / 2 - 4)), new XAttribute("text-anchor", "middle"),
                new XAttribute("font-size", "10"), new XAttribute("fill", "#333333"),
                new XAttribute("stroke", "#ffffff"), new XAttribute("stroke-width", "3"), new XAttribute("paint-order", "stroke"),
                r.Edge.Label));
        return group;
    }

    private static XElement Node(NodeBox b)
    {
        var node = b.Node;
        if (node.Kind == DagNodeKind.Dataset)
        {
            var c = DagStyle.Dataset;
            const double rim = 7; // half-height of the cylinder's elliptic top and bottom
            var (x, y, w, h) = (b.X, b.Y, b.Width, b.Height);
            return new XElement(Svg + "g", new XAttribute("class", "node dataset"), new XAttribute("data-name", node.Name),
                new XElement(Svg + "title", node.Detail is { Length: > 0 } path ? $"dataset {node.Name}: {path}" : $"dataset {node.Name}"),
                new XElement(Svg + "path",
                    new XAttribute("d", $"M {N(x)} {N(y + rim)} L {N(x)} {N(y + h - rim)} A {N(w / 2)} {N(rim)} 0 0 0 {N(x + w)} {N(y + h - rim)} L {N(x + w)} {N(y + rim)}"),
                    new XAttribute("fill", c.Fill), new XAttribute("stroke", c.Stroke), new XAttribute("stroke-width", "1.4")),
                new XElement(Svg + "ellipse",
                    new XAttribute("cx", N(x + w / 2)), new XAttribute("cy", N(y + rim)), new XAttribute("rx", N(w / 2)), new XAttribute("ry", N(rim)),
                    new XAttribute("fill", c.Fill), new XAttribute("stroke", c.Stroke), new XAttribute("stroke-width", "1.4")),
                Text(x + w / 2, y + h / 2 + 8, node.Name, c.Text, bold: false));
        }
        var colors = DagStyle.For(node.Status);
        var label = node.Status.Label();
        var box = new XElement(Svg + "rect",
            new XAttribute("x", N(b.X)), new XAttribute("y", N(b.Y)), new XAttribute("width", N(b.Width)), new XAttribute("height", N(b.Height)),
            new XAttribute("rx", "9"), new XAttribute("ry", "9"),
            new XAttribute("fill", colors.Fill), new XAttribute("stroke", colors.Stroke), new XAttribute("stroke-width", "1.6"));
        if (colors.Dashed) box.Add(new XAttribute("stroke-dasharray", "5 3"));
        return new XElement(Svg + "g",
            new XAttribute("class", $"node step {DagStyle.ClassName(node.Status)}"), new XAttribute("data-name", node.Name), new XAttribute("data-status", label),
            new XElement(Svg + "title", node.Detail is { Length: > 0 } detail ? $"{node.Name}: {label} ({detail})" : $"{node.Name}: {label}"),
            box,
            Text(b.X + b.Width / 2, b.Y + 19, node.Name, colors.Text, bold: true),
            Text(b.X + b.Width / 2, b.Y + 35, label, colors.Text, bold: false, size: 10));
    }

    private static XElement Text(double x, double y, string text, string color, bool bold, int size = 12)
    {
        var element = new XElement(Svg + "text", new XAttribute("x", N(x)), new XAttribute("y", N(y)), new XAttribute("text-anchor", "middle"),
            new XAttribute("fill", color), text);
        if (bold) element.Add(new XAttribute("font-weight", "bold"));
        if (size != 12) element.Add(new XAttribute("font-size", size.ToString(CultureInfo.InvariantCulture)));
        return element;
    }

    /// <summary>One row under the drawing: a swatch per status and one for datasets.</summary>
    private static (XElement Legend, double Width) Legend(double top)
    {
        var legend = new XElement(Svg + "g", new XAttribute("class", "legend"), new XAttribute("font-size", "10"));
        var x = DagLayout.Margin;
        var y = top;
        void Item(string label, NodeColors c, bool round)
        {
            var swatch = new XElement(Svg + "rect", new XAttribute("x", N(x)), new XAttribute("y", N(y)), new XAttribute("width", "14"), new XAttribute("height", "14"),
                new XAttribute("rx", round ? "4" : "7"), new XAttribute("fill", c.Fill), new XAttribute("stroke", c.Stroke));
            if (c.Dashed) swatch.Add(new XAttribute("stroke-dasharray", "3 2"));
            legend.Add(swatch);
            legend.Add(new XElement(Svg + "text", new XAttribute("x", N(x + 19)), new XAttribute("y", N(y + 11)), new XAttribute("fill", "#333333"), label));
            x += 19 + label.Length * 6 + 18;
        }
        foreach (var status in DagStyle.Legend) Item(status.Label(), DagStyle.For(status), round: true);
        Item("dataset", DagStyle.Dataset, round: false);
        return (legend, x - DagLayout.Margin);
    }

    private static string Name(string nodeId) => nodeId[(nodeId.IndexOf(':') + 1)..];

    private static string N(double value) => Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);
}
