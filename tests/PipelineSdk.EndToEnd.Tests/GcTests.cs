using System.Text.Json;

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
}
