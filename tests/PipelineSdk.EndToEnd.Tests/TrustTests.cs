using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;
using PipelineSdk.Core.Datastores;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>What the engine keeps is never silently wrong: caches hold what they are named after, gc and builds exclude each other, secrets stay out of steps, a full disk fails cleanly.</summary>
public sealed class TrustTests
{
    /// <summary>The blob race made deterministic: the blob changes between the listing and the download.</summary>
    [Fact]
    public void ABlobChangedAfterItsListingIsNeverCachedUnderTheListedContent()
    {
        var container = AzuriteServer.NewContainer();
        var blob = container.GetBlobClient("raw/a.csv");
        blob.Upload(BinaryData.FromString("listed bytes\n"));
        Environment.SetEnvironmentVariable("PIPELINESDK_TEST_LAKE", AzuriteServer.ConnectionString);
        var store = BlobStore.Connect(new Datastore("lake", Datastore.AzureBlobKind, "") { Container = container.Name, ConnectionVariable = "PIPELINESDK_TEST_LAKE" });
        var cache = Directory.CreateTempSubdirectory("blob-cache-").FullName;
        try
        {
            var listed = store.List("raw")["a.csv"];
            blob.Upload(BinaryData.FromString("other bytes\n"), overwrite: true);
            var target = Path.Combine(cache, "entry");
            var changed = Assert.Throws<BlobChangedException>(() => store.Download("raw/a.csv", listed, target));
            Assert.Contains("changed after the build listed it", changed.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(cache)); // no entry, no partial .tmp

            // Metadata that names other content than the blob holds (written by another tool) is caught the same way.
            blob.Upload(BinaryData.FromString("third bytes\n"), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["pipelinesdkhash"] = ContentHash.OfString("x") } });
            var lying = store.List("raw")["a.csv"];
            Assert.Throws<BlobChangedException>(() => store.Download("raw/a.csv", lying, target));
            Assert.Empty(Directory.EnumerateFileSystemEntries(cache));

            // As listed: downloaded and named.
            blob.Upload(BinaryData.FromString("stable bytes\n"), overwrite: true);
            store.Download("raw/a.csv", store.List("raw")["a.csv"], target);
            Assert.Equal("stable bytes\n", File.ReadAllText(target));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    private static PipelineProject OneStep(string name, string command) => new PipelineProject(name).WithProject($"""
          <ItemGroup>
            <StepOutput Include="model" />
            <CommandStep Include="train" Command="{command}" />
          </ItemGroup>
        """);

    /// <summary>The gc race made deterministic: the test holds the lock one side holds at the racy moment.</summary>
    [Fact]
    public void BuildsAndGcExcludeEachOther()
    {
        var project = OneStep("gclock", "sh -c 'echo weights > {output:model}/w.bin'");
        var first = project.Build().ShouldSucceed();

        // gc holds the workspace: a build starting now waits for it, then runs.
        var gc = WorkspaceLock.TryExclusive(project.Workspace);
        Assert.NotNull(gc);
        var waiting = project.StartBuild();
        waiting.WaitForOutput("waiting for mlp gc to finish", TimeSpan.FromMinutes(2));
        Thread.Sleep(1000);
        Assert.DoesNotContain("train:", waiting.Output);
        gc.Dispose();
        var after = waiting.WaitForExit().ShouldSucceed();
        Assert.Contains($"train: reused from run {first.RunId}", after.Output);

        // A build holds the workspace (as one does from its start, before any run is recorded): gc refuses and removes nothing.
        var outputs = Directory.GetFiles(project.Datastore, "w.bin", SearchOption.AllDirectories);
        using (new WorkspaceLockHeld(project.Workspace))
        {
            var refused = project.Mlp("gc", "--keep-last", "0");
            Assert.Equal(1, refused.Exit);
            Assert.Contains("a build is using workspace", refused.Stderr);
            Assert.All(outputs, f => Assert.True(File.Exists(f), $"gc removed {f} while a build held the workspace"));
        }
        var collected = project.Mlp("gc", "--keep-last", "0");
        Assert.Equal(0, collected.Exit);
        Assert.All(outputs, f => Assert.False(File.Exists(f)));
    }

    /// <summary>A shared workspace lock, as a build holds it.</summary>
    private sealed class WorkspaceLockHeld(string workspace) : IDisposable
    {
        private readonly WorkspaceLock _held = WorkspaceLock.AcquireSharedAsync(workspace, () => { }, CancellationToken.None).GetAwaiter().GetResult();

        public void Dispose() => _held.Dispose();
    }

    [Fact]
    public void ADamagedStoredCopyIsReplacedByTheNextRun()
    {
        var project = OneStep("casrepair", "sh -c 'echo weights-v1 > {output:model}/w.bin'");
        project.Build().ShouldSucceed();
        var output = Directory.GetFiles(project.Datastore, "w.bin", SearchOption.AllDirectories).Single();
        var stored = Directory.GetFiles(Path.Combine(project.Datastore, ".cas"), "*", SearchOption.AllDirectories).Single();
        File.WriteAllText(stored, "damaged");
        File.Delete(output);

        var rerun = project.Build().ShouldSucceed();
        Assert.Contains("no intact copy", rerun.ReasonFor("train"));
        Assert.Equal("weights-v1\n", File.ReadAllText(stored));

        Directory.Delete(Path.GetDirectoryName(Directory.GetFiles(project.Datastore, "w.bin", SearchOption.AllDirectories).Single())!, recursive: true);
        var restored = project.Build().ShouldSucceed();
        Assert.Contains("restored from the store", restored.Output);
        Assert.Empty(restored.StepsThatRan);
    }

    [Fact]
    public void StepsNeverReceiveCredentials()
    {
        var secrets = new Dictionary<string, string>
        {
            ["AZURE_STORAGE_CONNECTION_STRING"] = "AccountKey=sekret-conn-7f3a",
            ["AZURE_CLIENT_SECRET"] = "sekret-client-91bd",
            ["AZURE_STORAGE_KEY"] = "sekret-key-c04e",
            ["MSI_SECRET"] = "sekret-msi-55aa",
            ["SLURM_JWT"] = "sekret-jwt-e1e1",
        };
        var project = OneStep("secrets", "sh -c 'env > {output:model}/env.txt; env'");
        foreach (var (name, value) in secrets) project.Environment[name] = value;
        project.Environment["AZURE_LOCATION_NOT_SECRET_TEST"] = "westeurope";

        var build = project.Build("-bl", "-v:diag").ShouldSucceed();

        var env = File.ReadAllText(Directory.GetFiles(project.Datastore, "env.txt", SearchOption.AllDirectories).Single());
        Assert.Contains("PIPELINE_RUN_ID=", env);
        foreach (var (name, value) in secrets)
        {
            Assert.DoesNotContain(name + "=", env);
            var leaks = Directory.EnumerateFiles(project.Directory, "*", SearchOption.AllDirectories)
                .Where(f => !f.EndsWith(".binlog") && File.ReadAllText(f).Contains(value)).Select(f => Path.GetRelativePath(project.Directory, f)).ToList();
            Assert.True(leaks.Count == 0, $"{name} reached: {string.Join(", ", leaks)}");
        }
        var stepLines = build.Output.Split('\n').Where(l => l.Contains("train> ")).ToList();
        Assert.NotEmpty(stepLines);
        Assert.DoesNotContain(stepLines, l => secrets.Values.Any(l.Contains));
        var binlog = Microsoft.Build.Logging.StructuredLogger.BinaryLog.ReadBuild(Path.Combine(project.Directory, "msbuild.binlog"));
        var recorded = new List<string>();
        binlog.VisitAllChildren<Microsoft.Build.Logging.StructuredLogger.BaseNode>(n => recorded.Add(n.ToString() ?? ""));
        Assert.Contains(recorded, t => t.Contains("train> PIPELINE_RUN_ID="));
        Assert.DoesNotContain(recorded, t => t.Contains("train> ") && secrets.Values.Any(t.Contains));
    }

    /// <summary>A disk that fills while the engine stores a step's output: the step fails with a coded error, nothing half-written stays, the run is not left Running.</summary>
    [Fact]
    public void AFullDiskFailsTheStepAndLeavesNothingBehind()
    {
        var project = new PipelineProject("diskfull");
        using var disk = new SmallDisk(project.Directory, 6);
        project.WithProject("""
              <ItemGroup>
                <StepOutput Include="model" />
                <CommandStep Include="train" Command="sh -c 'head -c 3500000 /dev/urandom > {output:model}/w.bin'" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Matches(@"(?s)error PS0100: Step 'train' failed .*committing its outputs failed: No space left on device", build.Output);
        Assert.NotEqual(134, build.ExitCode);
        var leftovers = Directory.EnumerateFiles(project.Workspace, "*", SearchOption.AllDirectories)
            .Where(f => f.Contains("/.cas/") || f.Contains("/outputs/") || f.Contains("/.staging/")).ToList();
        Assert.True(leftovers.Count == 0, $"left behind: {string.Join(", ", leftovers)}");
        using var history = project.History();
        Assert.Equal(RunStatus.Failed, history.PipelineRuns().Single().Status);
    }

    [Fact]
    public void NamesInAnyScriptAreDeclaredAndReferencedAlike()
    {
        var project = new PipelineProject("unicode").WithProject("""
              <ItemGroup>
                <StepOutput Include="résultat" />
                <CommandStep Include="étape" Command="sh -c 'echo ok > {output:résultat}/r.txt'" />
                <CommandStep Include="lire" Command="cat {input:résultat}/r.txt" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldSucceed();

        Assert.Equal(new HashSet<string> { "étape", "lire" }, build.StepsThatRan);
    }
}
