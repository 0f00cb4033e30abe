using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>StepOutput Mode="Mount": the step writes its output where it lands, so partial results can be watched.</summary>
public sealed class OutputMountTests
{
    /// <summary>A step that writes a first file, says so, waits, then writes a second one (and fails when told to).</summary>
    private const string Checkpointing = "sh -c 'echo epoch-1 > $1/ckpt-1.txt; echo first-checkpoint-written; sleep 4; echo epoch-2 > $1/ckpt-2.txt; exit $2' train {output:checkpoints}";

    private static string[] Files(string folder) =>
        [.. Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order().OfType<string>()];

    [Fact]
    public void LocalOutputIsWrittenInItsDestinationWhileTheStepRuns()
    {
        var project = new PipelineProject("mount-local").WithProject($"""
              <ItemGroup>
                <StepOutput Include="checkpoints" Mode="Mount" RegisterOnComplete="true" />
                <CommandStep Include="train" Command="{Checkpointing} 0" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("first-checkpoint-written", TimeSpan.FromMinutes(2));

        // Visible where it will stay, before the step ended.
        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(project.Datastore, "outputs")));
        Assert.Equal(["ckpt-1.txt"], Files(Path.Combine(folder, "checkpoints")));
        var build = running.WaitForExit().ShouldSucceed();

        using var history = project.History();
        var output = history.StepRuns(build.RunId).Single().Outputs["checkpoints"];
        Assert.Equal(Path.Combine(project.Datastore, output.Path), Path.Combine(folder, "checkpoints"));
        Assert.Equal(["ckpt-1.txt", "ckpt-2.txt"], output.Files.Keys.Order());
        Assert.Single(history.DatasetVersions("checkpoints"));
        Assert.Equal(1, project.Build().ShouldSucceed().Reused);
    }

    [Fact]
    public void LocalOutputOfAFailedStepIsRemovedAndRegistersNothing()
    {
        var project = new PipelineProject("mount-local-fails").WithProject($"""
              <ItemGroup>
                <StepOutput Include="checkpoints" Mode="Mount" Destination="checkpoints/latest" RegisterOnComplete="true" />
                <CommandStep Include="train" Command="{Checkpointing} 3" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("failed with exit code 3", build.Output);
        Assert.False(Directory.Exists(Path.Combine(project.Datastore, "checkpoints", "latest")));
        using var history = project.History();
        Assert.Empty(history.DatasetVersions("checkpoints"));
    }

    [Fact]
    public void PartialOutputOfAKilledBuildIsRemovedByTheNextBuild()
    {
        var project = new PipelineProject("mount-killed").WithProject($"""
              <ItemGroup>
                <StepOutput Include="checkpoints" Mode="Mount" />
                <CommandStep Include="train" Command="{Checkpointing} 0" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("first-checkpoint-written", TimeSpan.FromMinutes(2));
        var partial = Assert.Single(Directory.GetDirectories(Path.Combine(project.Datastore, "outputs")));

        running.Kill();
        Assert.True(Directory.Exists(partial)); // a crash cannot clean up after itself

        var next = project.Build().ShouldSucceed();
        Assert.Equal(1, next.Ran);
        Assert.False(Directory.Exists(partial), "the killed run's partial output is still there");
        Assert.Single(Directory.GetDirectories(Path.Combine(project.Datastore, "outputs")));
    }

    [Fact]
    public void BlobOutputIsUploadedFileByFileWhileTheStepRunsAndRemovedWhenItFails()
    {
        var container = AzuriteServer.NewContainer();
        var project = new PipelineProject("mount-blob").WithProject($$"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{{container.Name}}" ConnectionStringVariable="LAKE_CONNECTION" />
                <PipelineParameter Include="exit" Default="0" />
                <StepOutput Include="checkpoints" Datastore="lake" Mode="Mount" Destination="runs/{run-id}" />
                <CommandStep Include="train" Command="{{Checkpointing}} {param:exit}" />
              </ItemGroup>
            """);
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        string[] Blobs() => [.. container.GetBlobs(BlobTraits.None, BlobStates.None, "runs/", CancellationToken.None).Select(b => b.Name.Split('/')[^1]).Order()];

        var running = project.StartBuild("-v:d");
        running.WaitForOutput("first-checkpoint-written", TimeSpan.FromMinutes(2));
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (Blobs().Length == 0 && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.Equal(["ckpt-1.txt"], Blobs()); // in the container while the step still runs
        running.WaitForExit().ShouldSucceed();
        Assert.Equal(["ckpt-1.txt", "ckpt-2.txt"], Blobs());

        foreach (var blob in container.GetBlobs()) container.DeleteBlob(blob.Name);
        var failed = project.Build("-p:exit=4").ShouldFail();
        Assert.Contains("failed with exit code 4", failed.Output);
        Assert.Empty(Blobs());
    }
}
