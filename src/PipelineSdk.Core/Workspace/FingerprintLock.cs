namespace PipelineSdk.Core.Workspace;

/// <summary>
/// An exclusive lock on one fingerprint, shared by every build on the workspace (an advisory file
/// lock that the kernel drops when its holder dies; the file stays, since unlinking a lock file
/// lets two holders lock two different inodes), so a step is executed once while concurrent
/// builds of the same pipeline wait and then reuse its result.
/// </summary>
public static class FingerprintLock
{
    public static async Task<IDisposable> AcquireAsync(string workspaceRoot, string fingerprint, CancellationToken cancel)
    {
        var path = Path.Combine(workspaceRoot, "locks", fingerprint + ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(100, cancel);
            }
        }
    }
}
