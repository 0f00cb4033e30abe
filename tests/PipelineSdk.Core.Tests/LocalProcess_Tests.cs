using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Validation;
using PipelineSdk.Testing;

namespace PipelineSdk.Core.Tests;

/// <summary>A local step whose process exits while something it started still runs.</summary>
public sealed class LocalProcess_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("sleep 600 &")]                      // stays in the step's session, holding its output
    [InlineData("sleep 600 > /dev/null 2>&1 &")]     // stays in the session, holding nothing
    [InlineData("setsid sleep 600 &")]               // leaves the session, found by the pipe it holds
    public async Task WhatTheStepLeftRunningIsKilledAndNamedAndTheStepEnds(string background)
    {
        var marker = _dir["pid.txt"];
        var warnings = new List<(string Code, string Message)>();
        var logPath = _dir["std_log.txt"];
        ProcessOutcome outcome;
        using (var log = new StepLogWriter(logPath, _ => { }, (code, message) => warnings.Add((code, message))))
        {
            var run = LocalProcess.RunAsync(["sh", "-c", $"{background} echo $! > {marker}; echo done"], _dir.Path, new Dictionary<string, string?>(), log, CancellationToken.None);
            outcome = await run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        var sleep = int.Parse(File.ReadAllText(marker));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("done", File.ReadAllText(logPath));
        var warning = Assert.Single(warnings);
        Assert.Equal(Codes.ProcessLeftBehind, warning.Code);
        Assert.Contains($"process {sleep} (sleep 600)", warning.Message);
        Assert.Null(ProcessIdentity.Of(sleep)); // the process the step left behind is gone
    }
}
