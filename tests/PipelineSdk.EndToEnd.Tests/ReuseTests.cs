using Microsoft.Data.Sqlite;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Reuse you can trust: exactly what changed reruns, and every decision explains itself.</summary>
public sealed class ReuseTests
{
    private static PipelineProject TwoBranches(string name) => new PipelineProject(name).WithProject("""
          <ItemGroup>
            <FileDataset Include="images" Path="data/images" />
            <FileDataset Include="labels" Path="data/labels/*.csv" />
            <StepOutput Include="features" />
            <StepOutput Include="label_stats" />
            <StepOutput Include="report" />
            <CommandStep Include="featurize" SourceDirectory="steps/featurize" Command="sh featurize.sh {input:images} {output:features}" />
            <CommandStep Include="count_labels" SourceDirectory="steps/count" Command="sh count.sh {input:labels} {output:label_stats}" />
            <CommandStep Include="report" Command="sh -c 'cat {input:features}/* {input:label_stats}/* > {output:report}/report.txt'" />
          </ItemGroup>
        """)
        .Write("data/images/cat.bin", "meow")
        .Write("data/images/dog.bin", "woof")
        .Write("data/labels/a.csv", "cat\n")
        .Write("data/labels/b.csv", "dog\n")
        .Write("data/labels/ignored.txt", "not matched by the glob")
        .Write("steps/featurize/featurize.sh", "cat \"$1\"/* | wc -c > \"$2/size.txt\"\n")
        .Write("steps/count/count.sh", "cat \"$1\"/*.csv | wc -l > \"$2/count.txt\"\n");

    [Fact]
    public void DataChangeRerunsExactlyTheDependentSteps()
    {
        var project = TwoBranches("datachange");
        project.Build().ShouldSucceed();

        project.Write("data/labels/a.csv", "cat\ncat\n");
        var build = project.Build().ShouldSucceed();

        Assert.Equal(new HashSet<string> { "count_labels", "report" }, build.StepsThatRan);
        Assert.Equal("input 'labels' file a.csv changed", build.ReasonFor("count_labels"));
        Assert.Equal("input 'label_stats' file count.txt changed", build.ReasonFor("report"));
        Assert.Contains("3", File.ReadAllText(Directory.GetFiles(project.Datastore, "count.txt", SearchOption.AllDirectories).OrderBy(File.GetLastWriteTimeUtc).Last()));
    }

    [Fact]
    public void TouchingFilesWithoutChangingThemRunsNothing()
    {
        var project = TwoBranches("touch");
        project.Build().ShouldSucceed();

        foreach (var file in Directory.EnumerateFiles(Path.Combine(project.Directory, "data"), "*", SearchOption.AllDirectories)
                     .Concat(Directory.EnumerateFiles(Path.Combine(project.Directory, "steps"), "*", SearchOption.AllDirectories)))
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow);
        var build = project.Build().ShouldSucceed();

        Assert.Equal(0, build.Ran);
        Assert.Equal(3, build.Reused);
    }

    [Fact]
    public void IgnoredFilesDoNotCountAndAmlignoreWinsOverGitignore()
    {
        var project = TwoBranches("ignore")
            .Write("steps/featurize/.amlignore", "notes/\n*.log\n")
            .Write("steps/featurize/.gitignore", "*.md\n");
        project.Build().ShouldSucceed();

        project.Write("steps/featurize/notes/todo.txt", "try a bigger model").Write("steps/featurize/debug.log", "noise");
        Assert.Equal(0, project.Build().ShouldSucceed().Ran);

        project.Write("steps/featurize/README.md", "only .gitignore ignores this, and .amlignore wins");
        var build = project.Build().ShouldSucceed();
        Assert.Equal(new HashSet<string> { "featurize" }, build.StepsThatRan);
        Assert.Equal("source file README.md added", build.ReasonFor("featurize"));
    }

    [Fact]
    public void OutputDeletedOrEditedByHandIsRestoredFromTheStore()
    {
        var project = TwoBranches("restore");
        var first = project.Build().ShouldSucceed();
        using (var history = project.History())
        {
            var outputs = history.StepRuns(first.RunId).SelectMany(s => s.Outputs.Values).ToList();
            Directory.Delete(Path.Combine(project.Datastore, outputs.Single(o => o.Path.EndsWith("/features")).Path), recursive: true);
            File.WriteAllText(Path.Combine(project.Datastore, outputs.Single(o => o.Path.EndsWith("/label_stats")).Path, "count.txt"), "tampered\n");
        }

        var build = project.Build().ShouldSucceed();

        Assert.Equal(0, build.Ran);
        Assert.Contains($"featurize: reused from run {first.RunId} (output 'features' restored from the store)", build.Output);
        Assert.Contains($"count_labels: reused from run {first.RunId} (output 'label_stats' restored from the store)", build.Output);
        using var after = project.History();
        var restored = after.StepRuns(first.RunId).ToDictionary(s => s.Step);
        Assert.Equal("8", File.ReadAllText(Path.Combine(project.Datastore, restored["featurize"].Outputs["features"].Path, "size.txt")).Trim());
        Assert.Equal("2", File.ReadAllText(Path.Combine(project.Datastore, restored["count_labels"].Outputs["label_stats"].Path, "count.txt")).Trim());
    }

    [Fact]
    public void OutputLostFromDatastoreAndStoreRerunsTheStep()
    {
        var project = TwoBranches("lost");
        var first = project.Build().ShouldSucceed();
        using (var history = project.History())
            Directory.Delete(Path.Combine(project.Datastore, history.StepRuns(first.RunId).Single(s => s.Step == "featurize").Outputs["features"].Path), recursive: true);
        Directory.Delete(Path.Combine(project.Datastore, ".cas"), recursive: true);

        var build = project.Build().ShouldSucceed();

        Assert.Equal(new HashSet<string> { "featurize" }, build.StepsThatRan);
        Assert.Equal($"output 'features' of run {first.RunId} was deleted or modified and the store has no intact copy", build.ReasonFor("featurize"));
    }

    [Fact]
    public void DryRunSaysWhatWouldRunAndWritesNoRun()
    {
        var project = TwoBranches("dryrun");
        var first = project.Build().ShouldSucceed();
        project.Write("data/labels/b.csv", "dog\nbird\n");

        var dry = project.Build("-p:PipelineDryRun=true").ShouldSucceed();

        Assert.Contains("count_labels: would run (input 'labels' file b.csv changed)", dry.Output);
        Assert.Contains("report: would run (upstream step 'count_labels' would run)", dry.Output);
        Assert.Contains($"featurize: would be reused from run {first.RunId}", dry.Output);
        Assert.Contains("PipelineSdk: dryrun dry run: 3 steps, 2 would run, 1 would be reused", dry.Output);
        Assert.Empty(dry.StepsThatRan);
        using var history = project.History();
        Assert.Single(history.PipelineRuns());
    }

    [Fact]
    public void QuestionFailsExactlyWhenAStepWouldRun()
    {
        var project = TwoBranches("question");

        var never = project.Build("-question").ShouldFail();
        Assert.Contains("error PS0102: The pipeline is not up to date: 3 step(s) would run", never.Output);
        Assert.False(File.Exists(Path.Combine(project.Datastore, "outputs")), "-question ran something");

        project.Build().ShouldSucceed();
        project.Build("-question").ShouldSucceed();

        project.Write("data/images/cow.bin", "moo");
        var stale = project.Build("-question").ShouldFail();
        Assert.Contains("first 'featurize' (input 'images' file cow.bin added)", stale.Output);
    }

    [Fact]
    public void ForceStepsRunsTheNamedStepsAndOnlyWhatTheirChangedOutputsReach()
    {
        var project = TwoBranches("force");
        project.Build().ShouldSucceed();

        var build = project.Build("-p:ForceSteps=featurize").ShouldSucceed();

        Assert.Equal(new HashSet<string> { "featurize" }, build.StepsThatRan);
        Assert.Equal("forced by ForceSteps", build.ReasonFor("featurize"));
        Assert.Contains("report: reused from run", build.Output); // featurize's output came out the same
    }

    [Fact]
    public void DetailedVerbosityListsEveryDifferingField()
    {
        var project = TwoBranches("detailed");
        project.Build().ShouldSucceed();
        project.Write("data/labels/a.csv", "cat\nlion\n").Write("data/labels/c.csv", "owl\n");

        var build = project.Build("-v:d").ShouldSucceed();

        Assert.Contains("count_labels: fingerprint fields that differ from its most recent run: input 'labels' file a.csv changed; input 'labels' file c.csv added", build.Output);
    }

    [Fact]
    public void RunHistoryDatabaseStaysConsistent()
    {
        var project = TwoBranches("integrity");
        project.Build().ShouldSucceed();
        project.Build().ShouldSucceed();

        using var db = new SqliteConnection($"Data Source={Path.Combine(project.Workspace, "runs.db")}");
        db.Open();
        using var check = db.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
        check.CommandText = "SELECT count(*) FROM step_runs";
        Assert.Equal(6L, check.ExecuteScalar());
    }
}
