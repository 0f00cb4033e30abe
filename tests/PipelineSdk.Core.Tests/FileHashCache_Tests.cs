using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Tests;

public sealed class FileHashCache_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A whole number of 100 ns ticks, so the mtime set through .NET is exactly the one the filesystem reports.</summary>
    private static DateTime Ago(TimeSpan age)
    {
        var t = DateTime.UtcNow - age;
        return new DateTime(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
    }

    [Fact]
    public void WorkspaceDatabaseRemembersHashesPerFolderAcrossBuilds()
    {
        var data = Enumerable.Range(0, 3).Select(i => _dir.WriteFile($"data/part-{i}.csv", $"{i}\n")).Append(_dir.WriteFile("other/x.txt", "x")).ToList();
        foreach (var f in data) File.SetLastWriteTimeUtc(f, Ago(TimeSpan.FromSeconds(10)));
        var db = Path.Combine(_dir.Path, "runs.db");
        using (var first = Workspace.RunHistory.Open(db))
        {
            var cache = first.FileHashes();
            foreach (var f in data) cache.Hash(f);
            first.SaveFileHashes(cache.Changed);
        }
        File.WriteAllText(data[1], "changed\n");

        using var second = Workspace.RunHistory.Open(db);
        var later = second.FileHashes();
        var hashes = data.Select(later.Hash).ToList();

        Assert.Equal(1, later.FilesRead);
        Assert.Equal(ContentHash.OfString("changed\n"), hashes[1]);
        Assert.Equal(ContentHash.OfString("x"), hashes[3]);
    }

    [Fact]
    public void HashIsTheContentHash()
    {
        var file = _dir.WriteFile("a.txt", "hello");
        var cache = new FileHashCache();

        Assert.Equal(ContentHash.OfFile(file), cache.Hash(file));
        Assert.NotEqual(ContentHash.OfString("hellO"), cache.Hash(file));
        Assert.Equal(ContentHash.OfString("hello"), cache.Hash(file));
    }

    [Fact]
    public void UnchangedFileOlderThanTheRacyWindowIsNotReadAgain()
    {
        var file = _dir.WriteFile("data.csv", "1,2,3\n");
        File.SetLastWriteTimeUtc(file, Ago(TimeSpan.FromSeconds(10)));
        var cache = new FileHashCache();

        var first = cache.Hash(file);
        Assert.Equal(1, cache.FilesRead);

        var second = cache.Hash(file);
        var third = cache.Hash(file);

        Assert.Equal(1, cache.FilesRead);
        Assert.Equal(first, second);
        Assert.Equal(first, third);
    }

    [Fact]
    public void EntriesLoadedFromAnEarlierBuildSpareTheRead()
    {
        var file = _dir.WriteFile("data.csv", "1,2,3\n");
        File.SetLastWriteTimeUtc(file, Ago(TimeSpan.FromSeconds(10)));
        var earlier = new FileHashCache();
        var hash = earlier.Hash(file);

        var later = new FileHashCache(earlier.Changed);

        Assert.Equal(hash, later.Hash(file));
        Assert.Equal(0, later.FilesRead);
        Assert.Empty(later.Changed);
    }

    [Fact]
    public void FileChangedWithinTheRacyWindowIsReadAgainEvenWithTheSameSizeAndMtime()
    {
        // The racy-git case: written, hashed and rewritten within one timestamp tick, so size and mtime match.
        var file = _dir.WriteFile("data.csv", "aaaa\n");
        var mtime = Ago(TimeSpan.FromMilliseconds(500));
        File.SetLastWriteTimeUtc(file, mtime);
        var cache = new FileHashCache();
        var before = cache.Hash(file);
        var statBefore = FileStat.Of(file);

        File.WriteAllText(file, "bbbb\n");
        File.SetLastWriteTimeUtc(file, mtime);
        Assert.Equal(statBefore, FileStat.Of(file));

        var after = cache.Hash(file);

        Assert.Equal(2, cache.FilesRead);
        Assert.NotEqual(before, after);
        Assert.Equal(ContentHash.OfString("bbbb\n"), after);
    }

    [Fact]
    public void ChangedFileGetsANewHash()
    {
        var file = _dir.WriteFile("data.csv", "1,2,3\n");
        File.SetLastWriteTimeUtc(file, Ago(TimeSpan.FromSeconds(10)));
        var cache = new FileHashCache();
        var before = cache.Hash(file);

        File.WriteAllText(file, "1,2,3,4\n");
        var after = cache.Hash(file);

        Assert.NotEqual(before, after);
        Assert.Equal(ContentHash.OfString("1,2,3,4\n"), after);
        Assert.Equal(2, cache.FilesRead);
        Assert.Equal(after, cache.Changed[file].Hash);
    }

    [Fact]
    public void SameSizeChangeWithAnotherMtimeGetsANewHash()
    {
        var file = _dir.WriteFile("data.csv", "aaaa\n");
        File.SetLastWriteTimeUtc(file, Ago(TimeSpan.FromSeconds(20)));
        var cache = new FileHashCache();
        var before = cache.Hash(file);

        File.WriteAllText(file, "bbbb\n");
        File.SetLastWriteTimeUtc(file, Ago(TimeSpan.FromSeconds(10)));

        Assert.NotEqual(before, cache.Hash(file));
        Assert.Equal(2, cache.FilesRead);
    }

    [Fact]
    public void ReplacedFileWithTheSameSizeAndMtimeGetsANewHash()
    {
        // A new file renamed over the old one (editors, git checkout) has another inode.
        var file = _dir.WriteFile("data.csv", "aaaa\n");
        var mtime = Ago(TimeSpan.FromSeconds(10));
        File.SetLastWriteTimeUtc(file, mtime);
        var cache = new FileHashCache();
        var before = cache.Hash(file);

        var replacement = _dir.WriteFile("data.csv.new", "bbbb\n");
        File.SetLastWriteTimeUtc(replacement, mtime);
        File.Move(replacement, file, overwrite: true);

        Assert.NotEqual(before, cache.Hash(file));
        Assert.Equal(2, cache.FilesRead);
    }

    [Fact]
    public void StatSeesSizeAndNanosecondMtime()
    {
        var file = _dir.WriteFile("x.bin", "12345");
        var mtime = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(file, mtime);

        var stat = FileStat.Of(file);

        Assert.Equal(5, stat.Size);
        Assert.Equal((mtime - DateTime.UnixEpoch).Ticks * 100, stat.MTimeNs);
        if (OperatingSystem.IsLinux()) Assert.NotEqual(0, stat.Inode);
    }
}
