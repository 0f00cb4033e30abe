using System.Diagnostics;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Workspace;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// 2. Fingerprinting a dataset of many small files, the way PipelineRunner does it for one FileDataset:
/// first with an empty stat cache (every file read), then repeated (the cache answers from stat alone),
/// against `git status` on the same tree, which does the same job for git (stat every tracked file).
/// </summary>
public static class Fingerprinting
{
    public const int FirstRuns = 3, RepeatedRuns = 5, GitRuns = 5;

    /// <summary>Where one pass spends its time, so a MISS points at the part to fix.</summary>
    private sealed record Pass(double Total, double OpenAndLoad, double List, double Hash, double Save, int FilesRead);

    public static IReadOnlyList<Row> Measure(string directory, Sizes sizes)
    {
        var data = Path.Combine(directory, "data");
        var count = WriteSmallFiles(data, sizes.FingerprintFolders, seed: 2);
        AgeFiles(data);
        Say($"[2] {count:N0} files in {sizes.FingerprintFolders:N0} folders under {data}");

        // git keeps its repository outside the tree (GIT_DIR), so the engine never lists .git and both can run interleaved.
        var git = new Dictionary<string, string> { ["GIT_DIR"] = Path.Combine(directory, "git"), ["GIT_WORK_TREE"] = data };
        Run("git", ["init", "-q"], data, git).ShouldSucceed("git init");
        var added = Run("git", ["add", "-A"], data, git).ShouldSucceed("git add");
        Say($"    git add -A took {S(added.Elapsed.TotalSeconds)}");

        // First: a fresh workspace database each time, so nothing is known and every file is read.
        var first = new List<Pass>();
        string database = "";
        for (var i = 0; i < FirstRuns; i++)
        {
            database = Path.Combine(directory, $"workspace-{i}", "runs.db");
            Directory.CreateDirectory(Path.GetDirectoryName(database)!);
            first.Add(Fingerprint(database, data));
        }

        // Repeated: the last database, as the next build would find it. Interleaved with git status, after one warm-up each.
        Fingerprint(database, data);
        // git writes its listing to a file (via a dash that execs it): reading 100k lines through a .NET pipe would time our reader, not git.
        // Nothing is committed (git init && git add -A), so git lists every file as added: check it saw them all.
        var listing = Path.Combine(directory, "status.txt");
        ProcessRun Status() => Run("sh", ["-c", "exec git status --porcelain > \"$1\"", "sh", listing], data, git).ShouldSucceed("git status");
        Status();
        var listed = File.ReadLines(listing).Count();
        if (listed != count) throw new InvalidOperationException($"git status listed {listed} files, not {count}");
        var repeated = new List<Pass>();
        var gitStatus = new List<double>();
        for (var i = 0; i < Math.Max(RepeatedRuns, GitRuns); i++)
        {
            if (i < RepeatedRuns) repeated.Add(Fingerprint(database, data));
            if (i < GitRuns) gitStatus.Add(Status().Elapsed.TotalSeconds);
        }
        if (repeated.Any(p => p.FilesRead != 0)) throw new InvalidOperationException("a repeated pass read files: the stat cache was not trusted");

        Describe("first", first, count);
        Describe("repeated", repeated, count);
        var f = Median(first.Select(p => p.Total));
        var r = Median(repeated.Select(p => p.Total));
        var g = Median(gitStatus);
        Say($"    git status --porcelain: {string.Join(" ", gitStatus.Select(Ms))}");
        return
        [
            new Row($"fingerprint {count / 1000}k files, first (empty stat cache)", Ms(f), Ms(g), $"{f / g:0.0}x", "-", null),
            new Row($"fingerprint {count / 1000}k files, repeated vs git status", Ms(r), Ms(g), $"{r / g:0.0}x", "<= 2.0x", r / g <= 2),
        ];
    }

    /// <summary>Exactly the engine's sequence: open the run history, load the stat cache, list the dataset, hash every file through the cache, save what changed.</summary>
    private static Pass Fingerprint(string database, string data)
    {
        var clock = Stopwatch.StartNew();
        double openAndLoad, list, hash;
        FileHashCache cache;
        using (var history = RunHistory.Open(database))
        {
            cache = history.FileHashes();
            openAndLoad = clock.Elapsed.TotalSeconds;
            var files = DatasetFiles.Resolve(data, ".");
            list = clock.Elapsed.TotalSeconds;
            _ = cache.HashAll(files.BaseDirectory, files.RelativePaths);
            hash = clock.Elapsed.TotalSeconds;
            history.SaveFileHashes(cache.Changed);
        }
        var total = clock.Elapsed.TotalSeconds;
        return new Pass(total, openAndLoad, list - openAndLoad, hash - list, total - hash, cache.FilesRead);
    }

    private static void Describe(string name, List<Pass> passes, int count)
    {
        double M(Func<Pass, double> part) => Median(passes.Select(part));
        Say($"    {name} (median of {passes.Count}): {Ms(M(p => p.Total))} = open+load cache {Ms(M(p => p.OpenAndLoad))}, list {Ms(M(p => p.List))}, "
            + $"hash {Ms(M(p => p.Hash))} ({passes[^1].FilesRead:N0} of {count:N0} files read), save {Ms(M(p => p.Save))}; runs: {string.Join(" ", passes.Select(p => Ms(p.Total)))}");
    }
}
