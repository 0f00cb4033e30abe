using PipelineSdk.Core.FileSystem;

namespace PipelineSdk.Core.Tests;

public sealed class GuardedDelete_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void DeletesAFolderInsideItsOwner()
    {
        _dir.WriteFile("owner/out/a.txt", "a");

        GuardedDelete.Folder(_dir["owner/out"], _dir["owner"]);

        Assert.False(Directory.Exists(_dir["owner/out"]));
        Assert.True(Directory.Exists(_dir["owner"]));
    }

    [Theory]
    [InlineData("owner")]
    [InlineData("owner/..")]
    [InlineData("owner/x/../..")]
    [InlineData("elsewhere")]
    [InlineData("")]
    public void RefusesTheOwnerItselfAndAnythingOutsideIt(string target)
    {
        _dir.WriteFile("owner/keep.txt", "k");
        _dir.WriteFile("elsewhere/keep.txt", "k");

        var refused = Assert.Throws<UnsafeDeleteException>(() => GuardedDelete.Folder(System.IO.Path.Combine(_dir.Path, target), _dir["owner"]));

        Assert.Contains("Nothing was deleted", refused.Message);
        Assert.True(File.Exists(_dir["owner/keep.txt"]));
        Assert.True(File.Exists(_dir["elsewhere/keep.txt"]));
    }

    [Fact]
    public void AFolderReachedThroughALinkOutOfTheOwnerIsRefused()
    {
        _dir.WriteFile("precious/data.txt", "d");
        Directory.CreateDirectory(_dir["owner"]);
        Directory.CreateSymbolicLink(_dir["owner/outputs"], _dir["precious"]);

        Assert.Throws<UnsafeDeleteException>(() => GuardedDelete.Folder(_dir["owner/outputs/x"], _dir["owner"]));
        Assert.True(File.Exists(_dir["precious/data.txt"]));
    }

    [Fact]
    public void ALinkInsideTheOwnerIsRemovedNotWhatItPointsAt()
    {
        _dir.WriteFile("precious/data.txt", "d");
        Directory.CreateDirectory(_dir["owner"]);
        Directory.CreateSymbolicLink(_dir["owner/link"], _dir["precious"]);

        GuardedDelete.Folder(_dir["owner/link"], _dir["owner"]);

        Assert.False(Path.Exists(_dir["owner/link"]));
        Assert.True(File.Exists(_dir["precious/data.txt"]));
    }

    [Fact]
    public void EmptyParentsGoUpToButNeverIncludingTheOwner()
    {
        _dir.WriteFile("owner/outputs/run1/model/w.bin", "w");
        _dir.WriteFile("owner/outputs/run2/model/w.bin", "w");

        GuardedDelete.FolderAndEmptyParents(_dir["owner/outputs/run1/model"], _dir["owner"]);
        GuardedDelete.FolderAndEmptyParents(_dir["owner/outputs/run2/model"], _dir["owner"]);

        Assert.True(Directory.Exists(_dir["owner"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir["owner"]));
    }

    [Fact]
    public void RealPathResolvesLinksOnTheWayAndReportsLoops()
    {
        Directory.CreateDirectory(_dir["real/sub"]);
        Directory.CreateSymbolicLink(_dir["link"], _dir["real"]);
        File.CreateSymbolicLink(_dir["loop-a"], _dir["loop-b"]);
        File.CreateSymbolicLink(_dir["loop-b"], _dir["loop-a"]);

        Assert.Equal(_dir["real/sub"], RealPath.Of(_dir["link/sub"]));
        Assert.True(RealPath.IsWithin(_dir["link/sub"], _dir["real"]));
        Assert.False(RealPath.IsWithin(_dir["link/sub"], _dir["link-not-real"]));
        Assert.Throws<IOException>(() => RealPath.Of(_dir["loop-a"]));
    }
}
