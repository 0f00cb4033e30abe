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
        Root = Path.Combine(Path.GetTempPath(), $"pipelinesdk-e2e-{Guid.NewGuid():N}");
        Version = Testing.LocalSdkFeed.Write(Root, Path.Combine(RepositoryRoot, "artifacts", "packages"));
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
