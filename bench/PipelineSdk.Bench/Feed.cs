using System.Text.RegularExpressions;
using PipelineSdk.Core.Workspace;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// A folder set up the way a user consumes the SDK (like tests/PipelineSdk.EndToEnd.Tests/SdkFeed.cs): a
/// nuget.config whose only source is the freshly packed package, a global.json pinning its version, and a
/// NuGet package folder private to the bench, so a stale extraction of the same version is never used.
/// </summary>
public sealed partial class Feed
{
    /// <summary>The flags of every timed build: no logo, quiet, and no MSBuild node left behind to serve the next build.</summary>
    public static readonly string[] BuildFlags = ["-nologo", "-v:q", "-nodeReuse:false"];

    private readonly Dictionary<string, string> _environment;

    public Feed(string root, string repositoryRoot)
    {
        Root = root;
        // bench/run.sh has just packed: the newest package is that one.
        Version = Testing.LocalSdkFeed.Write(root, Path.Combine(repositoryRoot, "artifacts", "packages"));
        _environment = new()
        {
            ["NUGET_PACKAGES"] = Path.Combine(root, ".nuget-packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBUILDTERMINALLOGGER"] = "off",
        };
        // Whatever MSBuild state launched the bench (dotnet run, an IDE) must not leak into the builds it times.
        foreach (var key in Environment.GetEnvironmentVariables().Keys.Cast<string>().ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key == "DOTNET_HOST_PATH")
                Environment.SetEnvironmentVariable(key, null);
        Say($"    SDK package PipelineSdk {Version} from {Path.Combine(repositoryRoot, "artifacts", "packages")}");
    }

    public string Root { get; }
    public string Version { get; }

    public ProcessRun Build(string project, params string[] arguments) =>
        Run("dotnet", ["build", project, .. arguments], Path.GetDirectoryName(project)!, _environment);

    [GeneratedRegex(@"PipelineSdk: \S+ run \S+: (\d+) steps, (\d+) ran, (\d+) reused, (\d+) failed")]
    private static partial Regex SummaryPattern();

    /// <summary>The build's summary line as (steps, ran, reused, failed); throws when there is none (the build did not run the pipeline).</summary>
    public static (int Steps, int Ran, int Reused, int Failed) Summary(ProcessRun build)
    {
        var m = SummaryPattern().Matches(build.Output) is { Count: > 0 } all ? all[^1] : throw new InvalidOperationException($"no PipelineSdk summary line in:\n{build.Output}");
        return (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value));
    }

    /// <summary>The summary the last build of <paramref name="projectDirectory"/> recorded in its workspace: proof of what a quiet (-v:q) build did.</summary>
    public static string LastRecordedSummary(string projectDirectory)
    {
        using var history = RunHistory.Open(Path.Combine(projectDirectory, PipelineWorkspace.DefaultFolderName, "runs.db"));
        return history.PipelineRuns().LastOrDefault()?.Summary ?? "(no run recorded)";
    }
}
