using System.IO.Enumeration;
using Microsoft.Extensions.FileSystemGlobbing;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Execution;

/// <summary>
/// The files a <see cref="FileDataset"/> selects. A folder selects everything below it; a glob
/// (<c>raw/**/*.csv</c>) selects what it matches below the part before its first wildcard.
/// </summary>
public sealed record DatasetFiles(string BaseDirectory, bool IsWholeFolder, IReadOnlyList<string> RelativePaths)
{
    /// <summary>The part of a path before its first wildcard, and the glob after it (null: no wildcard).</summary>
    public static (string Base, string? Pattern) SplitGlob(string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var firstWildcard = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?', '[']) >= 0);
        return firstWildcard < 0 ? (string.Join('/', parts), null) : (string.Join('/', parts[..firstWildcard]), string.Join('/', parts[firstWildcard..]));
    }

    /// <summary>The relative names (such as a blob listing) a glob matches.</summary>
    public static IEnumerable<string> Match(string pattern, IEnumerable<string> names)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern);
        return matcher.Match("/", names.Select(n => "/" + n)).Files.Select(f => f.Path).Order(StringComparer.Ordinal);
    }

    public static DatasetFiles Resolve(string root, string path)
    {
        var parts = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        var firstWildcard = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?', '[']) >= 0);
        if (firstWildcard < 0)
        {
            var full = Path.GetFullPath(Path.Combine(root, path));
            if (File.Exists(full)) return new(Path.GetDirectoryName(full)!, false, [Path.GetFileName(full)]);
            return new(full, true, Directory.Exists(full) ? EnumerateAll(full) : []);
        }
        var baseDir = Path.GetFullPath(Path.Combine([root, .. parts[..firstWildcard]]));
        return new(baseDir, false, Directory.Exists(baseDir) ? Enumerate(baseDir, string.Join('/', parts[firstWildcard..])) : []);
    }

    /// <summary>
    /// Every file below a folder: a plain recursive listing (several times faster than the glob matcher on big
    /// trees), its subfolders listed on every core, each name made relative straight from its directory entry
    /// rather than built whole and cut again (a third less time on 100,000 files).
    /// </summary>
    private static IReadOnlyList<string> EnumerateAll(string baseDir)
    {
        var root = Path.TrimEndingDirectorySeparator(baseDir);
        var files = new List<string>();
        var gate = new Lock();
        void Add(string folder, bool recurse)
        {
            // As Directory.EnumerateFiles: hidden files included, an unreadable folder an error.
            var options = new EnumerationOptions { RecurseSubdirectories = recurse, AttributesToSkip = 0, IgnoreInaccessible = false };
            var found = new FileSystemEnumerable<string>(folder, (ref FileSystemEntry e) => Relative(root.Length, e.Directory, e.FileName), options)
            {
                ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            };
            var batch = found.ToList();
            lock (gate) files.AddRange(batch);
        }
        Add(root, recurse: false);
        var folders = Directory.GetDirectories(root);
        ParallelLoop.For(folders.Length, i => Add(folders[i], recurse: true), perThread: 4);
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    private static string Relative(int rootLength, ReadOnlySpan<char> directory, ReadOnlySpan<char> name)
    {
        var relative = directory.Length <= rootLength ? name.ToString() : string.Concat(directory[(rootLength + 1)..], "/", name);
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    private static IReadOnlyList<string> Enumerate(string baseDir, string pattern)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern);
        return matcher.GetResultsInFullPath(baseDir)
            .Select(f => Path.GetRelativePath(baseDir, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
