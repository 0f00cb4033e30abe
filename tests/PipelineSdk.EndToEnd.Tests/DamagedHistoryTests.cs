using PipelineSdk.Testing;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// A run history that cannot be used as it is stops the build with a coded error before anything runs, and is left
/// byte for byte as it was; a workspace that cannot be written is still read by a dry run and -question.
/// </summary>
public sealed class DamagedHistoryTests
{
    private const string TwoSteps = """
          <ItemGroup>
            <PipelineParameter Include="word" Default="hello" />
            <StepOutput Include="said" />
            <CommandStep Include="say" Command="sh -c 'echo {param:word} > {output:said}/word.txt'" />
            <CommandStep Include="hear" Command="sh -c 'cat {input:said}/word.txt'" />
          </ItemGroup>
        """;

    /// <summary>The history of one real build, copied into each project that damages it.</summary>
    private static readonly Lazy<byte[]> RecordedHistory = new(() =>
    {
        var project = new PipelineProject("recorded").WithProject(TwoSteps);
        project.Build().ShouldSucceed();
        return File.ReadAllBytes(Path.Combine(project.Workspace, "runs.db"));
    });

    [Theory]
    [InlineData(HistoryDamage.Truncated, "it is cut short")]
    [InlineData(HistoryDamage.Garbage, "not a SQLite database")]
    [InlineData(HistoryDamage.BadHeader, "not a SQLite database")]
    [InlineData(HistoryDamage.Empty, "empty (0 bytes)")]
    public void ADamagedHistoryStopsTheBuildWithACodedErrorAndIsLeftAsItWas(string damage, string problem)
    {
        var project = new PipelineProject("damaged").WithProject(TwoSteps);
        Directory.CreateDirectory(project.Workspace);
        var database = Path.Combine(project.Workspace, "runs.db");
        File.WriteAllBytes(database, RecordedHistory.Value);
        HistoryDamage.Apply(database, damage);
        var before = HistoryDamage.Sha256(database);

        var build = project.Build().ShouldFail();

        var error = build.Output.Split('\n').FirstOrDefault(l => l.Contains("error PS0030:")) ?? throw new Xunit.Sdk.XunitException($"no error PS0030 in:\n{build.Output}");
        Assert.Contains($"{project.ProjectFile} : error PS0030: The run history {database} is damaged: ", error);
        Assert.Contains(problem, error);
        Assert.Contains("Restore it from a backup, or move it aside", error);
        Assert.DoesNotContain("MSB4018", build.Output);
        Assert.False(build.HasSummary);
        Assert.False(Directory.Exists(Path.Combine(project.Datastore, "outputs")), "a step ran on a damaged history");
        Assert.Equal(before, HistoryDamage.Sha256(database));
        Assert.False(HistoryDamage.WalHoldsFrames(database), "the build wrote into the damaged history's log");
    }

    [Fact]
    public void OnAReadOnlyWorkspaceADryRunAndQuestionReadTheHistoryAndABuildFailsWithACodedError()
    {
        var project = new PipelineProject("readonly").WithProject(TwoSteps);
        var first = project.Build().ShouldSucceed();
        var database = Path.Combine(project.Workspace, "runs.db");
        var before = HistoryDamage.Sha256(database);

        using (new ReadOnlyMount(project.Workspace))
        {
            var dry = project.Build("-p:PipelineDryRun=true", "-p:word=bye").ShouldSucceed();
            Assert.Contains("say: would run (parameter word", dry.Output);
            Assert.Contains("hear: would run (upstream step 'say' would run)", dry.Output);
            Assert.Contains("PipelineSdk: readonly dry run: 2 steps, 2 would run, 0 would be reused", dry.Output);

            var question = project.Build("-question").ShouldSucceed();
            Assert.Contains($"say: would be reused from run {first.RunId}", question.Output);

            var build = project.Build("-p:word=bye").ShouldFail();
            var error = build.Output.Split('\n').FirstOrDefault(l => l.Contains("error PS0031:")) ?? throw new Xunit.Sdk.XunitException($"no error PS0031 in:\n{build.Output}");
            Assert.Contains($"{project.ProjectFile} : error PS0031: The workspace {project.Workspace} is not writable", error);
            Assert.DoesNotContain("MSB4018", build.Output);
            Assert.False(build.HasSummary);

            var (exit, runs, errors) = project.Mlp("runs", "list", "--json");
            Assert.True(exit == 0, errors);
            Assert.Contains(first.RunId, runs);
        }
        Assert.Equal(before, HistoryDamage.Sha256(database));
    }

    [Fact]
    public void OnAReadOnlyWorkspaceWithoutHistoryADryRunSaysEveryStepWouldRunAndABuildFailsWithACodedError()
    {
        var project = new PipelineProject("readonly-new").WithProject(TwoSteps).Write("workspace.json", """{"name": "shared", "path": "ws"}""");
        var workspace = Directory.CreateDirectory(Path.Combine(project.Directory, "ws")).FullName;

        using var mount = new ReadOnlyMount(workspace);
        var dry = project.Build("-p:PipelineDryRun=true").ShouldSucceed();
        Assert.Contains("say: would run (no earlier run)", dry.Output);
        Assert.Contains("PipelineSdk: readonly-new dry run: 2 steps, 2 would run, 0 would be reused", dry.Output);

        var build = project.Build().ShouldFail();
        Assert.Contains($"{project.ProjectFile} : error PS0031: The workspace {workspace} is not writable", build.Output);
        Assert.DoesNotContain("MSB4018", build.Output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(workspace));
    }
}
