using Azure.Storage.Blobs;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Azure Blob datastores against a real Azurite server: inputs fingerprinted by listing, outputs uploaded, faults reported.</summary>
public sealed class BlobDatastoreTests
{
    private static PipelineProject BlobProject(string name, string container, string connection = AzuriteServer.ConnectionString)
    {
        var project = new PipelineProject(name).WithProject($"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{container}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="raw" Datastore="lake" Path="raw/*.csv" />
                <StepOutput Include="summary" Datastore="lake" Destination="results/{"{run-id}"}" />
                <CommandStep Include="count" Command="sh -c 'cat {"{input:raw}"}/*.csv | wc -l > {"{output:summary}"}/count.txt; echo secret=$LAKE_CONNECTION'" />
              </ItemGroup>
            """);
        project.Environment["LAKE_CONNECTION"] = connection;
        return project;
    }

    private static void Upload(BlobContainerClient container, string name, string content) =>
        container.GetBlobClient(name).Upload(BinaryData.FromString(content), overwrite: true);

    [Fact]
    public void BlobInputsAreFingerprintedByListingAndOutputsAreUploaded()
    {
        var container = AzuriteServer.NewContainer();
        Upload(container, "raw/a.csv", "1\n2\n");
        Upload(container, "raw/b.csv", "3\n");
        Upload(container, "raw/notes.txt", "not matched");
        // Azurite's well-known account key, spelled out, stands for a real secret here.
        const string key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        var project = BlobProject("blob", container.Name,
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");

        var first = project.Build("-bl").ShouldSucceed();

        Assert.Equal(new HashSet<string> { "count" }, first.StepsThatRan);
        var uploaded = container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "results/", CancellationToken.None).Single();
        Assert.EndsWith("/count.txt", uploaded.Name);
        Assert.Equal("3", container.GetBlobClient(uploaded.Name).DownloadContent().Value.Content.ToString().Trim());

        var leaks = Directory.EnumerateFiles(project.Directory, "*", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains(key[..24])).Select(f => Path.GetRelativePath(project.Directory, f)).ToList();
        Assert.True(leaks.Count == 0, $"the account key is in: {string.Join(", ", leaks)}");
        Assert.DoesNotContain(key[..24], first.Output);
        Assert.Contains("secret=", File.ReadAllText(Directory.GetFiles(Path.Combine(project.Datastore, "logs"), "std_log.txt", SearchOption.AllDirectories).Single()));
        // The binlog is compressed: read it as MSBuild wrote it, every node (properties, items, messages, environment).
        var binlog = Microsoft.Build.Logging.StructuredLogger.BinaryLog.ReadBuild(Path.Combine(project.Directory, "msbuild.binlog"));
        var recorded = new List<string>();
        binlog.VisitAllChildren<Microsoft.Build.Logging.StructuredLogger.BaseNode>(n => recorded.Add(n.ToString() ?? ""));
        Assert.True(recorded.Count > 100, "the binlog was not read");
        Assert.DoesNotContain(recorded, text => text.Contains(key[..24]));

        // Unchanged data in the container: reused by listing alone, nothing downloaded.
        Directory.Delete(Path.Combine(project.Workspace, "cache"), recursive: true);
        var again = project.Build().ShouldSucceed();
        Assert.Equal(1, again.Reused);
        Assert.False(Directory.Exists(Path.Combine(project.Workspace, "cache")), "an unchanged blob input was downloaded");

        // Changed data in the container reruns the step that reads it (the top complaint of Azure ML users).
        Upload(container, "raw/b.csv", "3\n4\n");
        var changed = project.Build().ShouldSucceed();
        Assert.Equal("input 'raw' file b.csv changed", changed.ReasonFor("count"));

        // An output deleted in the container is noticed: the step runs again.
        container.DeleteBlob(container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "results/", CancellationToken.None).OrderBy(b => b.Properties.LastModified).Last().Name);
        var deleted = project.Build().ShouldSucceed();
        Assert.Contains("was deleted or modified and the store has no intact copy", deleted.ReasonFor("count"));
    }

    [Fact]
    public void UnusableDatastoreFailsBeforeAnythingRunsAndNeverShowsTheSecret()
    {
        var container = AzuriteServer.NewContainer();
        const string wrongKey = "Zm9yZ2VkLWtleS1mb3ItdGVzdGluZy1vbmx5LW5vdC1hLXJlYWwtc2VjcmV0LXZhbHVlLWF0LWFsbA==";
        var badKey = BlobProject("badkey", container.Name,
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrongKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;");
        var unreachable = BlobProject("unreachable", container.Name,
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={wrongKey};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;");
        var missing = BlobProject("nocontainer", "absent-container");
        var unset = BlobProject("unset", container.Name);
        unset.Environment.Remove("LAKE_CONNECTION");

        var results = new[] { (badKey, "Server failed to authenticate the request"), (unreachable, "Connection refused (127.0.0.1:9)"), (missing, "container 'absent-container' does not exist"), (unset, "environment variable LAKE_CONNECTION, which is not set") }
            .Select(c => (c.Item1, c.Item2, Build: c.Item1.Build().ShouldFail())).ToList();

        foreach (var (project, mentions, build) in results)
        {
            Assert.Matches(@"\.mlproj\(3,\d+\): error PS0018: Datastore 'lake'", build.Output);
            Assert.Contains(mentions, build.Output);
            Assert.False(build.HasSummary);
            Assert.DoesNotContain(wrongKey, build.Output);
        }
    }

    [Fact]
    public void UploadThatFailsFailsTheStepAndCachesNothing()
    {
        var container = AzuriteServer.NewContainer();
        Upload(container, "raw/a.csv", "1\n");
        var project = BlobProject("uploadfault", container.Name);
        var (started, release) = (Path.Combine(project.Directory, "started"), Path.Combine(project.Directory, "release"));
        project.EditProject(text => text.Replace("wc -l > {output:summary}/count.txt", $"wc -l > {{output:summary}}/count.txt; touch {started}; while [ ! -f {release} ]; do sleep 0.1; done"));

        var build = project.StartBuild();
        // The step's process has its inputs: only the upload is left to fail.
        for (var i = 0; i < 1200 && !File.Exists(started); i++) Thread.Sleep(100);
        Assert.True(File.Exists(started), build.Output);
        container.Delete(); // the destination goes away while the step runs: the upload cannot succeed
        File.WriteAllText(release, "");
        var failed = build.WaitForExit().ShouldFail();

        Assert.Contains("error PS0100: Step 'count' failed", failed.Output);
        Assert.Contains("committing its outputs failed", failed.Output);
        using var history = project.History();
        Assert.Null(history.FindReusable(history.StepRuns(failed.RunId).Single().Fingerprint!));
    }

    [Fact]
    public void DataTransferStepsCopyBetweenLocalAndBlob()
    {
        var container = AzuriteServer.NewContainer();
        var project = new PipelineProject("transfer").WithProject($"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{container.Name}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="reports" Path="reports" />
                <StepOutput Include="published" Datastore="lake" Destination="published/{"{run-id}"}" />
                <StepOutput Include="fetched" />
                <DataTransferStep Include="publish" Source="reports" Destination="published" />
                <DataTransferStep Include="fetch" Source="published" Destination="fetched" />
              </ItemGroup>
            """).Write("reports/q1/summary.txt", "revenue up").Write("reports/q2.txt", "flat");
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;

        var first = project.Build().ShouldSucceed();

        Assert.Equal(new HashSet<string> { "publish", "fetch" }, first.StepsThatRan);
        var names = container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "published/", CancellationToken.None)
            .Select(b => b.Name[(b.Name.IndexOf('/', "published/".Length) + 1)..]).Order().ToList();
        Assert.Equal(["q1/summary.txt", "q2.txt"], names);
        using (var history = project.History())
        {
            var fetched = history.StepRuns(first.RunId).Single(s => s.Step == "fetch").Outputs["fetched"];
            Assert.Equal("revenue up", File.ReadAllText(Path.Combine(project.Datastore, fetched.Path, "q1", "summary.txt")));
        }
        Assert.Equal(2, project.Build().ShouldSucceed().Reused);
    }

    [Fact]
    public void InputModesDownloadMountAndDirectWorkForLocalAndBlobData()
    {
        var container = AzuriteServer.NewContainer();
        Upload(container, "raw/a.csv", "blob\n");
        var project = new PipelineProject("modes").WithProject($"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{container.Name}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="local_copy" Path="data/*.csv" Mode="Download" />
                <FileDataset Include="local_path" Path="data/*.csv" Mode="Direct" />
                <FileDataset Include="blob_copy" Datastore="lake" Path="raw" Mode="Download" />
                <FileDataset Include="blob_uri" Datastore="lake" Path="raw" Mode="Direct" />
                <StepOutput Include="seen" />
                <CommandStep Include="look" SourceDirectory="step" Command="sh look.sh {"{input:local_copy}"} {"{input:local_path}"} {"{input:blob_copy}"} {"{input:blob_uri}"} {"{output:seen}"}" />
              </ItemGroup>
            """)
            .Write("data/a.csv", "local\n").Write("data/readme.txt", "outside the glob")
            .Write("step/look.sh", "echo changed >> \"$1/a.csv\"; echo changed >> \"$3/a.csv\"; cat \"$1/a.csv\" \"$3/a.csv\" > \"$5/copies.txt\"; echo \"$2\" > \"$5/path.txt\"; echo \"$4\" > \"$5/uri.txt\"\n");
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var seen = Path.Combine(project.Datastore, history.StepRuns(build.RunId).Single().Outputs["seen"].Path);
        Assert.Equal("local\nchanged\nblob\nchanged\n", File.ReadAllText(Path.Combine(seen, "copies.txt")));
        Assert.Equal("local\n", File.ReadAllText(Path.Combine(project.Directory, "data", "a.csv"))); // Download gave the step copies
        Assert.Equal("blob\n", container.GetBlobClient("raw/a.csv").DownloadContent().Value.Content.ToString());
        Assert.Equal(Path.Combine(project.Directory, "data"), File.ReadAllText(Path.Combine(seen, "path.txt")).Trim());
        Assert.Equal($"http://127.0.0.1:10000/devstoreaccount1/{container.Name}/raw", File.ReadAllText(Path.Combine(seen, "uri.txt")).Trim());

        project.EditProject(text => text.Replace("Path=\"data/*.csv\" Mode=\"Direct\"", "Path=\"data/*.csv\""));
        Assert.Equal("input 'local_path' mode Direct → Mount", project.Build().ShouldSucceed().ReasonFor("look"));
    }

    [Fact]
    public void BlobDefaultDatastoreSharesResultsWithAnotherMachine()
    {
        var container = AzuriteServer.NewContainer();
        PipelineProject Machine(string name, string trainCommand)
        {
            var project = new PipelineProject(name).WithProject($"""
                  <ItemGroup>
                    <StepOutput Include="prepared" /><StepOutput Include="model" />
                    <CommandStep Include="prep" Command="sh -c 'echo 42 > {"{output:prepared}"}/rows.txt'" />
                    <CommandStep Include="train" Command="{trainCommand}" />
                  </ItemGroup>
                """).Write("workspace.json", $$$"""
                {"name": "team", "path": ".mlworkspace", "defaultDatastore": {"kind": "AzureBlob", "container": "{{{container.Name}}}", "connectionStringVariable": "TEAM_STORE"}}
                """);
            project.Environment["TEAM_STORE"] = AzuriteServer.ConnectionString;
            return project;
        }
        const string train = "sh -c 'cat {input:prepared}/rows.txt > {output:model}/w.txt'";
        var agentA = Machine("agenta", train);
        var first = agentA.Build().ShouldSucceed();
        Assert.Equal(2, first.Ran);
        Assert.Contains(container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "cache/", CancellationToken.None), b => b.Name.EndsWith(".json"));

        // Another machine, empty local workspace, same pipeline: nothing runs.
        var agentB = Machine("agentb", train);
        var shared = agentB.Build().ShouldSucceed();
        Assert.Equal((0, 2), (shared.Ran, shared.Reused));
        Assert.Contains($"prep: reused from run {first.RunId} (shared cache)", shared.Output);

        // A changed step on that machine runs there, reading the shared output from the container.
        var agentC = Machine("agentc", "sh -c 'cat {input:prepared}/rows.txt {input:prepared}/rows.txt > {output:model}/w.txt'");
        var changed = agentC.Build().ShouldSucceed();
        Assert.Equal(new HashSet<string> { "train" }, changed.StepsThatRan);
        using var history = agentC.History();
        var model = history.StepRuns(changed.RunId).Single(s => s.Step == "train").Outputs["model"];
        var blob = container.GetBlobClient($"{model.Path}/w.txt").DownloadContent().Value.Content.ToString();
        Assert.Equal("42\n42\n", blob);
    }

    [Fact]
    public void LargeOutputIsHashedAndUploadedWithFlatMemory()
    {
        var container = AzuriteServer.NewContainer();
        (BuildResult Build, long Peak) Write(string name, long bytes)
        {
            var project = new PipelineProject(name).WithProject($"""
                  <ItemGroup>
                    <Datastore Include="lake" Kind="AzureBlob" Container="{container.Name}" ConnectionStringVariable="LAKE_CONNECTION" />
                    <StepOutput Include="big" Datastore="lake" Destination="{name}/{"{run-id}"}" />
                    <CommandStep Include="write" Command="sh -c 'head -c {bytes} /dev/urandom > {"{output:big}"}/data.bin'" />
                  </ItemGroup>
                """);
            project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
            var (result, peak) = project.StartBuild().WaitForExitMeasuringMemory();
            return (result.ShouldSucceed(), peak);
        }

        var small = Write("small", 1024);
        var large = Write("large", 300L << 20);

        var uploaded = container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "large/", CancellationToken.None).Single();
        Assert.Equal(300L << 20, uploaded.Properties.ContentLength);
        // Streaming: the 300 MiB file never sits in memory (a copy in memory alone would add 300 MiB).
        Assert.True(large.Peak - small.Peak < 120L << 20, $"peak memory {small.Peak >> 20} MiB for 1 KiB vs {large.Peak >> 20} MiB for 300 MiB");
    }

    [Fact]
    public void BlobDataAndBlobOutputsRegisterImmutableVersions()
    {
        var container = AzuriteServer.NewContainer();
        Upload(container, "raw/a.csv", "v1\n");
        var items = $"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{container.Name}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="raw" Datastore="lake" Path="raw" Register="true" />
                <StepOutput Include="model" Datastore="lake" Destination="models/{"{run-id}"}" RegisterOnComplete="models" />
                <CommandStep Include="train" Command="sh -c 'cat {"{input:raw}"}/a.csv > {"{output:model}"}/m.txt'" />
              </ItemGroup>
            """;
        var project = new PipelineProject("blobreg").WithProject(items);
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        var first = project.Build().ShouldSucceed();
        Assert.Contains("registered dataset 'raw' version 1 from lake:raw", first.Output);
        Assert.Contains("registered dataset 'models' version 1", first.Output);

        // The data changes in the container; version 1 of both keeps its content for whoever pins it.
        Upload(container, "raw/a.csv", "v2\n");
        project.WithProject(items.Replace("</ItemGroup>", """
                <FileDataset Include="raw_v1" Dataset="raw:1" />
                <FileDataset Include="model_v1" Dataset="models:1" />
                <StepOutput Include="pinned" />
                <CommandStep Include="read_pinned" Command="sh -c 'cat {input:raw_v1}/a.csv {input:model_v1}/m.txt > {output:pinned}/both.txt'" />
              </ItemGroup>
            """));
        var second = project.Build().ShouldSucceed();

        Assert.Contains("registered dataset 'raw' version 2", second.Output);
        using var history = project.History();
        var pinned = history.StepRuns(second.RunId).Single(s => s.Step == "read_pinned").Outputs["pinned"];
        Assert.Equal("v1\nv1\n", File.ReadAllText(Path.Combine(project.Datastore, pinned.Path, "both.txt")));
    }

    [Fact]
    public void InputThatCannotBeDownloadedFailsTheStep()
    {
        var container = AzuriteServer.NewContainer();
        Upload(container, "raw/a.csv", "1\n");
        // The run lists 'raw' once (for 'early'); by the time 'late' needs the file, blob and local cache are gone.
        var project = new PipelineProject("downloadfault").WithProject($"""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="{container.Name}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="raw" Datastore="lake" Path="raw" />
                <CommandStep Include="early" Command="cat {"{input:raw}"}/a.csv" />
                <CommandStep Include="pause" Command="sleep 1.5" RunAfter="early" />
                <CommandStep Include="late" Command="sh -c 'cat {"{input:raw}"}/a.csv; echo again'" RunAfter="pause" />
              </ItemGroup>
            """);
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        var build = project.StartBuild();
        build.WaitForOutput("pause: running", TimeSpan.FromMinutes(2));
        container.DeleteBlob("raw/a.csv");
        Directory.Delete(Path.Combine(project.Workspace, "cache"), recursive: true);

        var failed = build.WaitForExit().ShouldFail();

        Assert.Contains("error PS0100: Step 'late' could not start", failed.Output);
        Assert.Contains("downloading input 'raw' failed", failed.Output);
        Assert.Contains("PipelineSdk: downloadfault run", failed.Output); // the engine reported it, it did not crash
    }

    [Fact]
    public void SecretWrittenIntoTheProjectIsRefused()
    {
        var project = new PipelineProject("inline").WithProject("""
              <ItemGroup>
                <Datastore Include="lake" Kind="AzureBlob" Container="data" ConnectionString="UseDevelopmentStorage=true" />
                <CommandStep Include="a" Command="true" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("error PS0013: Datastore 'lake' carries a secret in the project", build.Output);
    }
}
