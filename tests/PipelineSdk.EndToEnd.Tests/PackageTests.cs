using System.Diagnostics;
using System.IO.Compression;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The README's commands on a fresh clone: the quickstart's seed pipeline, and the package its command makes, consumed from a folder outside the repository.</summary>
public sealed class PackageTests
{
    [Fact]
    public void OnAFreshCloneTheQuickstartRunsAndThePackagePackedAsTheReadmeSaysRunsTheSeedPipeline()
    {
        var root = Directory.CreateTempSubdirectory("pipelinesdk-pack-").FullName;
        try
        {
            var clone = Path.Combine(root, "clone");
            Git("clone", "--quiet", SdkFeed.Instance.RepositoryRoot, clone);

            var repository = PipelineProject.InFolder(clone, nugetPackages: null);

            // The quickstart's first command, as written, on the fresh clone: the seed sample, the SDK taken from source.
            var quickstart = repository.Dotnet("build", "samples/SeedPipeline/SeedPipeline.mlproj").ShouldSucceed();
            Assert.Equal(4, quickstart.Ran);

            repository.Dotnet("pack", "sdk/PipelineSdk.csproj").ShouldSucceed();
            repository.Dotnet("pack", "src/PipelineSdk.Cli/PipelineSdk.Cli.csproj").ShouldSucceed();

            var packages = Path.Combine(clone, "artifacts", "packages");
            var package = Assert.Single(Directory.GetFiles(packages, "PipelineSdk.*.nupkg"), f => !Path.GetFileName(f).StartsWith("PipelineSdk.Cli."));
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName.Replace("//", "/")).ToHashSet();
                Assert.Contains("tools/net10.0/PipelineSdk.Tasks.dll", entries);
                Assert.Contains("tools/net10.0/PipelineSdk.Tasks.deps.json", entries);
                Assert.Contains("tools/net10.0/runtimes/linux-x64/native/libe_sqlite3.so", entries);
                Assert.Contains("Sdk/Sdk.targets", entries);
            }

            // A consumer: nuget.config with only that folder, global.json pinning its version, an empty package cache.
            var consumer = Path.Combine(root, "consumer");
            Testing.LocalSdkFeed.Write(consumer, packages);
            var seed = PipelineProject.FromSample("SeedPipeline", new PipelineProject("SeedPipeline", consumer, Path.Combine(consumer, ".nuget-packages")));

            var build = seed.Build().ShouldSucceed();

            Assert.Equal(4, build.Ran);
            Assert.DoesNotContain("MSB4018", build.Output);

            // Versioned from git, and the version that ran is recorded with the run.
            var version = Path.GetFileNameWithoutExtension(package)["PipelineSdk.".Length..];
            Assert.Matches(@"^\d+\.\d+\.\d+", version);
            Assert.NotEqual("0.1.0", version);

            // The mlp tool package, of the same version beside it, installs as a .NET tool and reads that run.
            Assert.True(File.Exists(Path.Combine(packages, $"PipelineSdk.Cli.{version}.nupkg")), string.Join(", ", Directory.GetFiles(packages)));
            var tools = Path.Combine(root, "tools");
            Run("dotnet", seed.Directory, "tool", "install", "--tool-path", tools, "--add-source", packages, "--version", version, "PipelineSdk.Cli");
            var shown = Run(Path.Combine(tools, "mlp"), seed.Directory, "runs", "show", build.RunId);
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(shown, $@"PipelineSdk:\s+{System.Text.RegularExpressions.Regex.Escape(version)}\b"), $"no version {version} in:\n{shown}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Runs a program in a folder; its standard output, or a failed assertion with its error.</summary>
    private static string Run(string program, string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited {process.ExitCode}: {error.Result}");
        return output;
    }

    private static void Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var git = Process.Start(start)!;
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0, $"git {string.Join(' ', arguments)}: {error}");
    }
}
