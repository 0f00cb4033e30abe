using System.Text.Json;
using Azure.Storage.Blobs.Models;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>mlp gc: outputs of old runs go, what kept runs and registered datasets use stays.</summary>
public sealed class GcTests
{
    [Fact]
    public void GcRemovesOldIntermediateOutputsAndKeepsWhatIsUsed()
    {
        var project = new PipelineProject("gc").WithProject("""
              <ItemGroup>
                <PipelineParameter Include="lr" Default="1" />
                <StepOutput Include="prepared" />
                <StepOutput Include="model" RegisterOnComplete="models" />
                <StepOutput Include="stats" />
                <CommandStep Include="prep" Command="sh -c 'echo rows > {output:prepared}/rows.txt'" />
                <CommandStep Include="train" Command="sh -c 'cat {input:prepared}/rows.txt > {output:model}/w.bin; echo lr={param:lr} > {output:model}/lr.txt; echo {param:lr} > {output:stats}/s.txt'" />
              </ItemGroup>
            """);
        var runs = new[] { "1", "2", "3" }.Select(lr => project.Build($"-p:lr={lr}").ShouldSucceed()).ToList();
        string OutputPath(int run, string step, string output)
        {
            using var history = project.History();
            return history.StepRuns(runs[run].RunId).Single(s => s.Step == step).Outputs[output].Path;
        }
        var oldModels = new[] { OutputPath(0, "train", "model"), OutputPath(1, "train", "model") };
        var sharedPrep = OutputPath(0, "prep", "prepared");
        Assert.Equal(sharedPrep, OutputPath(2, "prep", "prepared")); // the last run reused the first run's prep

        var (dryExit, dryJson, dryErrors) = project.Mlp("gc", "--keep-last", "1", "--dry-run", "--json");
        Assert.True(dryExit == 0, dryErrors);
        using (var plan = JsonDocument.Parse(dryJson))
        {
            var removed = plan.RootElement.GetProperty("removed").EnumerateArray()
                .Select(r => (Kind: r.GetProperty("kind").GetString(), Path: r.GetProperty("path").GetString())).ToList();
            Assert.Equal(oldModels.Concat([OutputPath(0, "train", "stats"), OutputPath(1, "train", "stats")]).Order(), removed.Where(r => r.Kind == "output").Select(r => r.Path).Order());
            Assert.Equal(2, removed.Count(r => r.Kind == "stored")); // the old stats files; old models are registered
            Assert.True(plan.RootElement.GetProperty("dryRun").GetBoolean());
        }
        Assert.All(oldModels, p => Assert.True(Directory.Exists(Path.Combine(project.Datastore, p)), "the dry run removed " + p));

        var (exit, text, errors) = project.Mlp("gc", "--keep-last", "1");

        Assert.True(exit == 0, errors);
        Assert.Matches(@"mlp gc: removed 4 output folders and 2 stored files, \d+ B; kept the outputs of 1 runs, collected those of 2", text);
        Assert.All(oldModels, p => Assert.False(Directory.Exists(Path.Combine(project.Datastore, p)), "gc kept " + p));
        Assert.True(Directory.Exists(Path.Combine(project.Datastore, sharedPrep)), "gc removed an output a kept run uses");
        var (showExit, shown, _) = project.Mlp("datasets", "show", "models:1");
        Assert.Equal(0, showExit);
        Assert.Contains("lr.txt", shown);

        var again = project.Build("-p:lr=1").ShouldSucceed();
        Assert.Equal(new HashSet<string> { "train" }, again.StepsThatRan);
        Assert.EndsWith("the store has no intact copy", again.ReasonFor("train"));
    }

    [Fact]
    public void GcCollectsProjectDatastoresWhereTheOutputsWereRecordedAndSaysWhatItCouldNotReach()
    {
        var container = AzuriteServer.NewContainer();
        var project = new PipelineProject("gc-stores").WithProject($$"""
              <ItemGroup>
                <Datastore Include="scratch" Path="scratch-data" />
                <Datastore Include="lake" Kind="AzureBlob" Container="{{container.Name}}" ConnectionStringVariable="LAKE_CONNECTION" />
                <PipelineParameter Include="v" Default="1" />
                <StepOutput Include="local_out" Datastore="scratch" />
                <StepOutput Include="blob_out" Datastore="lake" />
                <CommandStep Include="write" Command="sh -c 'echo {param:v} > {output:local_out}/a.txt; echo {param:v} > {output:blob_out}/b.txt'" />
              </ItemGroup>
            """);
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        var runs = new[] { "1", "2" }.Select(v => project.Build($"-p:v={v}").ShouldSucceed()).ToList();
        OutputRecord Output(int run, string name)
        {
            using var history = project.History();
            return history.StepRuns(runs[run].RunId).Single().Outputs[name];
        }
        var (oldLocal, oldBlob, newLocal, newBlob) = (Output(0, "local_out"), Output(0, "blob_out"), Output(1, "local_out"), Output(1, "blob_out"));
        var scratch = Path.Combine(project.Directory, "scratch-data");
        string[] Blobs() => [.. container.GetBlobs(BlobTraits.None, BlobStates.None, "outputs/", CancellationToken.None).Select(b => b.Name)];
        Assert.Equal(2, Blobs().Length);

        // Without the container's connection string: the local datastore is collected, the container is named and left alone.
        project.Environment.Remove("LAKE_CONNECTION");
        var (exit, text, errors) = project.Mlp("gc", "--keep-last", "1");
        Assert.True(exit == 0, errors);
        Assert.False(Directory.Exists(Path.Combine(scratch, oldLocal.Path)));
        Assert.True(Directory.Exists(Path.Combine(scratch, newLocal.Path)));
        Assert.Contains($"removed stored {scratch}/.cas/", text); // the old a.txt's copy in scratch's own content store
        Assert.Contains("kept the outputs in datastore 'lake'", errors);
        Assert.Contains("LAKE_CONNECTION", errors);
        Assert.Equal(2, Blobs().Length);

        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        (exit, text, errors) = project.Mlp("gc", "--keep-last", "1");
        Assert.True(exit == 0, errors);
        Assert.Contains($"removed output AzureBlob:{container.Name}/{oldBlob.Path}", text);
        Assert.Equal([$"{newBlob.Path}/b.txt"], Blobs());
    }

    [Fact]
    public void GcOfASharedBlobWorkspaceRemovesOldOutputsAndTheCacheEntriesThatPointAtThem()
    {
        var container = AzuriteServer.NewContainer();
        var project = new PipelineProject("gc-shared").WithProject("""
              <ItemGroup>
                <PipelineParameter Include="v" Default="1" />
                <StepOutput Include="out" />
                <CommandStep Include="write" Command="sh -c 'echo {param:v} > {output:out}/a.txt'" />
              </ItemGroup>
            """).Write("workspace.json", $$$"""
            {"name": "team", "path": ".mlworkspace", "defaultDatastore": {"kind": "AzureBlob", "container": "{{{container.Name}}}", "connectionStringVariable": "TEAM_STORE"}}
            """);
        project.Environment["TEAM_STORE"] = AzuriteServer.ConnectionString;
        var runs = new[] { "1", "2" }.Select(v => project.Build($"-p:v={v}").ShouldSucceed()).ToList();
        string[] Blobs(string prefix) => [.. container.GetBlobs(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None).Select(b => b.Name)];
        Assert.Equal(2, Blobs("outputs/").Length);
        Assert.Equal(2, Blobs("cache/").Length);

        var (exit, text, errors) = project.Mlp("gc", "--keep-last", "1");

        Assert.True(exit == 0, errors);
        var kept = Assert.Single(Blobs("outputs/"));
        Assert.StartsWith($"outputs/{runs[1].RunId}-write/", kept);
        Assert.Single(Blobs("cache/"));
        Assert.Contains("removed cache cache/", text);
        // Another machine now reuses the kept result, and runs the collected one again.
        Assert.Equal(1, project.Build("-p:v=2").ShouldSucceed().Reused);
    }
}
