using System.Text.Json;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Steps on a real Docker engine (ComputeTarget Kind="Docker"), in images built from Environment items.</summary>
public sealed class DockerComputeTests
{
    private static readonly string[] SeedSteps = ["data_prep", "train_logreg", "train_centroid", "compare"];

    private static PipelineProject Project(string name, string body)
    {
        var project = new PipelineProject(name).WithProject(body);
        foreach (var (key, value) in ComputeServices.Docker) project.Environment[key] = value;
        return project;
    }

    private static string Docker(params string[] arguments) => ComputeServices.Run(ComputeServices.Docker, "docker", arguments);

    /// <summary>Containers of a pipeline run still on the engine, running or not.</summary>
    private static string LeftoverContainers(string runId) =>
        Docker("ps", "--all", "--quiet", "--filter", $"label=org.pipelinesdk.run={runId}");

    [Fact]
    public void SeedSampleRunsInContainersAndTheSameStepsOnLocalAreReused()
    {
        var project = PipelineProject.FromSeedSample();
        foreach (var (key, value) in ComputeServices.Docker) project.Environment[key] = value;

        var onDocker = project.Build("-p:StepCompute=docker").ShouldSucceed();

        Assert.Equal((4, 4, 0), (onDocker.Steps, onDocker.Ran, onDocker.Failed));
        using (var history = project.History())
        {
            var runs = history.StepRuns(onDocker.RunId);
            Assert.All(runs, r => Assert.Equal("docker", r.Compute));
            var best = runs.Single(r => r.Step == "compare").Outputs["best_model"];
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Datastore, best.Path, "best.json")));
            Assert.Equal("logreg", json.RootElement.GetProperty("best_model").GetString());
        }
        foreach (var step in SeedSteps)
            Assert.Contains("python:3.11-slim", File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{onDocker.RunId}-{step}", "20_image_build_log.txt")));
        Assert.Empty(LeftoverContainers(onDocker.RunId));
        var (exit, shown, errors) = project.Mlp("runs", "show", onDocker.RunId);
        Assert.True(exit == 0, errors);
        Assert.Matches(@"data_prep\s.*docker \(container [0-9a-f]{12}\)", shown);

        // Same environment, same fingerprint: where a step ran is not part of it.
        var onLocal = project.Build().ShouldSucceed();
        Assert.Equal(SeedSteps.ToHashSet(), onLocal.StepsReused);
    }

    [Fact]
    public void StepRunsInItsEnvironmentsImageWithInputsReadOnlyAndOutputsCommitted()
    {
        var project = Project("in-container", $$"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" Cpus="0.5" />
                <Environment Include="baked" BaseImage="{{ComputeServices.PythonImage}}" Variables="GREETING=hello from the image"
                             DockerfileLines="RUN echo baked-in > /baked.txt" />
                <FileDataset Include="raw" Path="data" />
                <FileDataset Include="linked" Path="data/*.txt" />
                <FileDataset Include="copied" Path="data" Mode="Download" />
                <StepOutput Include="result" />
                <CommandStep Include="probe" Compute="engine" Environment="baked"
                             Command="sh -c 'exec > $2/probe.txt; test -f /.dockerenv &amp;&amp; cat /baked.txt &amp;&amp; echo $GREETING &amp;&amp; cat $1/a.txt &amp;&amp; id -u &amp;&amp; (touch $1/new.txt 2>/dev/null &amp;&amp; echo input-writable || echo input-read-only); (cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) | cut -d\  -f1; cat $3/a.txt $4/a.txt' probe {input:raw} {output:result} {input:linked} {input:copied}" />
              </ItemGroup>
            """);
        project.Write("data/a.txt", "input data\n");

        var build = project.Build().ShouldSucceed();

        Assert.Equal(1, build.Ran);
        using var history = project.History();
        var output = history.StepRuns(build.RunId).Single().Outputs["result"];
        var probe = File.ReadAllLines(Path.Combine(project.Datastore, output.Path, "probe.txt"));
        // Cpus="0.5": a CFS quota of half the period. Linked (glob) and downloaded inputs read the same in the container.
        Assert.Equal(["baked-in", "hello from the image", "input data", "0", "input-read-only", "50000", "input data", "input data"], probe);
        Assert.False(File.Exists(Path.Combine(project.Directory, "data", "new.txt")));
    }

    [Fact]
    public void BlobInputsInEveryModeAndDirectLocalInputsReadTheSameInTheContainer()
    {
        var container = AzuriteServer.NewContainer();
        container.GetBlobClient("raw/a.csv").Upload(BinaryData.FromString("blob data\n"));
        var project = Project("modes", $$"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" />
                <Datastore Include="lake" Kind="AzureBlob" Container="{{container.Name}}" ConnectionStringVariable="LAKE_CONNECTION" />
                <FileDataset Include="mounted" Datastore="lake" Path="raw/*.csv" />
                <FileDataset Include="downloaded" Datastore="lake" Path="raw" Mode="Download" />
                <FileDataset Include="direct" Path="data" Mode="Direct" />
                <StepOutput Include="result" />
                <CommandStep Include="read" Compute="engine" Environment="python-3.11"
                             Command="sh -c 'cat $1/a.csv $2/a.csv $3/local.txt > $4/all.txt' read {input:mounted} {input:downloaded} {input:direct} {output:result}" />
              </ItemGroup>
            """);
        project.Environment["LAKE_CONNECTION"] = AzuriteServer.ConnectionString;
        project.Write("data/local.txt", "local data\n");

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var output = history.StepRuns(build.RunId).Single().Outputs["result"];
        Assert.Equal(["blob data", "blob data", "local data"], File.ReadAllLines(Path.Combine(project.Datastore, output.Path, "all.txt")));
    }

    [Fact]
    public void ImageIsBuiltOnceByEnvironmentHashAndAChangedEnvironmentRerunsItsSteps()
    {
        // A definition no earlier test run built, so the first build must build it.
        var project = Project("image-once", $"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" />
                <Environment Include="env" BaseImage="{ComputeServices.PythonImage}" DockerfileLines="RUN echo v1 {Guid.NewGuid():N} > /version.txt" />
                <CommandStep Include="show" Compute="engine" Environment="env" Command="cat /version.txt" />
              </ItemGroup>
            """);
        var first = project.Build().ShouldSucceed();
        var firstLog = BuildLog(project, first.RunId, "show");
        Assert.Contains("Building pipelinesdk/env:", firstLog);
        var image = firstLog.Split(' ', '\n').First(w => w.StartsWith("pipelinesdk/env:"));

        var rebuilt = project.Build("-t:Rebuild").ShouldSucceed();
        Assert.Equal(1, rebuilt.Ran);
        Assert.Contains($"Image {image} for environment 'env'", BuildLog(project, rebuilt.RunId, "show"));
        Assert.Contains("not rebuilt", BuildLog(project, rebuilt.RunId, "show"));

        project.EditProject(p => p.Replace("echo v1", "echo v2"));
        var changed = project.Build("-v:d").ShouldSucceed();
        Assert.Equal("environment env changed", changed.ReasonFor("show"));
        Assert.DoesNotContain(image, BuildLog(project, changed.RunId, "show"));
        Assert.Contains("v2", File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{changed.RunId}-show", "std_log.txt")));
        Assert.NotEmpty(Docker("images", "--quiet", image));
    }

    [Fact]
    public void FailedImageBuildFailsTheStepWithTheBuildLogsTailAndOtherStepsGoOn()
    {
        var project = Project("bad-image", $"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" />
                <Environment Include="broken" BaseImage="{ComputeServices.PythonImage}" DockerfileLines="RUN echo cannot-build-marker &amp;&amp; exit 3" />
                <CommandStep Include="in_broken" Compute="engine" Environment="broken" Command="true" />
                <CommandStep Include="elsewhere" Command="true" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("error PS0100", build.Output);
        Assert.Contains("in_broken", build.Output);
        Assert.Contains("building the image of environment 'broken' failed", build.Output);
        Assert.Contains("cannot-build-marker", build.Output);
        Assert.Equal(new HashSet<string> { "elsewhere" }, build.StepsThatRan);
        // Never cached: the next build tries again.
        var again = project.Build().ShouldFail();
        Assert.Contains("in_broken", again.Output);
        Assert.Equal(new HashSet<string> { "elsewhere" }, again.StepsReused);
    }

    [Fact]
    public void ExitCodeMemoryLimitAndMissingImageAreTheStepsErrors()
    {
        var project = Project("faults", $"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" Memory="64M" />
                <Environment Include="python" BaseImage="{ComputeServices.PythonImage}" UserManagedDependencies="true" />
                <Environment Include="missing" BaseImage="local/does-not-exist:1" UserManagedDependencies="true" />
                <CommandStep Include="exits_3" Compute="engine" Environment="python" Command="sh -c 'echo about to fail >&amp;2; exit 3'" />
                <CommandStep Include="greedy" Compute="engine" Environment="python" Command="python3 -c 'x = bytearray(400 * 1024 * 1024)'" />
                <CommandStep Include="no_image" Compute="engine" Environment="missing" Command="true" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Equal((3, 0, 3), (build.Steps, build.Ran, build.Failed));
        Assert.Matches("exits_3.*exit code 3", build.Output);
        Assert.Contains("about to fail", build.Output);
        Assert.Contains("more than its memory limit (64M)", build.Output);
        Assert.Contains("image local/does-not-exist:1 of environment 'missing' is not on the engine", build.Output);
        Assert.Empty(LeftoverContainers(build.RunId));
    }

    [Fact]
    public void UnreachableEngineFailsItsStepsNamingTheEngineAndLocalStepsRun()
    {
        var project = Project("no-engine", $"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" DockerEndpoint="unix:///tmp/no-such-docker-{Guid.NewGuid():N}.sock" />
                <CommandStep Include="remote" Compute="engine" Environment="python-3.11" Command="true" />
                <CommandStep Include="here" Command="true" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("remote", build.Output);
        Assert.Contains("compute target 'engine'", build.Output);
        Assert.Contains("is unreachable", build.Output);
        Assert.Equal(new HashSet<string> { "here" }, build.StepsThatRan);
    }

    [Fact]
    public void RemoteEngineOverTcpWithMutualTlsRunsTheStepAndAWrongAuthorityIsRefused()
    {
        var certificates = ComputeServices.Docker["PIPELINESDK_DOCKER_CERTS"];
        var strangers = Path.Combine(Path.GetTempPath(), $"psdk-strangers-{Guid.NewGuid():N}");
        Directory.CreateDirectory(strangers);
        // The client's own certificate, but a CA the engine's certificate does not chain to.
        foreach (var file in new[] { "cert.pem", "key.pem" }) File.Copy(Path.Combine(certificates, file), Path.Combine(strangers, file));
        using (var rsa = System.Security.Cryptography.RSA.Create(2048))
        {
            var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=stranger", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
            File.WriteAllText(Path.Combine(strangers, "ca.pem"), request.CreateSelfSigned(DateTimeOffset.Now, DateTimeOffset.Now.AddDays(1)).ExportCertificatePem());
        }
        var endpoint = ComputeServices.Docker["PIPELINESDK_DOCKER_TLS_HOST"];
        var project = Project("tls", $$"""
              <ItemGroup>
                <ComputeTarget Include="remote" Kind="Docker" Network="none" DockerEndpoint="{{endpoint}}" DockerCertificates="{{certificates}}" />
                <ComputeTarget Include="impostor" Kind="Docker" Network="none" DockerEndpoint="{{endpoint}}" DockerCertificates="{{strangers}}" />
                <CommandStep Include="over_tls" Compute="remote" Environment="python-3.11" Command="sh -c 'test -f /.dockerenv &amp;&amp; echo over-tls'" />
                <CommandStep Include="untrusted" Compute="impostor" Environment="python-3.11" Command="sh -c 'echo untrusted'" />
              </ItemGroup>
            """);
        project.Environment.Remove("DOCKER_HOST");

        var build = project.Build().ShouldFail();

        Assert.Equal(new HashSet<string> { "over_tls" }, build.StepsThatRan);
        Assert.Contains("over-tls", File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{build.RunId}-over_tls", "std_log.txt")));
        Assert.Contains($"the Docker engine of compute target 'impostor' at {endpoint} is unreachable", build.Output);
    }

    [Fact]
    public void CancellingTheBuildStopsAndRemovesItsContainers()
    {
        var project = Project("cancel", $"""
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" />
                <CommandStep Include="sleeper_to_cancel" Compute="engine" Environment="python-3.11" Command="sh -c 'echo started-long; sleep 120'" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("started-long", TimeSpan.FromMinutes(2));
        var runId = Docker("ps", "--filter", "label=org.pipelinesdk.step=sleeper_to_cancel", "--format", "{{.Label \"org.pipelinesdk.run\"}}");
        Assert.NotEmpty(runId);

        running.Interrupt();
        var result = running.WaitForExit();

        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(LeftoverContainers(runId));
    }

    [Fact]
    public void ContainersOfAKilledBuildAreRemovedByTheNextBuild()
    {
        var project = Project("killed", """
              <ItemGroup>
                <ComputeTarget Include="engine" Kind="Docker" Network="none" />
                <CommandStep Include="orphan_candidate" Compute="engine" Environment="python-3.11" Command="sh -c 'echo orphan-started; sleep 120'" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("orphan-started", TimeSpan.FromMinutes(2));
        var runId = Docker("ps", "--filter", "label=org.pipelinesdk.step=orphan_candidate", "--format", "{{.Label \"org.pipelinesdk.run\"}}");

        running.Kill();
        Assert.NotEmpty(LeftoverContainers(runId)); // a crash cannot clean up after itself

        project.EditProject(p => p.Replace("sleep 120", "true"));
        project.Build().ShouldSucceed();

        Assert.Empty(LeftoverContainers(runId));
    }

    private static string BuildLog(PipelineProject project, string runId, string step) =>
        File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{runId}-{step}", "20_image_build_log.txt"));
}
