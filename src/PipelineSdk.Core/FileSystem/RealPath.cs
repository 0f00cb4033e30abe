namespace PipelineSdk.Core.FileSystem;

/// <summary>
/// Paths with every symbolic link resolved (realpath(3)), for checks that a path stays inside a folder: a link in
/// the way must not lead a check on the name to a verdict on something else.
/// </summary>
public static class RealPath
{
    private const int MaxLinks = 40; // as the kernel's ELOOP limit

    /// <summary>The path with '.', '..' and every link resolved; parts that do not exist are kept as written.</summary>
    public static string Of(string path)
    {
        var full = Path.GetFullPath(path);
        var parts = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var resolved = Path.GetPathRoot(full) ?? "/";
        var followed = 0;
        var pending = new Queue<string>(parts);
        while (pending.TryDequeue(out var part))
        {
            var next = Path.Combine(resolved, part);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                if (++followed > MaxLinks) throw new IOException($"'{path}' has a loop of symbolic links.");
                var rest = pending.ToArray();
                var joined = Path.GetFullPath(Path.Combine(resolved, target));
                pending = new Queue<string>(joined.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Concat(rest));
                resolved = Path.GetPathRoot(joined) ?? "/";
                continue;
            }
            resolved = next;
        }
        return resolved;
    }

    /// <summary>The path's folder resolved and its last part kept as is: where a link itself (not its target) lies.</summary>
    public static string OfParent(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var parent = Path.GetDirectoryName(full);
        return parent is null ? full : Path.Combine(Of(parent), Path.GetFileName(full));
    }

    /// <summary>True when <paramref name="path"/>, links resolved, is <paramref name="folder"/> or below it.</summary>
    public static bool IsWithin(string path, string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(Of(folder));
        var full = Of(path);
        return full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
