using PipelineSdk.Core.Execution;

namespace PipelineSdk.Core.Tests;

public sealed class DatasetFiles_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AFolderSelectsEveryFileBelowItHiddenOnesIncludedAsSortedRelativePaths()
    {
        foreach (var file in new[] { "data/top.csv", "data/.hidden", "data/b/x.csv", "data/a/deep/er/y.csv", "data/a/z.csv", "other/no.csv" })
            _dir.WriteFile(file, "1");
        _dir.CreateDirectory("data/empty");

        var files = DatasetFiles.Resolve(_dir.Path, "data");

        Assert.True(files.IsWholeFolder);
        Assert.Equal(_dir["data"], files.BaseDirectory);
        Assert.Equal([".hidden", "a/deep/er/y.csv", "a/z.csv", "b/x.csv", "top.csv"], files.RelativePaths);
    }

    [Fact]
    public void AGlobSelectsWhatItMatchesBelowItsFixedPart()
    {
        foreach (var file in new[] { "raw/2024/a.csv", "raw/2024/b.txt", "raw/2025/c.csv", "raw/d.csv" })
            _dir.WriteFile(file, "1");

        var files = DatasetFiles.Resolve(_dir.Path, "raw/*/*.csv");

        Assert.False(files.IsWholeFolder);
        Assert.Equal(["2024/a.csv", "2025/c.csv"], files.RelativePaths);
    }
}
