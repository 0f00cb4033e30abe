using System.Collections.Concurrent;
using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Datastores;

/// <summary>
/// Mount mode for a blob output: while the step runs, each file it has finished writing (its size and mtime did not
/// change over one interval) is uploaded, so results such as checkpoints appear in the container as they are made.
/// The step writes a local folder: this is not a FUSE mount. What is left is uploaded when the step ends.
/// </summary>
public sealed class LiveUpload
{
    private readonly BlobStore _store;
    private readonly string _folder;
    private readonly string _prefix;
    private readonly Dictionary<string, (long Size, long MTime)> _seen = [];
    private readonly ConcurrentDictionary<string, ((long Size, long MTime) Stat, string Hash)> _uploaded = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LiveUpload(BlobStore store, string folder, string prefix, TimeSpan interval)
    {
        (_store, _folder, _prefix) = (store, folder, prefix.Trim('/'));
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try { await Task.Delay(interval, _stop.Token); }
                catch (OperationCanceledException) { return; }
                Scan();
            }
        });
    }

    /// <summary>Relative path → hash of the files uploaded while the step ran and unchanged since.</summary>
    public IReadOnlyDictionary<string, string> Uploaded =>
        _uploaded.Where(u => Stat(Path.Combine(_folder, u.Key)) == u.Value.Stat).ToDictionary(u => u.Key, u => u.Value.Hash);

    /// <summary>Everything uploaded so far, whatever became of the local file (to delete when the output is discarded).</summary>
    public IReadOnlyCollection<string> AllUploaded => [.. _uploaded.Keys];

    public void Stop()
    {
        _stop.Cancel();
        _loop.Wait();
    }

    private void Scan()
    {
        if (!Directory.Exists(_folder)) return;
        foreach (var file in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(_folder, file).Replace('\\', '/');
            var stat = Stat(file);
            var settled = _seen.TryGetValue(relative, out var before) && before == stat;
            _seen[relative] = stat;
            if (!settled || (_uploaded.TryGetValue(relative, out var done) && done.Stat == stat)) continue;
            try
            {
                var hash = ContentHash.OfFile(file);
                _store.Upload(_folder, _prefix, new Dictionary<string, string> { [relative] = hash });
                _uploaded[relative] = (stat, hash);
            }
            catch (Exception e) when (BlobStore.IsStorageFault(e) || e is IOException)
            {
                // Tried again at the next interval, and at the end, where a fault fails the step.
            }
        }
    }

    private static (long, long) Stat(string file)
    {
        var info = new FileInfo(file);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc.Ticks) : (-1, -1);
    }
}
