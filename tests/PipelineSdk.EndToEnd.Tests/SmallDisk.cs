namespace PipelineSdk.EndToEnd.Tests;

/// <summary>A tmpfs of a few MiB mounted on a folder (the tests run as root): a disk that fills up when a build writes to it.</summary>
public sealed class SmallDisk : IDisposable
{
    public SmallDisk(string folder, int mebibytes)
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        ReadOnlyMount.Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", folder);
    }

    public string Folder { get; }

    public void Dispose() => ReadOnlyMount.Run("umount", "-l", Folder);
}
