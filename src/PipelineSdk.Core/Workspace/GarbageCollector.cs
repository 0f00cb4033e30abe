namespace PipelineSdk.Core.Workspace;

/// <summary>Something the collector removes (or would remove): a folder or file of the workspace datastore and its size.</summary>
public sealed record Collected(string Kind, string Path, long Bytes);

/// <summary>What a collection removed, or would remove in a dry run.</summary>
public sealed record CollectionResult(IReadOnlyList<Collected> Removed, int KeptRuns, int CollectedRuns, bool DryRun)
{
    public long Bytes => Removed.Sum(r => r.Bytes);
}

/// <summary>
/// Retention for the workspace datastore: Azure ML never deletes intermediate data, PipelineSdk does. Removes the
/// output folders of step runs that no kept pipeline run uses, and stored copies (the content store) that neither
/// a kept output nor a registered dataset version holds. A run is kept when it is among the last
/// <c>keepLast</c> runs of its experiment, younger than <c>olderThan</c>, or still running. Run history (logs,
/// metrics, records) is kept: a collected step simply runs again when it is next needed.
/// </summary>
public static class GarbageCollector
{
    public static CollectionResult Collect(PipelineWorkspace workspace, RunHistory history, int keepLast, TimeSpan olderThan, bool dryRun)
    {
        var now = DateTimeOffset.UtcNow;
        var runs = history.PipelineRuns();
        var kept = runs.GroupBy(r => r.Experiment)
            .SelectMany(g => g.OrderByDescending(r => r.Started).Select((r, i) => (Run: r, Keep: i < keepLast || now - r.Started < olderThan || r.Status == RunStatus.Running)))
            .ToList();

        var keptOutputs = new HashSet<string>(StringComparer.Ordinal);
        var keptHashes = new HashSet<string>(StringComparer.Ordinal);
        var candidates = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (run, keep) in kept)
        {
            foreach (var output in history.StepRuns(run.Id).SelectMany(s => s.Outputs.Values).Where(o => o.Datastore == Model.Datastore.DefaultName))
            {
                if (keep)
                {
                    keptOutputs.Add(output.Path);
                    keptHashes.UnionWith(output.Files.Values);
                }
                else candidates[output.Path] = 0;
            }
        }
        foreach (var version in history.DatasetVersions())
            keptHashes.UnionWith(history.Manifest(version.Hash)?.Values ?? []);

        var removed = new List<Collected>();
        foreach (var path in candidates.Keys.Where(p => !keptOutputs.Contains(p)).Order(StringComparer.Ordinal))
        {
            var folder = Path.Combine(workspace.DefaultDatastoreRoot, path);
            if (!Directory.Exists(folder)) continue;
            removed.Add(new Collected("output", path, Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)));
            if (!dryRun) Directory.Delete(folder, recursive: true);
        }

        var store = Path.Combine(workspace.DefaultDatastoreRoot, ".cas");
        if (Directory.Exists(store))
            foreach (var file in Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                // Temporary names (a copy in progress) are left to the build that writes them.
                var hash = Path.GetFileName(file);
                if (hash.Contains('.') || keptHashes.Contains(hash)) continue;
                removed.Add(new Collected("stored", Path.GetRelativePath(workspace.DefaultDatastoreRoot, file).Replace('\\', '/'), new FileInfo(file).Length));
                if (!dryRun) File.Delete(file);
            }

        return new CollectionResult(removed, kept.Count(k => k.Keep), kept.Count(k => !k.Keep), dryRun);
    }
}
