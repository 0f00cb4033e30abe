using System.Collections.Concurrent;

namespace PipelineSdk.Core.Hashing;

/// <summary>A remembered hash of one file and the stat it was taken under.</summary>
/// <remarks>A struct: a big dataset keeps 100,000 of them for the whole build, and every object among them is work for the collector.</remarks>
public readonly record struct CachedHash(FileStat Stat, string Hash, long HashedAtNs);

/// <summary>
/// Hashes files, skipping the read when (size, mtime ns, inode) match what was recorded. A file whose
/// mtime is too close to the moment it was hashed may change again within the same timestamp tick
/// (git's "racy clean" problem), so such an entry is never trusted and the file is read again.
/// </summary>
public sealed class FileHashCache
{
    /// <summary>Wider than any timestamp granularity we meet (ext4 ticks, 1 s on older filesystems).</summary>
    public static readonly long RacyWindowNs = 2_000_000_000;

    /// <summary>
    /// What earlier builds recorded, by folder then file name, each folder's entries read-only once loaded: a 100,000-file
    /// tree is a thousand inserts here, and a lookup splits the path it is given without allocating.
    /// </summary>
    private readonly ConcurrentDictionary<string, Dictionary<string, CachedHash>> _folders = new();
    private readonly ConcurrentDictionary<string, Dictionary<string, CachedHash>>.AlternateLookup<ReadOnlySpan<char>> _folderLookup;
    private readonly ConcurrentDictionary<string, CachedHash> _changed = new();
    private readonly Func<string, bool, IEnumerable<KeyValuePair<string, Dictionary<string, CachedHash>>>>? _load;
    private readonly ConcurrentDictionary<string, Lazy<bool>> _loadedDirectories = new();
    private readonly ConcurrentDictionary<string, Lazy<bool>> _loadedTrees = new();
    private int _filesRead;

    /// <param name="known">Entries by full path, all known up front.</param>
    public FileHashCache(IEnumerable<KeyValuePair<string, CachedHash>>? known = null)
    {
        _folderLookup = _folders.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var folder in (known ?? []).GroupBy(k => Path.GetDirectoryName(k.Key)!))
            _folders[folder.Key] = folder.ToDictionary(k => Path.GetFileName(k.Key), k => k.Value, StringComparer.Ordinal);
    }

    /// <param name="load">
    /// Entries (folder → file name → entry) of a folder (with <c>true</c>: of every folder in the tree below it), asked
    /// once per folder or tree when a file in it is first hashed: a build loads what it touches, not every file the
    /// workspace ever hashed.
    /// </param>
    public FileHashCache(Func<string, bool, IEnumerable<KeyValuePair<string, Dictionary<string, CachedHash>>>> load)
        : this() => _load = load;

    /// <summary>Entries hashed or re-hashed since loading, by full path, to be saved.</summary>
    public IReadOnlyDictionary<string, CachedHash> Changed => _changed;

    public int FilesRead => _filesRead;

    public string Hash(string fullPath)
    {
        var stat = FileStat.Of(fullPath);
        var slash = fullPath.LastIndexOf(Path.DirectorySeparatorChar);
        var folder = fullPath.AsSpan(0, Math.Max(slash, 0));
        if (_load is not null) EnsureLoaded(folder);
        if (Known(fullPath, folder, fullPath.AsSpan(slash + 1)) is { } known && known.Stat == stat && stat.MTimeNs < known.HashedAtNs - RacyWindowNs)
            return known.Hash;
        var hashedAt = NowNs();
        var hash = ContentHash.OfFile(fullPath);
        Interlocked.Increment(ref _filesRead);
        _changed[fullPath] = new CachedHash(stat, hash, hashedAt);
        return hash;
    }

    /// <summary>What this build hashed last, else what earlier builds recorded.</summary>
    private CachedHash? Known(string fullPath, ReadOnlySpan<char> folder, ReadOnlySpan<char> name)
    {
        if (!_changed.IsEmpty && _changed.TryGetValue(fullPath, out var changed)) return changed;
        return _folderLookup.TryGetValue(folder, out var entries)
            && entries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var entry)
            ? entry
            : null;
    }

    private void EnsureLoaded(ReadOnlySpan<char> directory)
    {
        foreach (var (tree, loaded) in _loadedTrees)
            if (directory.SequenceEqual(tree) || (directory.StartsWith(tree) && directory.Length > tree.Length && directory[tree.Length] == Path.DirectorySeparatorChar))
            {
                _ = loaded.Value;
                return;
            }
        _ = _loadedDirectories.GetOrAdd(directory.ToString(), d => new Lazy<bool>(() => Add(_load!(d, false)))).Value;
    }

    private bool Add(IEnumerable<KeyValuePair<string, Dictionary<string, CachedHash>>> folders)
    {
        foreach (var (folder, entries) in folders) _folders.TryAdd(folder, entries);
        return true;
    }

    /// <summary>Content hashes of many files below <paramref name="root"/>, stat-checked (and read when changed) on every core.</summary>
    public IReadOnlyDictionary<string, string> HashAll(string root, IReadOnlyList<string> relativePaths)
    {
        // One read for the whole tree instead of one per folder; files directly in the root need only the root's entries.
        if (_load is not null && relativePaths.Any(p => p.Contains('/'))) _ = _loadedTrees.GetOrAdd(Path.TrimEndingDirectorySeparator(root), r => new Lazy<bool>(() => Add(_load(r, true)))).Value;
        var hashes = new string[relativePaths.Count];
        ParallelLoop.For(relativePaths.Count, i => hashes[i] = Hash(Path.Combine(root, relativePaths[i])));
        var files = new Dictionary<string, string>(relativePaths.Count);
        for (var i = 0; i < hashes.Length; i++) files[relativePaths[i]] = hashes[i];
        return files;
    }

    private static long NowNs() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
}
