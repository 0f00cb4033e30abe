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
    /// <param name="linksWithin">When set, every symbolic link in the snapshot must lead inside this folder (the project): a link out of it would ship files the project does not hold.</param>
    /// <exception cref="SnapshotException">A link leads outside <paramref name="linksWithin"/>, nowhere, or in a loop.</exception>
    public static SourceSnapshot Take(string? sourceDirectory, FileHashCache hashes, IReadOnlyCollection<string>? excluded = null, string? linksWithin = null)
    {
        if (sourceDirectory is null) return Empty;
        var (rules, _) = IgnoreRules.For(sourceDirectory);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var skip = (excluded ?? []).Select(Path.TrimEndingDirectorySeparator).ToHashSet();
        var walk = new Walker(sourceDirectory, rules, skip, hashes, files, linksWithin);
        walk.Folder(sourceDirectory, "", [FileSystem.RealPath.Of(sourceDirectory)]);
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

    private sealed class Walker(string source, IgnoreRules rules, HashSet<string> skip, FileHashCache hashes, SortedDictionary<string, string> files, string? linksWithin)
    {
        /// <param name="ancestors">The real folders from the source directory down to this one: a link back to one of them is a loop.</param>
        public void Folder(string directory, string prefix, List<string> ancestors)
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                var relative = prefix + entry.Name;
                var isLink = entry.Attributes.HasFlag(FileAttributes.ReparsePoint);
                var isDirectory = entry is DirectoryInfo;
                if (rules.IsIgnored(relative, isDirectory) || (isDirectory && skip.Contains(entry.FullName))) continue;
                var real = isLink ? Link(entry, relative) : null;
                if (isDirectory)
                {
                    real ??= Path.Combine(ancestors[^1], entry.Name);
                    if (ancestors.Contains(real))
                        throw new SnapshotException($"'{relative}' in source directory '{source}' is a symbolic link to '{entry.LinkTarget}', a folder it is already in: the snapshot would never end. Remove the link or list it in .amlignore.");
                    Folder(entry.FullName, relative + "/", [.. ancestors, real]);
                }
                else files[relative] = hashes.Hash(entry.FullName);
            }
        }

        /// <summary>Where a link leads, when it may be followed.</summary>
        private string Link(FileSystemInfo entry, string relative)
        {
            string real;
            try { real = FileSystem.RealPath.Of(entry.FullName); }
            catch (IOException) { throw new SnapshotException($"'{relative}' in source directory '{source}' is a symbolic link in a loop of links. Remove it or list it in .amlignore."); }
            if (!Path.Exists(real))
                throw new SnapshotException($"'{relative}' in source directory '{source}' is a symbolic link to '{entry.LinkTarget}', which does not exist. Remove it or list it in .amlignore.");
            if (linksWithin is not null && !FileSystem.RealPath.IsWithin(real, linksWithin))
                throw new SnapshotException($"'{relative}' in source directory '{source}' is a symbolic link to '{real}', outside the project folder, so the step would run code the project does not hold. Copy the file into the project, list the link in .amlignore, or allow links out of the project with <AllowLinksOutsideProject>true</AllowLinksOutsideProject>.");
            return real;
        }
    }
}
