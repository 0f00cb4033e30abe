namespace PipelineSdk.Testing;

/// <summary>
/// A folder set up the way a user consumes the SDK package: a nuget.config whose only source is the
/// packed package's folder and a global.json pinning its version (shared by the end-to-end tests and the bench).
/// </summary>
internal static class LocalSdkFeed
{
    /// <summary>Writes both files into <paramref name="root"/>; returns the version of the newest PipelineSdk package in <paramref name="packages"/>.</summary>
    public static string Write(string root, string packages)
    {
        // The mlp tool package (PipelineSdk.Cli.*) lies beside it.
        var package = new DirectoryInfo(packages).GetFiles("PipelineSdk.*.nupkg").Where(f => char.IsAsciiDigit(f.Name["PipelineSdk.".Length]))
            .OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault()
            ?? throw new InvalidOperationException($"no PipelineSdk.*.nupkg in {packages}: pack sdk/PipelineSdk.csproj first");
        var version = Path.GetFileNameWithoutExtension(package.Name)["PipelineSdk.".Length..];
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(root, "global.json"), $$"""{ "msbuild-sdks": { "PipelineSdk": "{{version}}" } }""");
        return version;
    }
}
