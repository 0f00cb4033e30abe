using PipelineSdk.Core.FileSystem;
using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Workspace;

/// <summary>
/// Content-addressed copies of every committed output file, kept in the output's datastore
/// (<c>.cas/ab/abcdef…</c>), so an output deleted or edited by hand is restored without rerunning
/// the step. Entries are written to a temporary name and renamed into place: readers never see half a file.
/// </summary>
public sealed class ContentStore(string datastoreRoot, FileHashCache hashes)
{
    private readonly string _root = Path.Combine(datastoreRoot, ".cas");

    public string PathOf(string hash) => Path.Combine(_root, hash[..2], hash);

    /// <summary>Stores <paramref name="file"/> (whose content hash is <paramref name="hash"/>) unless an intact copy is there; a damaged copy is replaced.</summary>
    public void Put(string file, string hash)
    {
        var target = PathOf(hash);
        var damaged = File.Exists(target) && hashes.Hash(target) != hash;
        if (File.Exists(target) && !damaged) return;
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.Copy(file, temporary);
            // Over a damaged copy, in one rename: a reader sees the old bytes or the good ones, never half.
            if (damaged) File.Move(temporary, target, overwrite: true);
            else File.Move(temporary, target);
        }
        catch (IOException) when (File.Exists(target) && !damaged)
        {
            // another build stored the same content first
        }
        finally
        {
            // A copy cut short (a full disk) or not needed leaves nothing behind.
            if (File.Exists(temporary)) GuardedDelete.File(temporary, _root);
        }
    }

    public bool CanRestore(IReadOnlyDictionary<string, string> files) =>
        files.All(f => File.Exists(PathOf(f.Value)) && hashes.Hash(PathOf(f.Value)) == f.Value);

    /// <summary>
    /// Rebuilds <paramref name="folder"/> from the store (relative path → hash), replacing what is there
    /// in one rename. False, and nothing changed, when the store lacks a file or holds a damaged copy.
    /// </summary>
    public bool TryRestore(IReadOnlyDictionary<string, string> files, string folder)
    {
        if (!CanRestore(files)) return false;
        var staged = $"{folder.TrimEnd('/')}.{Guid.NewGuid():N}.restoring";
        foreach (var (relative, hash) in files)
        {
            var target = Path.Combine(staged, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(PathOf(hash), target);
        }
        Directory.CreateDirectory(staged);
        var old = $"{folder.TrimEnd('/')}.{Guid.NewGuid():N}.replaced";
        if (Directory.Exists(folder)) Directory.Move(folder, old);
        Directory.CreateDirectory(Path.GetDirectoryName(folder.TrimEnd('/'))!);
        Directory.Move(staged, folder);
        if (Directory.Exists(old)) GuardedDelete.Folder(old, datastoreRoot);
        return true;
    }
}
