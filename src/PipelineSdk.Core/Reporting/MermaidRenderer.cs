using System.Text;

namespace PipelineSdk.Core.Reporting;

/// <summary>
/// A Mermaid flowchart (left to right) of a <see cref="Dag"/>: steps as rounded boxes coloured by status, datasets as
/// cylinders, data edges labelled, RunAfter edges dashed. GitHub, GitLab and most Markdown viewers draw it as is.
/// </summary>
public static class MermaidRenderer
{
    public static string Render(Dag dag)
    {
        // Mermaid ids are restricted to simple words; names go in quoted labels, so any step name draws.
        var ids = dag.Nodes.Select((n, i) => (n.Id, Short: $"{(n.Kind == DagNodeKind.Step ? "s" : "d")}{i}")).ToDictionary(x => x.Id, x => x.Short);
        var text = new StringBuilder();
        text.Append("flowchart LR\n");
        foreach (var node in dag.Nodes)
        {
            var id = ids[node.Id];
            if (node.Kind == DagNodeKind.Dataset) text.Append($"    {id}[(\"{Escape(node.Name)}\")]\n");
            else text.Append($"    {id}(\"{Escape(node.Name)}<br/>{node.Status.Label()}\")\n");
        }
        foreach (var edge in dag.Edges)
        {
            var arrow = edge.Kind == DagEdgeKind.RunAfter ? "-.->" : "-->";
            var label = string.IsNullOrEmpty(edge.Label) ? "" : $"|\"{Escape(edge.Label)}\"|";
            text.Append($"    {ids[edge.From]} {arrow}{label} {ids[edge.To]}\n");
        }
        foreach (var status in DagStyle.Legend)
        {
            var c = DagStyle.For(status);
            text.Append($"    classDef {DagStyle.ClassName(status)} fill:{c.Fill},stroke:{c.Stroke},color:{c.Text}{(c.Dashed ? ",stroke-dasharray:5 3" : "")}\n");
        }
        text.Append($"    classDef dataset fill:{DagStyle.Dataset.Fill},stroke:{DagStyle.Dataset.Stroke},color:{DagStyle.Dataset.Text}\n");
        foreach (var group in dag.Nodes.GroupBy(n => n.Kind == DagNodeKind.Dataset ? "dataset" : DagStyle.ClassName(n.Status)))
            text.Append($"    class {string.Join(",", group.Select(n => ids[n.Id]))} {group.Key}\n");
        return text.ToString();
    }

    /// <summary>Mermaid reads entity codes in quoted labels; a raw quote would end the label.</summary>
    private static string Escape(string text) => text.Replace("&", "#amp;").Replace("\"", "#quot;").Replace("<", "#lt;").Replace(">", "#gt;");
}
