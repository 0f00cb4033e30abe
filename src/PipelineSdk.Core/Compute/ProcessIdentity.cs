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

    /// <summary>Kills the process and everything it started, and waits (a few seconds at most) until all of them are gone.</summary>
    public void KillTree()
    {
        if (!IsRunning) return;
        // Listed before anything dies (an orphan's parent becomes init); the top first, so that it starts nothing more.
        var tree = Descendants().Prepend(this).ToList();
        foreach (var member in tree) member.Kill();
        for (var waited = 0; waited < 100 && tree.Any(p => p.IsRunning); waited++) Thread.Sleep(50);
    }

    private void Kill()
    {
        if (!IsRunning) return;
        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { } // ended meanwhile
    }

    /// <summary>The processes this one started, and theirs (Linux; elsewhere none are known).</summary>
    private IEnumerable<ProcessIdentity> Descendants()
    {
        if (!OperatingSystem.IsLinux()) return [];
        var children = new Dictionary<int, List<int>>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(folder), out var pid) && StatFields(pid) is { } fields && int.TryParse(fields[1], out var parent))
                (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
        var found = new List<ProcessIdentity>();
        var pending = new Queue<int>([Pid]);
        while (pending.TryDequeue(out var next))
            foreach (var child in children.GetValueOrDefault(next) ?? [])
            {
                if (Of(child) is { } identity) found.Add(identity);
                pending.Enqueue(child);
            }
        return found;
    }

    /// <summary>
    /// Linux: the start tick from /proc (null for a zombie); Process.StartTime is derived from a boot time that jitters
    /// between calls. Elsewhere the start time .NET reports.
    /// </summary>
    private static string? StartedAt(int pid)
    {
        if (OperatingSystem.IsLinux()) return StatFields(pid) is { } fields && fields[0] != "Z" ? fields[19] : null;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : process.StartTime.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The fields of /proc/&lt;pid&gt;/stat after the command name (state first, then the parent's pid), or null when the process is gone.</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
