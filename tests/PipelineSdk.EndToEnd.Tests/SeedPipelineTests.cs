using System.Text.Json;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The seed sample (data_prep → two trainings → compare) through `dotnet build`, as a user runs it.</summary>
public sealed class SeedPipelineTests
{
    private static readonly string[] AllSteps = ["data_prep", "train_logreg", "train_centroid", "compare"];

    [Fact]
    public void FirstBuildRunsEveryStepAndWritesRealResults()
    {
        var project = PipelineProject.FromSeedSample();

        var build = project.Build().ShouldSucceed();

        Assert.Equal((4, 4, 0, 0), (build.Steps, build.Ran, build.Reused, build.Failed));
        Assert.Equal(AllSteps.ToHashSet(), build.StepsThatRan);
        Assert.All(AllSteps, s => Assert.Equal("no earlier run", build.ReasonFor(s)));
        // The summary is the pipeline's last word: nothing of the task follows it before MSBuild's own lines.
        var lines = build.Output.Split('\n').Select(l => l.Trim()).ToList();
        var summary = lines.FindIndex(l => l == $"PipelineSdk: seed-pipeline run {build.RunId}: 4 steps, 4 ran, 0 reused, 0 failed");
        Assert.True(summary >= 0, build.Output);
        Assert.StartsWith("1>Done Building Project", lines[summary + 1]);

        using var history = project.History();
        var compare = history.StepRuns(build.RunId).Single(s => s.Step == "compare");
        var bestModel = compare.Outputs["best_model"];
        Assert.StartsWith("models/", bestModel.Path);
        using var best = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Datastore, bestModel.Path, "best.json")));
        Assert.Equal("logreg", best.RootElement.GetProperty("best_model").GetString());
        Assert.InRange(best.RootElement.GetProperty("accuracy").GetDouble(), 0.85, 1.0);
        Assert.Equal(RunStatus.Succeeded, history.PipelineRun(build.RunId)!.Status);
    }

    [Fact]
    public void SecondIdenticalBuildReusesEveryStep()
    {
        var project = PipelineProject.FromSeedSample();
        var first = project.Build().ShouldSucceed();

        var second = project.Build().ShouldSucceed();

        Assert.Equal((4, 0, 4), (second.Steps, second.Ran, second.Reused));
        Assert.Equal(AllSteps.ToHashSet(), second.StepsReused);
        Assert.Contains($"data_prep: reused from run {first.RunId}", second.Output);
        using var history = project.History();
        Assert.All(history.StepRuns(second.RunId), s => Assert.False(s.Ran));
    }

    [Fact]
    public void ChangingOneScriptRerunsThatStepAndWhatDependsOnIt()
    {
        var project = PipelineProject.FromSeedSample();
        project.Build().ShouldSucceed();

        project.Write("steps/compare/compare.py", project.Read("steps/compare/compare.py") + "\n# tie-break documented\n");
        var afterCompare = project.Build().ShouldSucceed();
        Assert.Equal(new HashSet<string> { "compare" }, afterCompare.StepsThatRan);
        Assert.Equal("script compare.py changed", afterCompare.ReasonFor("compare"));

        project.Write("steps/prep/prepare.py", project.Read("steps/prep/prepare.py") + "\n# a comment changes the snapshot\n");
        var afterPrep = project.Build().ShouldSucceed();
        Assert.Equal("script prepare.py changed", afterPrep.ReasonFor("data_prep"));
        // The prepared data is byte-identical, so content-based reuse keeps the trainings and compare.
        Assert.Equal(new HashSet<string> { "data_prep" }, afterPrep.StepsThatRan);

        project.Write("steps/prep/prepare.py", project.Read("steps/prep/prepare.py").Replace("--test-fraction\", type=float, default=0.25", "--test-fraction\", type=float, default=0.3"));
        var changedData = project.Build().ShouldSucceed();
        Assert.Equal(AllSteps.ToHashSet(), changedData.StepsThatRan);
        Assert.StartsWith("input 'output_data1' file ", changedData.ReasonFor("train_logreg"));
    }

    [Fact]
    public void ParameterOverrideRerunsTheStepsThatUseIt()
    {
        var project = PipelineProject.FromSeedSample();
        project.Build().ShouldSucceed();

        var changed = project.Build("-p:learning_rate=0.001").ShouldSucceed();

        Assert.Equal(new HashSet<string> { "train_logreg", "compare" }, changed.StepsThatRan);
        Assert.Equal("parameter learning_rate 0.1 → 0.001", changed.ReasonFor("train_logreg"));
        Assert.StartsWith("input 'training_results_logreg' file ", changed.ReasonFor("compare"));
        using var history = project.History();
        Assert.Equal("0.001", history.PipelineRun(changed.RunId)!.Parameters["learning_rate"]);

        var back = project.Build().ShouldSucceed();
        Assert.Equal(0, back.Ran);
    }

    [Fact]
    public void RebuildRunsEveryStep()
    {
        var project = PipelineProject.FromSeedSample();
        project.Build().ShouldSucceed();

        var rebuild = project.Build("-t:Rebuild").ShouldSucceed();

        Assert.Equal(AllSteps.ToHashSet(), rebuild.StepsThatRan);
        Assert.All(AllSteps, s => Assert.Equal("Rebuild requested", rebuild.ReasonFor(s)));
    }

    [Fact]
    public void CleanRemovesLocalBuildStateButKeepsRunHistoryAndData()
    {
        var project = PipelineProject.FromSeedSample();
        var first = project.Build().ShouldSucceed();
        var leftover = Path.Combine(project.Directory, "obj", "pipeline", "work", "stale");
        Directory.CreateDirectory(leftover);
        using (var before = project.History())
            Assert.Single(before.PipelineRuns());

        project.Build("-t:Clean").ShouldSucceed();

        Assert.False(Directory.Exists(Path.Combine(project.Directory, "obj", "pipeline")));
        using (var after = project.History())
        {
            Assert.Equal(first.RunId, Assert.Single(after.PipelineRuns()).Id);
            var outputs = after.StepRuns(first.RunId).SelectMany(s => s.Outputs.Values);
            Assert.All(outputs, o => Assert.True(Directory.Exists(Path.Combine(project.Datastore, o.Path)), o.Path));
        }
        Assert.Equal(4, project.Build().ShouldSucceed().Reused);
    }

    [Fact]
    public void DesignTimeBuildValidatesButRunsNothing()
    {
        var project = PipelineProject.FromSeedSample();

        var build = project.Build("-p:DesignTimeBuild=true").ShouldSucceed();

        Assert.False(build.HasSummary);
        Assert.False(File.Exists(Path.Combine(project.Workspace, "runs.db")));
    }
}
