namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// A folder outside the repository set up the way a user consumes the SDK: a nuget.config whose
/// only source is the freshly packed package, a global.json pinning its version, and a private
/// NuGet package folder so a stale extraction of the same version can never be picked up.
/// </summary>
public sealed class SdkFeed
{
    private static readonly Lazy<SdkFeed> Shared = new(() => new SdkFeed());

    public static SdkFeed Instance => Shared.Value;

    private SdkFeed()
    {
        RepositoryRoot = FindRepositoryRoot();
        var packages = Path.Combine(RepositoryRoot, "artifacts", "packages");
        var package = Directory.GetFiles(packages, "PipelineSdk.*.nupkg").Single();
        Version = Path.GetFileNameWithoutExtension(package)["PipelineSdk.".Length..];
        Root = Path.Combine(Path.GetTempPath(), $"pipelinesdk-e2e-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(Root, "global.json"), $$"""{ "msbuild-sdks": { "PipelineSdk": "{{Version}}" } }""");
        NuGetPackages = Path.Combine(Root, ".nuget-packages");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(Root);
    }

    public string RepositoryRoot { get; }
    public string Root { get; }
    public string Version { get; }
    public string NuGetPackages { get; }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PipelineSdk.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no PipelineSdk.sln above {AppContext.BaseDirectory}");
    }

    private static void TryDelete(string path)
    {
        try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
