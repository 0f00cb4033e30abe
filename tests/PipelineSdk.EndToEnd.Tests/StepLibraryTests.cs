using System.Diagnostics;
using System.Text.Json;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The step-side library: its own unit tests, scripts run by hand (offline), and metrics of a real pipeline run.</summary>
public sealed class StepLibraryTests
{
    private static string Repo => SdkFeed.Instance.RepositoryRoot;

    [Fact]
    public void PythonLibraryUnitTestsPass()
    {
        var (exit, output) = Run("python3", Repo, "-m", "unittest", "discover", "-s", "sdk/python/tests");

        Assert.True(exit == 0, output);
        Assert.Matches(@"Ran \d+ tests", output);
    }

    [Fact]
    public void SampleScriptsRunByHandAsOfflineRuns()
    {
        var work = Directory.CreateTempSubdirectory("pipelinesdk-offline-").FullName;
        var steps = Path.Combine(Repo, "samples", "SeedPipeline", "steps");
        try
        {
            var (prepExit, prep) = Run("python3", work, Path.Combine(steps, "prep", "prepare.py"),
                "--raw", Path.Combine(Repo, "samples", "SeedPipeline", "data", "raw"), "--output", Path.Combine(work, "prepared"));
            Assert.True(prepExit == 0, prep);
            var (trainExit, train) = Run("python3", work, Path.Combine(steps, "train", "train.py"),
                "--data", Path.Combine(work, "prepared"), "--output", Path.Combine(work, "model"), "--model", "logreg");

            Assert.True(trainExit == 0, train);
            Assert.Matches(@"\[offline run\] accuracy = 0\.\d+", train);
            Assert.False(File.Exists(Path.Combine(work, "metrics.jsonl")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void SeedPipelineRecordsTheMetricsItsScriptsLog()
    {
        var project = PipelineProject.FromSeedSample();

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var steps = history.StepRuns(build.RunId).ToDictionary(s => s.Step);
        var logreg = history.Metrics(steps["train_logreg"].Id);
        var accuracy = JsonSerializer.Deserialize<double>(logreg.Single(m => m.Name == "accuracy").ValueJson);
        Assert.InRange(accuracy, 0.85, 1.0);
        Assert.Equal(10, logreg.Count(m => m.Name == "loss"));
        Assert.Equal("0.1", logreg.Single(m => m.Name == "learning_rate").ValueJson);
        Assert.Equal("logreg", history.Tags(steps["compare"].Id)["best_model"]);
    }

    [Fact]
    public void MlpReadsBackTheMetricsOfTwoSeedBuilds()
    {
        var project = PipelineProject.FromSeedSample();
        var fast = project.Build().ShouldSucceed();
        var slow = project.Build("-p:learning_rate=0.001").ShouldSucceed();

        var (exit, json, errors) = project.Mlp("metrics", fast.RunId, slow.RunId, "--json");

        Assert.True(exit == 0, errors);
        using var doc = JsonDocument.Parse(json);
        double Accuracy(string run) => doc.RootElement.GetProperty("metrics").EnumerateArray()
            .Single(m => m.GetProperty("run").GetString() == run && m.GetProperty("step").GetString() == "train_logreg" && m.GetProperty("name").GetString() == "accuracy")
            .GetProperty("value").GetDouble();
        Assert.InRange(Accuracy(fast.RunId), 0.85, 1.0);
        Assert.True(Accuracy(slow.RunId) < Accuracy(fast.RunId), "a 100x smaller learning rate should fit worse in 200 epochs");
    }

    private static (int Exit, string Output) Run(string program, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("PIPELINE_")).ToList()) start.Environment.Remove(key);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
