using System.Globalization;
using System.Text.RegularExpressions;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// Steps as jobs of a real 2-node Slurm cluster (ComputeTarget Kind="Slurm"), through sbatch and through slurmrestd.
/// One class, so its tests run one after another: one of them takes a node down.
/// </summary>
public sealed class SlurmComputeTests
{
    private static IReadOnlyDictionary<string, string> Cluster => ComputeServices.Slurm;

    private static string Slurm(string program, params string[] arguments) => ComputeServices.Run(Cluster, program, arguments);

    /// <summary>A target through slurmrestd, authenticated with the token file the cluster script wrote.</summary>
    private static string RestTarget(string name, string extra = "") =>
        $"""<ComputeTarget Include="{name}" Kind="Slurm" MaxNodes="2" RestEndpoint="{Cluster["PIPELINESDK_SLURM_REST"]}" UserName="{Cluster["PIPELINESDK_SLURM_USER"]}" TokenFile="{Cluster["PIPELINESDK_SLURM_TOKEN_FILE"]}" {extra} />""";

    private static PipelineProject Project(string name, string body)
    {
        var project = new PipelineProject(name).WithProject(body);
        foreach (var (key, value) in Cluster) project.Environment[key] = value;
        return project;
    }

    private static string StepLog(PipelineProject project, string runId, string step) =>
        File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{runId}-{step}", "std_log.txt"));

    private static string NodeOf(string log) => Regex.Match(log, @"step runs on node (\S+) as job").Groups[1].Value;

    /// <summary>Jobs of this cluster whose name is one of PipelineSdk's for <paramref name="step"/>, still pending or running.</summary>
    private static string QueuedJobs(string step) => Slurm("squeue", "--noheader", "--name", $"psdk-{step}", "--format", "%i");

    [Fact]
    public void SeedSampleRunsAsBatchJobsInContainersOnTheNodesAndLocalReusesIt()
    {
        var project = PipelineProject.FromSeedSample();
        foreach (var (key, value) in Cluster) project.Environment[key] = value;

        var build = project.Build("-p:StepCompute=slurm").ShouldSucceed();

        Assert.Equal((4, 4, 0), (build.Steps, build.Ran, build.Failed));
        foreach (var step in new[] { "data_prep", "train_logreg", "train_centroid", "compare" })
        {
            var log = StepLog(project, build.RunId, step);
            Assert.Matches(@"submitted as job \d+ to the Slurm cluster", log);
            Assert.Matches("^n[12]$", NodeOf(log));
        }
        using (var history = project.History())
            Assert.All(history.StepRuns(build.RunId), r => Assert.Equal("slurm", r.Compute));
        Assert.Empty(ComputeServices.Run(ComputeServices.Docker, "docker", "ps", "--all", "--quiet", "--filter", "name=psdk-" + build.RunId));

        Assert.Equal(4, project.Build().ShouldSucceed().Reused);
    }

    [Fact]
    public void TwoIndependentStepsRunOnDifferentNodesAtOnceThroughTheRestApi()
    {
        var stamp = "sh -c 'date +%s.%N > $1/start; echo $SLURMD_NODENAME > $1/node; env > $1/env; sleep 4; date +%s.%N > $1/end' step";
        var project = Project("two-nodes", $$"""
              <ItemGroup>
                {{RestTarget("cluster", "Cpus=\"1\" TimeLimit=\"5\"")}}
                <StepOutput Include="left_out" />
                <StepOutput Include="right_out" />
                <CommandStep Include="left" Compute="cluster" Command="{{stamp}} {output:left_out}" />
                <CommandStep Include="right" Compute="cluster" Command="{{stamp}} {output:right_out}" />
              </ItemGroup>
            """);
        // A token in the build's environment is for the engine only: steps never see it.
        project.Environment["SLURM_JWT"] = "secret-token-that-steps-must-not-see";

        var build = project.Build().ShouldSucceed();

        Assert.Equal(2, build.Ran);
        using var history = project.History();
        var runs = history.StepRuns(build.RunId).ToDictionary(r => r.Step);
        string Read(string step, string file) => File.ReadAllText(Path.Combine(project.Datastore, runs[step].Outputs[$"{step}_out"].Path, file)).Trim();
        double Time(string step, string file) => double.Parse(Read(step, file), CultureInfo.InvariantCulture);
        Assert.NotEqual(Read("left", "node"), Read("right", "node"));
        Assert.True(Time("left", "start") < Time("right", "end") && Time("right", "start") < Time("left", "end"), "the two jobs did not overlap");
        Assert.DoesNotContain("secret-token", Read("left", "env"));
        Assert.DoesNotContain(File.ReadAllText(Cluster["PIPELINESDK_SLURM_TOKEN_FILE"]).Trim(), build.Output);
        Assert.Contains("slurmrestd at", StepLog(project, build.RunId, "left"));
        // The run history says where each step ran.
        var (exit, shown, errors) = project.Mlp("runs", "show", build.RunId);
        Assert.True(exit == 0, errors);
        Assert.Matches($@"left\s.*cluster \({Read("left", "node")}, job \d+\)", shown);
        Assert.Matches($@"right\s.*cluster \({Read("right", "node")}, job \d+\)", shown);
    }

    [Fact]
    public void PythonStepWithAUserManagedInterpreterRunsOnTheNodeAndItsExitCodeIsHonoured()
    {
        var project = Project("exit-codes", $$"""
              <ItemGroup>
                {{RestTarget("rest")}}
                <ComputeTarget Include="cli" Kind="Slurm" />
                <Environment Include="node-python" UserManagedDependencies="true" />
                <PythonScriptStep Include="py" SourceDirectory="src" ScriptName="hello.py" Compute="rest" Environment="node-python" />
                <CommandStep Include="exit3_rest" Compute="rest" Command="sh -c 'echo going down >&amp;2; exit 3'" />
                <CommandStep Include="exit4_cli" Compute="cli" Command="sh -c 'exit 4'" />
              </ItemGroup>
            """);
        project.Write("src/hello.py", "import os, sys\nprint('python', sys.version_info[0], 'on', os.environ['SLURMD_NODENAME'])\n");

        var build = project.Build().ShouldFail();

        Assert.Equal(new HashSet<string> { "py" }, build.StepsThatRan);
        Assert.Matches(@"python 3 on n[12]", StepLog(project, build.RunId, "py"));
        Assert.Matches("exit3_rest' failed with exit code 3", build.Output);
        Assert.Contains("going down", build.Output);
        Assert.Matches("exit4_cli' failed with exit code 4", build.Output);
    }

    [Fact]
    public void UnknownPartitionImpossibleResourcesAndAnUnreachableClusterFailTheirStepsOnly()
    {
        var project = Project("rejected", $$"""
              <ItemGroup>
                {{RestTarget("no_partition", "Partition=\"gpu-a100\"")}}
                <ComputeTarget Include="too_big" Kind="Slurm" Memory="100G" />
                <ComputeTarget Include="down" Kind="Slurm" RestEndpoint="http://127.0.0.1:9" TokenVariable="NO_SUCH_TOKEN" />
                <CommandStep Include="wrong_partition" Compute="no_partition" Command="echo partition" />
                <CommandStep Include="needs_100g" Compute="too_big" Command="echo memory" />
                <CommandStep Include="unreachable" Compute="down" Command="echo cluster" />
                <CommandStep Include="fine" Command="echo fine" />
              </ItemGroup>
            """);
        project.Environment["NO_SUCH_TOKEN"] = "x";

        var build = project.Build().ShouldFail();

        Assert.Equal(new HashSet<string> { "fine" }, build.StepsThatRan);
        Assert.Contains("has no partition 'gpu-a100' (it has: debug)", build.Output);
        Assert.Matches("needs_100g.*rejected the job: .*Requested node configuration is not available", build.Output);
        Assert.Matches("unreachable.*slurmrestd at http://127.0.0.1:9 is unreachable", build.Output);
        Assert.Empty(QueuedJobs("needs_100g"));
    }

    [Fact]
    public void JobPastItsTimeLimitIsStoppedBySlurmAndNamedAsSuch()
    {
        // Slurm counts time limits in minutes and checks them about every 30 s: this test takes a minute or two.
        var project = Project("time-limit", """
              <ItemGroup>
                <ComputeTarget Include="cluster" Kind="Slurm" TimeLimit="1" />
                <CommandStep Include="overtime" Compute="cluster" Command="sleep 600" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("Step 'overtime' failed with exit code 124", build.Output);
        Assert.Matches(@"job \d+ reached its time limit \(1\)", build.Output);
        Assert.Empty(QueuedJobs("overtime"));
    }

    [Fact]
    public void ANodeThatDiesFailsItsStepNamingTheNodeAndTheOtherStepFinishes()
    {
        var project = Project("node-dies", """
              <ItemGroup>
                <ComputeTarget Include="cluster" Kind="Slurm" MaxNodes="2" Cpus="1" />
                <CommandStep Include="doomed" Compute="cluster" Command="sh -c 'echo doomed-started; sleep 60'" />
                <CommandStep Include="survivor" Compute="cluster" Command="sh -c 'echo survivor-started; sleep 6'" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        string node = "";
        try
        {
            running.WaitForOutput("doomed-started", TimeSpan.FromMinutes(1));
            node = Slurm("squeue", "--noheader", "--name", "psdk-doomed", "--format", "%N");
            Slurm("scontrol", "update", $"nodename={node}", "state=down", "reason=pipelinesdk-test");

            var build = running.WaitForExit().ShouldFail();

            Assert.Contains($"node {node} failed while job", build.Output);
            Assert.Contains("doomed", build.Output);
            Assert.Equal(new HashSet<string> { "survivor" }, build.StepsThatRan);
            using var history = project.History();
            Assert.Null(history.FindReusable(history.StepRuns(build.RunId).Single(r => r.Step == "doomed").Fingerprint!));
        }
        finally
        {
            if (node.Length > 0) Slurm("scontrol", "update", $"nodename={node}", "state=resume");
        }
    }

    [Fact]
    public void JobsAndContainersOfAKilledBuildAreCancelledByTheNextBuild()
    {
        var project = Project("killed-jobs", """
              <ItemGroup>
                <ComputeTarget Include="cluster" Kind="Slurm" MaxNodes="2" Network="none" />
                <CommandStep Include="orphan_job" Compute="cluster" Command="sh -c 'echo orphan-job; sleep 120'" />
                <CommandStep Include="orphan_container" Compute="cluster" Environment="python-3.11" Command="sh -c 'echo orphan-container; sleep 120'" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("orphan-job", TimeSpan.FromMinutes(1));
        running.WaitForOutput("orphan-container", TimeSpan.FromMinutes(1));
        var runId = Slurm("squeue", "--noheader", "--name", "psdk-orphan_job", "--format", "%k");

        running.Kill();
        Assert.NotEmpty(QueuedJobs("orphan_job")); // a crash cannot clean up after itself

        project.EditProject(p => p.Replace("sleep 120", "true"));
        project.Build().ShouldSucceed();

        Assert.Empty(QueuedJobs("orphan_job"));
        Assert.Empty(QueuedJobs("orphan_container"));
        Assert.Empty(ComputeServices.Run(ComputeServices.Docker, "docker", "ps", "--all", "--quiet", "--filter", $"label=org.pipelinesdk.run={runId}"));
    }

    [Fact]
    public void CancellingTheBuildCancelsItsJobsAndRemovesTheirContainers()
    {
        var project = Project("cancel-jobs", $$"""
              <ItemGroup>
                <ComputeTarget Include="cluster" Kind="Slurm" MaxNodes="2" Network="none" />
                <CommandStep Include="sleeper_job" Compute="cluster" Command="sh -c 'echo job-started; sleep 120'" />
                <CommandStep Include="sleeper_container" Compute="cluster" Environment="python-3.11" Command="sh -c 'echo container-started; sleep 120'" />
              </ItemGroup>
            """);
        var running = project.StartBuild("-v:d");
        running.WaitForOutput("job-started", TimeSpan.FromMinutes(1));
        running.WaitForOutput("container-started", TimeSpan.FromMinutes(1));
        Assert.NotEmpty(QueuedJobs("sleeper_job"));

        running.Interrupt();
        var result = running.WaitForExit();
        Assert.NotEqual(0, result.ExitCode);

        Assert.True(QueuedJobs("sleeper_job").Length == 0, result.Output);
        Assert.Empty(QueuedJobs("sleeper_container"));
        Assert.Empty(ComputeServices.Run(ComputeServices.Docker, "docker", "ps", "--all", "--quiet", "--filter", "name=sleeper_container"));
    }
}
