using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Tests;

/// <summary>Run alone: one test starves the thread pool on purpose, which would stall other tests' steps.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StarvesThreadPool
{
    public const string Name = "starves the thread pool";
}

[Collection(StarvesThreadPool.Name)]
public sealed class ParallelLoop_Tests
{
    [Fact]
    public void EveryIndexRunsOnceOnThreadsOutsideThePool()
    {
        var runs = new int[100_000];
        var onPool = 0;

        var caller = new Thread(() => ParallelLoop.For(runs.Length, i =>
        {
            Interlocked.Increment(ref runs[i]);
            if (Thread.CurrentThread.IsThreadPoolThread) Interlocked.Increment(ref onPool);
        }));
        caller.Start();
        caller.Join();

        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(0, onPool);
    }

    /// <summary>
    /// Steps wait on pool threads; a loop that needed a free pool thread to finish then waited for the pool to grow
    /// (half a second per thread). Here every pool thread the pool can make soon is blocked until the loop is done.
    /// </summary>
    [Fact]
    public void FinishesWhileEveryPoolThreadIsBlocked()
    {
        var release = new ManualResetEventSlim(); // not disposed: queued items that start after the test still wait on it
        for (var n = 0; n < 200; n++) ThreadPool.UnsafeQueueUserWorkItem(_ => release.Wait(), null);
        try
        {
            var sum = 0L;
            var loop = new Thread(() => ParallelLoop.For(50_000, i => Interlocked.Add(ref sum, i)));
            loop.Start();

            Assert.True(loop.Join(TimeSpan.FromSeconds(20)), "the loop waited for the thread pool");
            Assert.Equal(50_000L * 49_999 / 2, sum);
        }
        finally
        {
            release.Set();
        }
    }

    [Fact]
    public void TheBodysExceptionReachesTheCallerAsItIs()
    {
        var thrown = Assert.Throws<IOException>(() => ParallelLoop.For(10_000, i =>
        {
            if (i == 7_777) throw new IOException("cannot stat file 7777");
        }));

        Assert.Equal("cannot stat file 7777", thrown.Message);
    }
}
