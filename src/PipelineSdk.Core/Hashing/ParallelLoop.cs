using System.Runtime.ExceptionServices;

namespace PipelineSdk.Core.Hashing;

/// <summary>
/// Runs a loop over many independent items on every core with threads of its own, never the thread pool's. Steps
/// hold pool threads while they wait (for a dataset another step is hashing, for a lock), and a loop whose helpers
/// wait for a free pool thread then waits for the pool to grow, one thread every half second: a 50-step no-op build
/// took 40 s that way with Parallel.For.
/// </summary>
public static class ParallelLoop
{
    /// <param name="perThread">Fewer items than this per core are not worth a thread: the loop runs on the caller alone.</param>
    public static void For(int count, Action<int> body, int perThread = 512)
    {
        var threads = Math.Min(Environment.ProcessorCount, count / Math.Max(perThread, 1));
        if (threads <= 1)
        {
            for (var i = 0; i < count; i++) body(i);
            return;
        }
        const int Chunk = 32;
        var next = 0;
        ExceptionDispatchInfo? failure = null;
        void Work()
        {
            try
            {
                for (var start = Interlocked.Add(ref next, Chunk) - Chunk; start < count; start = Interlocked.Add(ref next, Chunk) - Chunk)
                    for (var i = start; i < Math.Min(start + Chunk, count); i++) body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, ExceptionDispatchInfo.Capture(e), null);
                Volatile.Write(ref next, count);
            }
        }
        var helpers = new Thread[threads - 1];
        for (var t = 0; t < helpers.Length; t++) (helpers[t] = new Thread(Work) { IsBackground = true, Name = "PipelineSdk loop" }).Start();
        Work();
        foreach (var helper in helpers) helper.Join();
        failure?.Throw();
    }
}
