using System.Text.Encodings.Web;
using System.Text.Json;

namespace PipelineSdk.Cli.Output;

/// <summary>
/// The --json output: indented, camelCase properties, nulls written (so every field is always there), times as
/// ISO 8601 in UTC. Shapes are the records in JsonShapes.cs; their names are a contract with scripts.
/// </summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Paths, arrows in reasons and names stay readable; this is printed, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Options));
}
