using System.Collections.Concurrent;

namespace PipelineSdk.Core.Hashing;

/// <summary>A remembered hash of one file and the stat it was taken under.</summary>
public sealed record CachedHash(FileStat Stat, string Hash, long HashedAtNs);

/// <summary>
/// Hashes files, skipping the read when (size, mtime ns, inode) match what was recorded. A file whose
/// mtime is too close to the moment it was hashed may change again within the same timestamp tick
/// (git's "racy clean" problem), so such an entry is never trusted and the file is read again.
/// </summary>
public sealed class FileHashCache
{
    /// <summary>Wider than any timestamp granularity we meet (ext4 ticks, 1 s on older filesystems).</summary>
    public static readonly long RacyWindowNs = 2_000_000_000;

    private readonly ConcurrentDictionary<string, CachedHash> _entries;
    private readonly ConcurrentDictionary<string, CachedHash> _changed = new();
    private readonly Func<string, bool, IEnumerable<KeyValuePair<string, CachedHash>>>? _load;
    private readonly ConcurrentDictionary<string, Lazy<bool>> _loadedDirectories = new();
    private readonly ConcurrentDictionary<string, Lazy<bool>> _loadedTrees = new();

    /// <param name="known">Entries by full path, all known up front.</param>
    public FileHashCache(IEnumerable<KeyValuePair<string, CachedHash>>? known = null) =>
        _entries = new ConcurrentDictionary<string, CachedHash>(known ?? []);

    /// <param name="load">
    /// Entries (by full path) of the files in a folder (with <c>true</c>: in the whole tree below it), asked
    /// once per folder or tree when a file in it is first hashed: a build loads what it touches, not every
    /// file the workspace ever hashed.
    /// </param>
    public FileHashCache(Func<string, bool, IEnumerable<KeyValuePair<string, CachedHash>>> load)
        : this() => _load = load;

    /// <summary>Entries hashed or re-hashed since loading, to be saved.</summary>
    public IReadOnlyDictionary<string, CachedHash> Changed => _changed;

    private int _filesRead;

    public int FilesRead => _filesRead;

    public string Hash(string fullPath)
    {
        var stat = FileStat.Of(fullPath);
        if (_load is not null) EnsureLoaded(Path.GetDirectoryName(fullPath)!);
        if (_entries.TryGetValue(fullPath, out var known) && known.Stat == stat && stat.MTimeNs < known.HashedAtNs - RacyWindowNs)
            return known.Hash;
        var hashedAt = NowNs();
        var hash = ContentHash.OfFile(fullPath);
        Interlocked.Increment(ref _filesRead);
        var entry = new CachedHash(stat, hash, hashedAt);
        _entries[fullPath] = entry;
        _changed[fullPath] = entry;
        return hash;
    }

    private void EnsureLoaded(string directory)
    {
        foreach (var (tree, loaded) in _loadedTrees)
            if (directory == tree || directory.StartsWith(tree + Path.DirectorySeparatorChar)) { _ = loaded.Value; return; }
        _ = _loadedDirectories.GetOrAdd(directory, d => new Lazy<bool>(() => Add(_load!(d, false)))).Value;
    }

    private bool Add(IEnumerable<KeyValuePair<string, CachedHash>> entries)
    {
        foreach (var (path, entry) in entries) _entries.TryAdd(path, entry);
        return true;
    }

    /// <summary>Content hashes of many files below <paramref name="root"/>, stat-checked (and read when changed) on every core.</summary>
    public IReadOnlyDictionary<string, string> HashAll(string root, IReadOnlyList<string> relativePaths)
    {
        // One read for the whole tree instead of one per folder.
        if (_load is not null) _ = _loadedTrees.GetOrAdd(Path.TrimEndingDirectorySeparator(root), r => new Lazy<bool>(() => Add(_load(r, true)))).Value;
        var hashes = new string[relativePaths.Count];
        Parallel.For(0, relativePaths.Count, i => hashes[i] = Hash(Path.Combine(root, relativePaths[i])));
        var files = new Dictionary<string, string>(relativePaths.Count);
        for (var i = 0; i < hashes.Length; i++) files[relativePaths[i]] = hashes[i];
        return files;
    }

    private static long NowNs() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
}
