using System.ComponentModel;
using System.Diagnostics;

namespace PipelineSdk.Core.Compute;

/// <summary>Runs a program as a child process, its stdout and stderr going to a step log; killed with its children when cancelled.</summary>
public static class LocalProcess
{
    public static async Task<ProcessOutcome> RunAsync(
        IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string?> environment, StepLogWriter log, CancellationToken cancel)
    {
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        // A null value removes a variable the build process has (a datastore's secret, say).
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => log.Write(e.Data, false);
        process.ErrorDataReceived += (_, e) => log.Write(e.Data, true);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return log.Failed(127, $"could not start '{argv[0]}': {e.Message}");
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }
        // WaitForExitAsync returns once the pipes are drained, so the log is complete here.
        return log.Outcome(process.ExitCode);
    }
}
