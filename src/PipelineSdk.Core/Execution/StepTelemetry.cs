using System.Text.Json;
using System.Text.Json.Nodes;

namespace PipelineSdk.Core.Execution;

/// <summary>One line the step wrote to its metrics file (see the step-side protocol in the README).</summary>
public sealed record MetricRecord(string Kind, string Name, string ValueJson, DateTimeOffset Logged, int Sequence);

/// <summary>A file kept with a step run: what the step wrote under ./outputs and ./logs, and logged images.</summary>
public sealed record ArtifactRecord(string Name, string Path, long Size);

/// <summary>
/// What a step reported besides its outputs: metrics, tags and artifacts, read after the process ends
/// (whether it succeeded or not, as Azure ML keeps a failed run's logs and metrics).
/// </summary>
public sealed class StepTelemetry
{
    public static readonly string[] ArtifactFolders = ["outputs", "logs"];

    public List<MetricRecord> Metrics { get; } = [];
    public Dictionary<string, string> Tags { get; } = [];
    public List<ArtifactRecord> Artifacts { get; } = [];
    /// <summary>Lines that could not be read, with why; reported, never fatal.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>Reads the metrics file and copies artifacts to <paramref name="artifactRoot"/> (datastore-relative names under <paramref name="artifactPrefix"/>).</summary>
    public static StepTelemetry Collect(string metricsFile, string workingDirectory, string artifactRoot, string artifactPrefix)
    {
        var telemetry = new StepTelemetry();
        if (File.Exists(metricsFile))
        {
            var sequence = 0;
            foreach (var (line, number) in File.ReadLines(metricsFile).Select((l, i) => (l, i + 1)).Where(x => x.l.Trim().Length > 0))
            {
                try
                {
                    telemetry.Read(JsonNode.Parse(line)!.AsObject(), workingDirectory, artifactRoot, artifactPrefix, sequence++);
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException or IOException or FormatException)
                {
                    telemetry.Problems.Add($"metrics line {number}: {e.Message}");
                }
            }
        }
        foreach (var folder in ArtifactFolders)
        {
            var source = Path.Combine(workingDirectory, folder);
            if (!Directory.Exists(source)) continue;
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                telemetry.Artifacts.Add(Keep(file, Path.GetRelativePath(workingDirectory, file).Replace('\\', '/'), artifactRoot, artifactPrefix));
        }
        return telemetry;
    }

    private void Read(JsonObject line, string workingDirectory, string artifactRoot, string artifactPrefix, int sequence)
    {
        var kind = line["kind"]?.GetValue<string>() ?? throw new FormatException("no \"kind\"");
        var logged = line["time"]?.GetValue<string>() is { } time ? DateTimeOffset.Parse(time) : DateTimeOffset.UtcNow;
        if (kind == "tags")
        {
            foreach (var (key, value) in line["value"]?.AsObject() ?? throw new FormatException("tags without \"value\""))
                Tags[key] = value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value?.ToJsonString() ?? "";
            return;
        }
        var name = line["name"]?.GetValue<string>() ?? throw new FormatException($"{kind} without \"name\"");
        if (kind == "image")
        {
            var path = line["path"]?.GetValue<string>() ?? throw new FormatException($"image '{name}' without \"path\"");
            var full = Path.GetFullPath(Path.Combine(workingDirectory, path));
            var artifact = Keep(full, $"images/{name}{Path.GetExtension(full)}", artifactRoot, artifactPrefix);
            Artifacts.Add(artifact);
            Metrics.Add(new MetricRecord(kind, name, JsonSerializer.Serialize(artifact.Name), logged, sequence));
            return;
        }
        if (kind is not ("metric" or "list" or "row" or "table")) throw new FormatException($"unknown kind '{kind}'");
        Metrics.Add(new MetricRecord(kind, name, line["value"]?.ToJsonString() ?? "null", logged, sequence));
    }

    private static ArtifactRecord Keep(string file, string name, string artifactRoot, string artifactPrefix)
    {
        var relative = $"{artifactPrefix}/{name}";
        var target = Path.Combine(artifactRoot, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(file, target, overwrite: true);
        return new ArtifactRecord(name, relative, new FileInfo(target).Length);
    }
}
