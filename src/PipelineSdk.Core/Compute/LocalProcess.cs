using System.ComponentModel;
using System.Diagnostics;

namespace PipelineSdk.Core.Compute;

/// <summary>Runs a program as a child process, its stdout and stderr going to a step log; killed with its children when cancelled.</summary>
public static class LocalProcess
{
    /// <summary>In a step's work folder: the step process's <see cref="ProcessIdentity"/>, for the next build when this one is killed.</summary>
    public const string IdentityFileName = "process.txt";

    /// <param name="workFolder">Where to leave the process's identity (<see cref="IdentityFileName"/>), so that <see cref="StopLeftover"/> finds it.</param>
    public static async Task<ProcessOutcome> RunAsync(
        IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string?> environment, StepLogWriter log, CancellationToken cancel,
        string? workFolder = null)
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
        if (workFolder is not null && ProcessIdentity.Of(process.Id) is { } identity)
            File.WriteAllText(Path.Combine(workFolder, IdentityFileName), identity.ToString());
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

    /// <summary>
    /// Kills what still runs of a step whose build was killed: its process outlived the build (a child is not killed
    /// with its parent) and would go on writing where the next build looks, such as an output written in place.
    /// </summary>
    public static void StopLeftover(string workFolder)
    {
        var file = Path.Combine(workFolder, IdentityFileName);
        if (File.Exists(file) && ProcessIdentity.Parse(File.ReadAllText(file)) is { } identity) identity.KillTree();
    }
}
