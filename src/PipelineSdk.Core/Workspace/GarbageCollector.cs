using System.Text.Json;
using PipelineSdk.Core.Datastores;
using PipelineSdk.Core.FileSystem;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Workspace;

/// <summary>Something the collector removes (or would remove): an output folder or prefix, a stored file, a shared cache entry, and its size.</summary>
public sealed record Collected(string Kind, string Path, long Bytes);

/// <summary>What a collection removed, or would remove in a dry run, and the datastores it could not reach.</summary>
public sealed record CollectionResult(IReadOnlyList<Collected> Removed, int KeptRuns, int CollectedRuns, bool DryRun)
{
    public long Bytes => Removed.Sum(r => r.Bytes);

    /// <summary>Why some outputs were left in place (a blob datastore whose connection variable is not set, say).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];
}

/// <summary>
/// Retention: Azure ML never deletes intermediate data, PipelineSdk does. Removes the outputs of step runs that no kept
/// pipeline run uses — in the workspace datastore (local, or the shared blob one), in local datastores of projects and
/// in blob containers, wherever each output was recorded — and stored copies (each local datastore's content store)
/// that neither a kept output nor a registered dataset version holds. A run is kept when it is among the last
/// <c>keepLast</c> runs of its experiment, younger than <c>olderThan</c>, or still running. Run history (logs, metrics,
/// records) is kept: a collected step simply runs again when it is next needed.
/// </summary>
public static class GarbageCollector
{
    public static CollectionResult Collect(PipelineWorkspace workspace, RunHistory history, int keepLast, TimeSpan olderThan, bool dryRun)
    {
        // Held until the collection ends: a build that starts meanwhile waits, so it never reuses an output being removed.
        using var exclusive = dryRun ? null : WorkspaceLock.TryExclusive(workspace.Root)
            ?? throw new WorkspaceBusyException($"a build is using workspace {workspace.Root}, and collecting now could delete what it reuses. Run mlp gc again when the build has finished.");
        var now = DateTimeOffset.UtcNow;
        var kept = history.PipelineRuns().GroupBy(r => r.Experiment)
            .SelectMany(g => g.OrderByDescending(r => r.Started).Select((r, i) => (Run: r, Keep: i < keepLast || now - r.Started < olderThan || r.Status == RunStatus.Running)))
            .ToList();

        var keptOutputs = new HashSet<(string Store, string Path)>();
        var keptHashes = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new Dictionary<(string Store, string Path), OutputRecord>();
        foreach (var (run, keep) in kept)
            foreach (var output in history.StepRuns(run.Id).SelectMany(s => s.Outputs.Values))
            {
                var key = (StoreKey(output), output.Path);
                if (!keep) { candidates.TryAdd(key, output); continue; }
                keptOutputs.Add(key);
                keptHashes.UnionWith(output.Files.Values);
            }
        foreach (var version in history.DatasetVersions())
            keptHashes.UnionWith(history.Manifest(version.Hash)?.Values ?? []);

        var stores = new OutputStores(workspace);
        var removed = new List<Collected>();
        foreach (var ((store, path), output) in candidates.Where(c => !keptOutputs.Contains(c.Key)).OrderBy(c => c.Key.Path, StringComparer.Ordinal))
            if (stores.Remove(store, output, dryRun) is { } bytes)
                removed.Add(new Collected("output", output.Location is { } at ? $"{at.Key}/{path}" : path, bytes));

        // Each local datastore keeps its own content store.
        foreach (var root in stores.LocalRoots)
        {
            var cas = Path.Combine(root, ".cas");
            if (!Directory.Exists(cas)) continue;
            foreach (var file in Directory.EnumerateFiles(cas, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                // Temporary names (a copy in progress) are left to the build that writes them.
                var hash = Path.GetFileName(file);
                if (hash.Contains('.') || keptHashes.Contains(hash)) continue;
                var shown = root == workspace.DefaultDatastoreRoot ? Path.GetRelativePath(root, file).Replace('\\', '/') : file;
                removed.Add(new Collected("stored", shown, new FileInfo(file).Length));
                if (!dryRun) GuardedDelete.File(file, cas);
            }
        }
        removed.AddRange(stores.ForgetSharedResults(dryRun));
        return new CollectionResult(removed, kept.Count(k => k.Keep), kept.Count(k => !k.Keep), dryRun) { Skipped = stores.Skipped };
    }

    private static string StoreKey(OutputRecord output) =>
        output.Location?.Key ?? (output.Datastore == Datastore.DefaultName ? "workspace" : $"unrecorded:{output.Datastore}");

    /// <summary>The datastores outputs were written to, reached once each; blob ones through their recorded connection variable.</summary>
    private sealed class OutputStores(PipelineWorkspace workspace)
    {
        private readonly Dictionary<string, BlobStore?> _blobs = [];
        private readonly HashSet<string> _removedShared = new(StringComparer.Ordinal);
        private readonly List<string> _skipped = [];

        public HashSet<string> LocalRoots { get; } = [workspace.DefaultDatastoreRoot];

        public IReadOnlyList<string> Skipped => _skipped;

        /// <summary>Removes one output; its size, or null when it is gone already or its datastore cannot be reached.</summary>
        public long? Remove(string key, OutputRecord output, bool dryRun)
        {
            if (key == "workspace" && workspace.SharedDatastore is { } shared)
            {
                var removed = RemoveBlobs(Blob(key, shared), output.Path, dryRun);
                if (removed is not null) _removedShared.Add(output.Path);
                return removed;
            }
            if (output.Location is { Kind: Datastore.AzureBlobKind } at)
                return RemoveBlobs(Blob(key, new Datastore(output.Datastore, Datastore.AzureBlobKind, "") { Container = at.Root, ConnectionVariable = at.ConnectionVariable }), output.Path, dryRun);
            var root = key == "workspace" ? workspace.DefaultDatastoreRoot : output.Location?.Root;
            if (root is null)
            {
                Skip($"outputs in datastore '{output.Datastore}' of runs recorded before datastore locations were: remove them by hand if need be");
                return null;
            }
            LocalRoots.Add(root);
            var folder = Path.Combine(root, output.Path);
            if (!Directory.Exists(folder)) return null;
            var bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            if (!dryRun) GuardedDelete.FolderAndEmptyParents(folder, root);
            return bytes;
        }


        /// <summary>Shared cache entries (cache/&lt;fingerprint&gt;.json) whose outputs were removed: no machine may reuse them any more.</summary>
        public IEnumerable<Collected> ForgetSharedResults(bool dryRun)
        {
            if (_removedShared.Count == 0 || !_blobs.TryGetValue("workspace", out var shared) || shared is null) yield break;
            foreach (var (name, bytes) in shared.Sizes("cache").ToList())
            {
                var record = shared.ReadText(name) is { } json ? JsonSerializer.Deserialize(json, HistoryJson.Default.StepRunRecord) : null;
                if (record is null || !record.Outputs.Values.Any(o => _removedShared.Contains(o.Path))) continue;
                if (!dryRun) shared.DeleteBlob(name);
                yield return new Collected("cache", name, bytes);
            }
        }

        private static long? RemoveBlobs(BlobStore? store, string prefix, bool dryRun)
        {
            if (store is null) return null;
            var blobs = store.Sizes(prefix).ToList();
            if (blobs.Count == 0) return null;
            if (!dryRun) store.Delete(prefix);
            return blobs.Sum(b => b.Bytes);
        }

        private BlobStore? Blob(string key, Datastore datastore)
        {
            if (_blobs.TryGetValue(key, out var known)) return known;
            try { return _blobs[key] = BlobStore.Connect(datastore); }
            catch (DatastoreException e)
            {
                Skip($"the outputs in datastore '{datastore.Name}': {e.Message}");
                return _blobs[key] = null;
            }
        }

        private void Skip(string why)
        {
            if (!_skipped.Contains(why)) _skipped.Add(why);
        }
    }
}
