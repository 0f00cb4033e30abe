using System.Globalization;
using System.Text;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Execution;

public sealed record TabularColumn(string Name, string Type);

/// <summary>
/// The inferred schema of a TabularDataset: its format, its columns with a type each (int, float, bool or string:
/// the narrowest that every non-empty value parses as) and its row count. Steps get it in PIPELINE_TABULAR; the run
/// history keeps it per content.
/// </summary>
public sealed record TabularSchema(char Delimiter, bool Header, string Encoding, IReadOnlyList<TabularColumn> Columns, long Rows)
{
    /// <summary>Reads every file (in the given order); all files must have the same columns.</summary>
    public static TabularSchema Infer(TabularFormat format, IReadOnlyList<(string Name, string Path)> files)
    {
        string[]? names = null;
        var types = new List<string?>();
        long rows = 0;
        foreach (var (name, path) in files)
        {
            using var reader = new StreamReader(path, System.Text.Encoding.GetEncoding(format.Encoding));
            var first = true;
            foreach (var record in Records(reader, format.Delimiter))
            {
                if (first && format.Header)
                {
                    if (names is not null && !names.SequenceEqual(record))
                        throw new FormatException($"file {name} has columns ({string.Join(", ", record)}), the first file ({string.Join(", ", names)})");
                    names = record;
                    first = false;
                    continue;
                }
                first = false;
                names ??= [.. Enumerable.Range(1, record.Length).Select(i => $"column{i}")];
                if (record.Length != names.Length)
                    throw new FormatException($"file {name} has a row of {record.Length} fields where the dataset has {names.Length} columns");
                while (types.Count < record.Length) types.Add(null);
                for (var i = 0; i < record.Length; i++) types[i] = Widen(types[i], record[i]);
                rows++;
            }
        }
        names ??= [];
        return new TabularSchema(format.Delimiter, format.Header, format.Encoding,
            [.. names.Select((n, i) => new TabularColumn(n, i < types.Count ? types[i] ?? "string" : "string"))], rows);
    }

    /// <summary>The narrowest type both the column so far (null: no value yet) and <paramref name="value"/> fit.</summary>
    private static string? Widen(string? type, string value)
    {
        if (value.Length == 0) return type;
        bool IsInt() => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        bool IsFloat() => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        return type switch
        {
            null => IsInt() ? "int" : IsFloat() ? "float" : bool.TryParse(value, out _) ? "bool" : "string",
            "int" => IsInt() ? "int" : IsFloat() ? "float" : "string",
            "float" => IsFloat() ? "float" : "string",
            "bool" => bool.TryParse(value, out _) ? "bool" : "string",
            _ => "string",
        };
    }

    /// <summary>RFC 4180 records: quoted fields may hold the delimiter, doubled quotes and line breaks.</summary>
    private static IEnumerable<string[]> Records(TextReader reader, char delimiter)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var any = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            var ch = (char)c;
            any = true;
            if (quoted)
            {
                if (ch != '"') field.Append(ch);
                else if (reader.Peek() == '"') field.Append((char)reader.Read());
                else quoted = false;
            }
            else if (ch == '"') quoted = true;
            else if (ch == delimiter) { fields.Add(field.ToString()); field.Clear(); }
            else if (ch == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                if (fields.Count > 1 || fields[0].Length > 0) yield return [.. fields];
                fields.Clear();
                any = false;
            }
            else field.Append(ch);
        }
        if (any)
        {
            fields.Add(field.ToString().TrimEnd('\r'));
            if (fields.Count > 1 || fields[0].Length > 0) yield return [.. fields];
        }
    }
}
