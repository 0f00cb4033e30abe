using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Tests;

public sealed class RunHistory_Tests
{
    /// <summary>
    /// An empty runs.db is refused as a lost history, so builds starting together on a new workspace must never see one
    /// half made: each of them opens it while the others may be creating it.
    /// </summary>
    [Fact]
    public async Task ANewHistoryOpenedByManyAtOnceIsNeverSeenHalfMade()
    {
        using var dir = new TempDirectory();
        for (var attempt = 0; attempt < 30; attempt++)
        {
            var database = dir[$"{attempt}/runs.db"];
            Directory.CreateDirectory(Path.GetDirectoryName(database)!);
            using var start = new Barrier(4);
            var opened = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                using var history = RunHistory.Open(database);
                return history.PipelineRuns().Count;
            }, TaskCreationOptions.LongRunning)).ToArray();

            Assert.All(await Task.WhenAll(opened), count => Assert.Equal(0, count));
        }
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*.new", SearchOption.AllDirectories));
    }
}
