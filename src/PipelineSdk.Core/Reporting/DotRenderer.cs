using System.Text;

namespace PipelineSdk.Core.Reporting;

/// <summary>A Graphviz DOT digraph of a <see cref="Dag"/>, styled like the Mermaid one (for `dot -Tsvg` and other tools).</summary>
public static class DotRenderer
{
    public static string Render(Dag dag)
    {
        var text = new StringBuilder();
        text.Append("digraph pipeline {\n");
        text.Append("    rankdir=LR;\n");
        text.Append("    node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n");
        text.Append("    edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n");
        foreach (var node in dag.Nodes)
        {
            if (node.Kind == DagNodeKind.Dataset)
            {
                var d = DagStyle.Dataset;
                text.Append($"    {Quote(node.Id)} [label={Quote(node.Name)}, shape=cylinder, style=filled, fillcolor=\"{d.Fill}\", color=\"{d.Stroke}\"];\n");
                continue;
            }
            var c = DagStyle.For(node.Status);
            var dashed = c.Dashed ? ", style=\"rounded,filled,dashed\"" : "";
            text.Append($"    {Quote(node.Id)} [label={Quote($"{node.Name}\n{node.Status.Label()}")}, fillcolor=\"{c.Fill}\", color=\"{c.Stroke}\", fontcolor=\"{c.Text}\"{dashed}];\n");
        }
        foreach (var edge in dag.Edges)
        {
            var attributes = new List<string>();
            if (!string.IsNullOrEmpty(edge.Label)) attributes.Add($"label={Quote(edge.Label)}");
            if (edge.Kind == DagEdgeKind.RunAfter) attributes.Add("style=dashed");
            text.Append($"    {Quote(edge.From)} -> {Quote(edge.To)}{(attributes.Count > 0 ? $" [{string.Join(", ", attributes)}]" : "")};\n");
        }
        text.Append("}\n");
        return text.ToString();
    }

    /// <summary>A DOT quoted string: backslash and quote escaped, newlines as DOT's centred line break.</summary>
    private static string Quote(string text) => $"\"{text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"";
}
