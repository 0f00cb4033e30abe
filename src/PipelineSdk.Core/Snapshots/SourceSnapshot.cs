using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Snapshots;

/// <summary>
/// The files of a step's source directory that the ignore rules keep, with their content hashes,
/// and the Merkle root over them: what the step's code is, independent of where it lies on disk.
/// </summary>
public sealed class SourceSnapshot
{
    private SourceSnapshot(string root, IReadOnlyDictionary<string, string> files)
    {
        Root = root;
        Files = files;
        Id = ContentHash.OfFields(files);
    }

    public string Root { get; }
    /// <summary>'/'-separated relative path → content hash.</summary>
    public IReadOnlyDictionary<string, string> Files { get; }
    /// <summary>Merkle root: changes with any kept file's path or content.</summary>
    public string Id { get; }

    public static SourceSnapshot Empty { get; } = new("", new Dictionary<string, string>());

    /// <param name="excluded">Folders never part of a snapshot wherever they lie (the workspace, the build state).</param>
    public static SourceSnapshot Take(string? sourceDirectory, FileHashCache hashes, IReadOnlyCollection<string>? excluded = null)
    {
        if (sourceDirectory is null) return Empty;
        var (rules, _) = IgnoreRules.For(sourceDirectory);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var skip = (excluded ?? []).Select(Path.TrimEndingDirectorySeparator).ToHashSet();
        Walk(sourceDirectory, "", rules, skip, hashes, files);
        return new SourceSnapshot(sourceDirectory, files);
    }

    /// <summary>Copies the kept files to <paramref name="destination"/>, which must not exist yet.</summary>
    public void CopyTo(string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var relative in Files.Keys)
        {
            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(Root, relative), target);
        }
    }

    private static void Walk(string directory, string prefix, IgnoreRules rules, HashSet<string> skip, FileHashCache hashes, SortedDictionary<string, string> files)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            var relative = prefix + entry.Name;
            var isDirectory = entry is DirectoryInfo;
            if (rules.IsIgnored(relative, isDirectory) || (isDirectory && skip.Contains(entry.FullName))) continue;
            if (isDirectory) Walk(entry.FullName, relative + "/", rules, skip, hashes, files);
            else files[relative] = hashes.Hash(entry.FullName);
        }
    }
}
