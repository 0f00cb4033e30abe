namespace PipelineSdk.Core.Workspace;

/// <summary>
/// Builds and <c>mlp gc</c> exclude each other on a workspace: every build holds a shared lock for its whole run (so
/// builds run side by side), the collector an exclusive one, so it never deletes an output a build is reusing or
/// committing. An advisory file lock (flock: .NET takes LOCK_SH for a shared FileStream and LOCK_EX for FileShare.None)
/// that the kernel drops when its holder dies, so a killed build or collector never leaves the workspace locked.
/// </summary>
public sealed class WorkspaceLock : IDisposable
{
    private readonly FileStream _file;

    private WorkspaceLock(FileStream file) => _file = file;

    public static string PathIn(string workspaceRoot) => Path.Combine(workspaceRoot, "locks", "workspace.lock");

    /// <summary>A build's lock: waits while a collection runs, saying so once through <paramref name="waiting"/>.</summary>
    public static async Task<WorkspaceLock> AcquireSharedAsync(string workspaceRoot, Action waiting, CancellationToken cancel)
    {
        var said = false;
        while (true)
        {
            if (TryOpen(workspaceRoot, FileShare.ReadWrite) is { } held) return held;
            if (!said) waiting();
            said = true;
            await Task.Delay(100, cancel);
        }
    }

    /// <summary>The collector's lock, or null while any build holds the workspace.</summary>
    public static WorkspaceLock? TryExclusive(string workspaceRoot) => TryOpen(workspaceRoot, FileShare.None);

    private static WorkspaceLock? TryOpen(string workspaceRoot, FileShare share)
    {
        var path = PathIn(workspaceRoot);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new WorkspaceLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, share));
        }
        catch (IOException) when (File.Exists(path))
        {
            return null; // held the other way
        }
    }

    public void Dispose() => _file.Dispose();
}
