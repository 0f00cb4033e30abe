using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Cli;

/// <summary>A .mlproj as MSBuild evaluates it: its experiment name and its pipeline items.</summary>
internal sealed record EvaluatedProject(string ProjectFile, string ExperimentName, IReadOnlyDictionary<string, IReadOnlyList<ProjectItem>> Items);

/// <summary>
/// Evaluates a project with the real MSBuild (<c>dotnet msbuild -getItem -getProperty</c>, JSON since MSBuild 17.8), so
/// the CLI sees exactly the items a build would: imports, conditions, globs, Directory.Build.props and all. Nothing is
/// built; only evaluation runs, which needs the SDK's props and targets but not its task assembly.
/// </summary>
internal static class ProjectEvaluator
{
    /// <summary>Metadata MSBuild gives every item; they are not the project's, so the reader must not see them.</summary>
    private static readonly HashSet<string> WellKnownMetadata = new(StringComparer.OrdinalIgnoreCase)
    {
        "Identity", "FullPath", "RootDir", "Filename", "Extension", "RelativeDir", "Directory", "RecursiveDir",
        "ModifiedTime", "CreatedTime", "AccessedTime",
        "DefiningProjectFullPath", "DefiningProjectDirectory", "DefiningProjectName", "DefiningProjectExtension",
    };

    public static EvaluatedProject Evaluate(string projectFile)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            // The project's folder, so its global.json picks the SDK as it would for `dotnet build` there.
            WorkingDirectory = Path.GetDirectoryName(projectFile)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "msbuild", projectFile, "-nologo", $"-getItem:{string.Join(',', ProjectReader.ItemTypes)}", "-getProperty:ExperimentName" })
            start.ArgumentList.Add(argument);
        // Run from inside a build (an Exec task, a test under `dotnet test`), these point MSBuild at that build's SDK and nodes.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
            start.Environment.Remove(key);
        // A first-run banner on stdout would come before the JSON.
        start.Environment["DOTNET_NOLOGO"] = "1";

        string stdout, stderr;
        int exitCode;
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            stdout = process.StandardOutput.ReadToEnd();
            stderr = error.GetAwaiter().GetResult();
            process.WaitForExit();
            exitCode = process.ExitCode;
        }
        catch (Win32Exception e)
        {
            throw new MlpException($"could not run '{start.FileName}' to evaluate {projectFile}: {e.Message}; install the .NET SDK or put dotnet on PATH");
        }

        if (exitCode != 0)
        {
            // MSBuild's own errors already read `file(line,col): error MSBxxxx: message`; print them as they are.
            var errors = (stdout + "\n" + stderr).Split('\n').Select(l => l.Trim()).Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().ToList();
            if (errors.Count == 0)
                throw new MlpException($"dotnet msbuild could not evaluate {projectFile} (exit code {exitCode}): {LastLine(stdout + "\n" + stderr)}");
            throw new DiagnosticsException(errors);
        }
        return Parse(projectFile, stdout);
    }

    public static EvaluatedProject Parse(string projectFile, string stdout)
    {
        var json = stdout.IndexOf('{') is var at and >= 0 ? stdout[at..] : stdout;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var experiment = root.TryGetProperty("Properties", out var properties) && properties.TryGetProperty("ExperimentName", out var name) ? name.GetString() : null;
            var items = new Dictionary<string, IReadOnlyList<ProjectItem>>(StringComparer.Ordinal);
            if (root.TryGetProperty("Items", out var types))
                foreach (var type in types.EnumerateObject())
                    items[type.Name] = [.. type.Value.EnumerateArray().Select(Item)];
            return new EvaluatedProject(projectFile,
                string.IsNullOrEmpty(experiment) ? Path.GetFileNameWithoutExtension(projectFile) : experiment, items);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new MlpException($"could not read what dotnet msbuild printed for {projectFile} ({e.Message}); it needs MSBuild 17.8 or later (.NET SDK 8.0.100+)");
        }
    }

    private static ProjectItem Item(JsonElement item)
    {
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var m in item.EnumerateObject().Where(m => !WellKnownMetadata.Contains(m.Name)))
            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
        return new ProjectItem(item.GetProperty("Identity").GetString()!, metadata);
    }

    /// <summary>The dotnet that runs this tool when it runs as <c>dotnet mlp.dll</c>, else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)) return host;
        if (Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }

    private static string LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "no output";
}
