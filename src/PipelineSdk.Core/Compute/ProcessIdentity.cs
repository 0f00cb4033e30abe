using System.Diagnostics;
using System.Runtime.InteropServices;

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

    /// <summary>
    /// Kills the process and everything it started, and what is left of the session it leads (a background process
    /// reparented to init is no descendant any more), and waits (a few seconds at most) until all of them are gone.
    /// </summary>
    public void KillTree()
    {
        // Listed before anything dies (an orphan's parent becomes init); the top first, so that it starts nothing more.
        var tree = (IsRunning ? Descendants().Prepend(this) : []).Concat(LeftInSession()).Distinct().ToList();
        foreach (var member in tree) member.Kill();
        for (var waited = 0; waited < 100 && tree.Any(p => p.IsRunning); waited++) Thread.Sleep(50);
    }

    /// <summary>
    /// The processes other than this one in the session it leads (Linux: those whose session id is its pid), whether
    /// this one still runs or not. The kernel gives no new process a pid that is still a session's id, so while the
    /// pid is free or still this process's, such processes are of its session.
    /// </summary>
    public IReadOnlyList<ProcessIdentity> LeftInSession() =>
        OperatingSystem.IsLinux() && StatFields(Pid) is { } own && own[19] != Started ? [] : InSession(Pid); // else the pid is another process's now

    /// <summary>
    /// <see cref="LeftInSession()"/> of a session leader this process started and saw exit, known by its pid alone (it
    /// may have exited before its identity could be read): unless the pid runs another process now.
    /// </summary>
    public static IReadOnlyList<ProcessIdentity> LeftInSessionOfExited(int leader) =>
        OperatingSystem.IsLinux() && StatFields(leader) is { } own && own[0] != "Z" ? [] : InSession(leader);

    private static IReadOnlyList<ProcessIdentity> InSession(int leader)
    {
        var session = leader.ToString();
        return [.. AllProcesses().Where(p => p.Pid != leader && p.Fields[3] == session).Select(p => Of(p.Pid)).OfType<ProcessIdentity>()];
    }

    /// <summary>
    /// The other processes that have open what one of <paramref name="handles"/> (this process's) is open on, a pipe
    /// say (Linux: the same /proc fd link; elsewhere none are known).
    /// </summary>
    public static IReadOnlyList<ProcessIdentity> HoldingOpen(IEnumerable<SafeHandle> handles)
    {
        if (!OperatingSystem.IsLinux()) return [];
        var targets = handles.Select(h => LinkTarget($"/proc/self/fd/{h.DangerousGetHandle()}")).OfType<string>().ToHashSet();
        var holders = new List<ProcessIdentity>();
        foreach (var (pid, _) in AllProcesses())
        {
            if (pid == System.Environment.ProcessId) continue;
            try
            {
                if (Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd => LinkTarget(fd) is { } target && targets.Contains(target)) && Of(pid) is { } holder)
                    holders.Add(holder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // ended meanwhile, or not ours to see
        }
        return holders;
    }

    private static string? LinkTarget(string path)
    {
        try { return new FileInfo(path).LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Its command line as <c>ps</c> shows it (the command name for a process without one), or null when it is gone.</summary>
    public string? CommandLine()
    {
        try
        {
            var words = File.ReadAllText($"/proc/{Pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0) return string.Join(' ', words);
            var stat = File.ReadAllText($"/proc/{Pid}/stat");
            return stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
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
        var children = new Dictionary<int, List<int>>();
        foreach (var (pid, fields) in AllProcesses())
            if (int.TryParse(fields[1], out var parent)) (children.TryGetValue(parent, out var list) ? list : children[parent] = []).Add(pid);
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

    /// <summary>Every process with its <see cref="StatFields"/> (Linux; elsewhere none).</summary>
    private static IEnumerable<(int Pid, string[] Fields)> AllProcesses()
    {
        if (!OperatingSystem.IsLinux()) yield break;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(folder), out var pid) && StatFields(pid) is { } fields) yield return (pid, fields);
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

    /// <summary>The fields of /proc/&lt;pid&gt;/stat after the command name (state, parent's pid, process group, session, ...), or null when the process is gone.</summary>
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
