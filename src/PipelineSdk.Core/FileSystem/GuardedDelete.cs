namespace PipelineSdk.Core.FileSystem;

/// <summary>Raised instead of deleting something outside the folder that owns it: a bug or a hostile name, never to be obeyed.</summary>
public sealed class UnsafeDeleteException(string message) : IOException(message);

/// <summary>
/// Every delete the engine does goes through here. A folder or file is removed only when it lies strictly inside
/// the folder that owns it, with every link in the way resolved, so that no name, destination or link can turn a
/// cleanup into the loss of a project folder.
/// </summary>
public static class GuardedDelete
{
    /// <summary>Removes <paramref name="folder"/> and everything below it, when it exists; throws <see cref="UnsafeDeleteException"/> when it is not inside <paramref name="owner"/>.</summary>
    public static void Folder(string folder, string owner)
    {
        Check(folder, owner);
        if (Directory.Exists(folder) && new DirectoryInfo(folder).LinkTarget is null) Directory.Delete(folder, recursive: true);
        else if (new FileInfo(folder).LinkTarget is not null) System.IO.File.Delete(folder); // a link is removed, never what it points at
    }

    /// <summary>
    /// Removes <paramref name="folder"/> and then the folders above it that held nothing else (those made for it alone,
    /// such as outputs/&lt;step run&gt;/ of a <c>{run-id}</c> destination), up to but never including <paramref name="owner"/>.
    /// </summary>
    public static void FolderAndEmptyParents(string folder, string owner)
    {
        Folder(folder, owner);
        for (var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(folder)); parent is not null && IsInside(parent, owner)
             && Directory.Exists(parent) && !Directory.EnumerateFileSystemEntries(parent).Any(); parent = Path.GetDirectoryName(parent))
            Directory.Delete(parent);
    }

    public static void File(string file, string owner)
    {
        Check(file, owner);
        System.IO.File.Delete(file);
    }

    /// <summary>True when <paramref name="path"/> lies strictly below <paramref name="owner"/>, links resolved in both.</summary>
    public static bool IsInside(string path, string owner)
    {
        var root = Path.TrimEndingDirectorySeparator(RealPath.Of(owner));
        var full = RealPath.OfParent(path);
        return full.Length > root.Length + 1 && full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static void Check(string path, string owner)
    {
        if (!IsInside(path, owner))
            throw new UnsafeDeleteException($"PipelineSdk refused to delete '{path}': it is not inside '{owner}', the folder it belongs to. Nothing was deleted. This is a bug of PipelineSdk or a name it failed to refuse; please report it.");
    }
}
