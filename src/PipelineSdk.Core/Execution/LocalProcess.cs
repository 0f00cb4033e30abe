using System.ComponentModel;
using System.Diagnostics;

namespace PipelineSdk.Core.Execution;

/// <summary>How a step process ended: its exit code and the last lines it wrote to stderr.</summary>
public sealed record ProcessOutcome(int ExitCode, IReadOnlyList<string> StderrTail);

/// <summary>Runs one step as a child process, its stdout and stderr going to the step's log file.</summary>
public static class LocalProcess
{
    private const int TailLines = 20;

    public static async Task<ProcessOutcome> RunAsync(
        IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string?> environment, string logPath,
        Action<string> onLine, CancellationToken cancel)
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

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        await using var log = new StreamWriter(logPath) { AutoFlush = true };
        var tail = new Queue<string>();
        var gate = new Lock();
        void Write(string? line, bool isError)
        {
            if (line is null) return;
            onLine(line);
            lock (gate)
            {
                log.WriteLine(line);
                if (!isError) return;
                tail.Enqueue(line);
                if (tail.Count > TailLines) tail.Dequeue();
            }
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(e.Data, false);
        process.ErrorDataReceived += (_, e) => Write(e.Data, true);
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            var message = $"could not start '{argv[0]}': {e.Message}";
            Write(message, true);
            return new ProcessOutcome(127, [message]);
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
        lock (gate) return new ProcessOutcome(process.ExitCode, [.. tail]);
    }
}
