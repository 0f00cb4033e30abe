namespace PipelineSdk.Cli.Output;

/// <summary>
/// A plain table for people: upper-case headers, columns padded to their widest cell and two spaces apart,
/// numbers right-aligned. No colours or box drawing, so it reads the same in a terminal, a CI log and a file.
/// </summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];
    private readonly HashSet<int> _rightAligned = [];

    public TextTable RightAlign(params int[] columns)
    {
        _rightAligned.UnionWith(columns);
        return this;
    }

    public void Add(params string?[] cells) => _rows.Add([.. cells.Select(c => string.IsNullOrEmpty(c) ? "-" : c)]);

    public int Count => _rows.Count;

    public void Write(TextWriter output)
    {
        var all = _rows.Prepend(headers).ToList();
        var widths = Enumerable.Range(0, headers.Length).Select(i => all.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
        foreach (var row in all)
        {
            var cells = Enumerable.Range(0, headers.Length).Select(i =>
            {
                var cell = i < row.Length ? row[i] : "";
                return _rightAligned.Contains(i) ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]);
            });
            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }
}
