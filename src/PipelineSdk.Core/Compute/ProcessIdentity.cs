using System.Diagnostics;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// A process as a later build recognizes it: its pid and its start time, so a process that reuses the pid is never
/// taken for it. Builds record their own (the run history) and their step processes' (the step's work folder).
/// </summary>
public readonly record struct ProcessIdentity(int Pid, string Started)
{
    /// <summary>The process running with <paramref name="pid"/> now, or null when none does.</summary>
    public static ProcessIdentity? Of(int pid) => StartedAt(pid) is { } started ? new(pid, started) : null;

    /// <summary>Still the same process, and not a zombie: a killed process waiting to be reaped writes nothing.</summary>
    public bool IsRunning => StartedAt(Pid) == Started;

    public override string ToString() => $"{Pid} {Started}";

    public static ProcessIdentity? Parse(string text) =>
        text.Trim().Split(' ') is [var pid, var started] && int.TryParse(pid, out var id) ? new(id, started) : null;

    /// <summary>Kills the process and everything it started, and waits (a few seconds at most) until it is gone.</summary>
    public void KillTree()
    {
        if (!IsRunning) return;
        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return; // it ended meanwhile
        }
        for (var waited = 0; waited < 100 && IsRunning; waited++) Thread.Sleep(50);
    }

    /// <summary>
    /// Linux: the start tick from /proc (null for a zombie); Process.StartTime is derived from a boot time that jitters
    /// between calls. Elsewhere the start time .NET reports.
    /// </summary>
    private static string? StartedAt(int pid)
    {
        try
        {
            if (OperatingSystem.IsLinux())
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return fields[0] == "Z" ? null : fields[19];
            }
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
