using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipes;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Compute;

/// <summary>Runs a program as a child process, its stdout and stderr going to a step log; killed with its children when cancelled.</summary>
public static class LocalProcess
{
    /// <summary>In a step's work folder: the step process's <see cref="ProcessIdentity"/>, for the next build when this one is killed.</summary>
    public const string IdentityFileName = "process.txt";

    /// <summary>How long the pipes may stay open once the step's process ended (a child finishing its last write).</summary>
    private static readonly TimeSpan PipeGrace = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts the program in a session of its own where <c>setsid</c> exists (Linux), so that what it leaves running is
    /// found after it exits, even reparented. Its process is the session's leader: setsid execs it in place.
    /// </summary>
    private static readonly string? Setsid = OperatingSystem.IsLinux() && File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : null;

    /// <param name="workFolder">Where to leave the process's identity (<see cref="IdentityFileName"/>), so that <see cref="StopLeftover"/> finds it.</param>
    public static async Task<ProcessOutcome> RunAsync(
        IReadOnlyList<string> argv, string workingDirectory, IReadOnlyDictionary<string, string?> environment, StepLogWriter log, CancellationToken cancel,
        string? workFolder = null)
    {
        // Resolved here, as Process.Start would (the build's current folder, then its PATH), so that a missing program
        // fails the same way with or without setsid in front of it.
        if (Resolve(argv[0]) is not { } program) return log.Failed(127, $"could not start '{argv[0]}': no such program in the current folder or on PATH");
        var start = new ProcessStartInfo(Setsid ?? program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (Setsid is not null) start.ArgumentList.Add(program);
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        // A null value removes a variable the build process has (a datastore's secret, say).
        foreach (var (name, value) in environment)
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return log.Failed(127, $"could not start '{argv[0]}': {e.Message}");
        }
        var identity = ProcessIdentity.Of(process.Id);
        if (workFolder is not null && identity is not null)
            File.WriteAllText(Path.Combine(workFolder, IdentityFileName), identity.ToString());
        process.StandardInput.Close();
        // The pipes are read here, not by Process, whose line events hold a whole line however long and whose wait
        // waits for the pipes to close, which a background process of the step may keep open for ever.
        Stream[] pipes = [process.StandardOutput.BaseStream, process.StandardError.BaseStream];
        using var stopReading = new CancellationTokenSource();
        var reading = Task.WhenAll(
            ReadAsync(pipes[0], new LineSplitter((line, goesOn) => log.Write(line, false, goesOn)), stopReading.Token),
            ReadAsync(pipes[1], new LineSplitter((line, goesOn) => log.Write(line, true, goesOn)), stopReading.Token));
        try
        {
            await process.WaitForExitAsync(cancel);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            identity?.KillTree(); // what of its session is no descendant any more
            await process.WaitForExitAsync(CancellationToken.None);
            await EndLeftBehindAsync(process.Id, pipes, reading, stopReading, log);
            throw;
        }
        await EndLeftBehindAsync(process.Id, pipes, reading, stopReading, log);
        return log.Outcome(process.ExitCode);
    }

    /// <summary>
    /// Once the step's process exited, and the pipes had a moment to close: kills what it left running, each named in a
    /// warning (what is left of its session, and any process holding its output open, which may have left the session),
    /// then reads what they wrote last. Reading stops a moment later whatever holds the pipes: the build never waits for it.
    /// </summary>
    private static async Task EndLeftBehindAsync(int leader, Stream[] pipes, Task reading, CancellationTokenSource stopReading, StepLogWriter log)
    {
        await Task.WhenAny(reading, Task.Delay(PipeGrace, CancellationToken.None));
        IEnumerable<ProcessIdentity> left = Setsid is null ? [] : ProcessIdentity.LeftInSessionOfExited(leader);
        if (!reading.IsCompleted) left = left.Union(ProcessIdentity.HoldingOpen(pipes.OfType<PipeStream>().Select(p => p.SafePipeHandle)));
        foreach (var process in left.ToList())
        {
            log.Warn(Codes.ProcessLeftBehind,
                $"left process {process.Pid} ({process.CommandLine() ?? "ended meanwhile"}) running after it exited; it was killed. A step must wait for what it starts, or stop it, before it ends.");
            process.KillTree();
        }
        if (await Task.WhenAny(reading, Task.Delay(PipeGrace, CancellationToken.None)) == reading) return;
        stopReading.Cancel();
        await reading;
    }

    private static async Task ReadAsync(Stream pipe, LineSplitter lines, CancellationToken stop)
    {
        var buffer = new byte[65536];
        try
        {
            int read;
            while ((read = await pipe.ReadAsync(buffer, stop)) > 0) lines.Write(buffer.AsSpan(0, read));
        }
        catch (OperationCanceledException) { } // EndLeftBehindAsync stopped it: what holds the pipe is not the step's
        lines.Flush();
    }

    /// <summary>The program's path: as given when it holds a folder, else found in the current folder or on PATH.</summary>
    private static string? Resolve(string program)
    {
        if (program.Contains(Path.DirectorySeparatorChar)) return File.Exists(program) ? Path.GetFullPath(program) : null;
        var folders = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return folders.Prepend(Directory.GetCurrentDirectory()).Select(folder => Path.Combine(folder, program)).FirstOrDefault(File.Exists);
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
