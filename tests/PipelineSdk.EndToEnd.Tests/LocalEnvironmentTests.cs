namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Environments on the Local target: virtual environments made once per definition, variables, time limits.</summary>
public sealed class LocalEnvironmentTests
{
    private const string Probe = "import os, sys\nout = sys.argv[1]\nopen(os.path.join(out, 'probe.txt'), 'w').write(sys.prefix + '\\n' + os.environ['MODE'] + '\\n')\n";

    private static string BuildLog(PipelineProject project, string runId, string step) =>
        File.ReadAllText(Path.Combine(project.Datastore, "logs", $"{runId}-{step}", "20_image_build_log.txt"));

    [Fact]
    public void EnvironmentWithoutAnImageBecomesAVirtualEnvironmentMadeOnce()
    {
        var project = new PipelineProject("venv").WithProject("""
              <ItemGroup>
                <Environment Include="isolated" Variables="MODE=isolated" />
                <StepOutput Include="a_out" />
                <StepOutput Include="b_out" />
                <PythonScriptStep Include="a" SourceDirectory="a" ScriptName="probe.py" Environment="isolated" Arguments="{output:a_out}" />
                <PythonScriptStep Include="b" SourceDirectory="b" ScriptName="probe.py" Environment="isolated" Arguments="{output:b_out}" />
              </ItemGroup>
            """);
        project.Write("a/probe.py", Probe).Write("b/probe.py", Probe + "# b\n");

        var first = project.Build().ShouldSucceed();

        Assert.Equal(2, first.Ran);
        var envs = Path.Combine(project.Workspace, "envs");
        var venv = Assert.Single(Directory.GetDirectories(envs));
        using (var history = project.History())
            foreach (var run in history.StepRuns(first.RunId))
            {
                var probe = File.ReadAllLines(Path.Combine(project.Datastore, run.Outputs[$"{run.Step}_out"].Path, "probe.txt"));
                Assert.Equal([venv, "isolated"], probe);
            }
        var logs = new[] { BuildLog(project, first.RunId, "a"), BuildLog(project, first.RunId, "b") };
        Assert.Single(logs, l => l.Contains("Creating virtual environment for 'isolated'"));
        Assert.Single(logs, l => l.Contains("was prepared for another step of this build"));

        var rebuilt = project.Build("-t:Rebuild").ShouldSucceed();
        var again = new[] { BuildLog(project, rebuilt.RunId, "a"), BuildLog(project, rebuilt.RunId, "b") };
        Assert.Single(again, l => l.Contains($"exists at {venv}; not rebuilt"));
        Assert.DoesNotContain(again, l => l.Contains("Creating"));
        Assert.Equal([venv], Directory.GetDirectories(envs));
    }

    [Fact]
    public void PackagesThatCannotBeInstalledFailTheStepWithPipsWordsAndLeaveNothing()
    {
        var project = new PipelineProject("no-index").WithProject("""
              <ItemGroup>
                <Environment Include="needs_index" PipPackages="pipelinesdk-no-such-package==0.0.1" />
                <CommandStep Include="uses_it" Environment="needs_index" Command="python -c pass" />
                <CommandStep Include="other" Command="echo other" />
              </ItemGroup>
            """);
        project.Environment["PIP_RETRIES"] = "0";
        project.Environment["PIP_TIMEOUT"] = "3";

        var build = project.Build().ShouldFail();

        Assert.Contains("Step 'uses_it' could not start", build.Output);
        Assert.Contains("building environment 'needs_index' failed", build.Output);
        Assert.Contains("pipelinesdk-no-such-package", build.Output);
        Assert.Equal(new HashSet<string> { "other" }, build.StepsThatRan);
        Assert.Empty(Directory.GetDirectories(Path.Combine(project.Workspace, "envs")));
    }

    [Fact]
    public void StepIsStoppedAtItsTimeLimit()
    {
        var project = new PipelineProject("time-limit").WithProject("""
              <ItemGroup>
                <CommandStep Include="slow" Command="sleep 60" TimeLimit="0:02" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Contains("stopped at its time limit (0:02)", build.Output);
        using var history = project.History();
        var run = Assert.Single(history.StepRuns(build.RunId));
        Assert.InRange((run.Ended!.Value - run.Started!.Value).TotalSeconds, 1.5, 30);
    }
}
