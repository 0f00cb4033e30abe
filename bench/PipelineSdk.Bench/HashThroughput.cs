using PipelineSdk.Core.Hashing;
using static PipelineSdk.Bench.Bench;

namespace PipelineSdk.Bench;

/// <summary>
/// 1. How fast the engine reads and hashes a big file already in the page cache (ContentHash.OfFile),
/// against xxhsum -H2 (the same XXH128, a C tool at memory speed) and sha256sum (what a naive tool would use).
/// </summary>
public static class HashThroughput
{
    public const int EngineRuns = 5, XxhsumRuns = 5, Sha256Runs = 3;

    public static IReadOnlyList<Row> Measure(string directory, Sizes sizes)
    {
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "big.bin");
        var bytes = (long)sizes.BigFileMiB << 20;
        Say($"[1] writing {sizes.BigFileMiB} MiB of pseudo-random bytes to {file}");
        WriteRandomFile(file, sizes.BigFileMiB, seed: 1);
        // Every contender must read from memory, not disk: read the file once so it sits in the page cache.
        Run("sh", ["-c", "cat \"$1\" > /dev/null", "sh", file]).ShouldSucceed("cat");

        var ours = ContentHash.OfFile(file); // also JIT-compiles the hashing loop before it is timed
        // Same algorithm, same digest: the comparison is like for like. (Its stderr may carry progress lines.)
        var theirs = System.Text.RegularExpressions.Regex.Match(Run("xxhsum", ["-H2", file]).ShouldSucceed("xxhsum").Output, "[0-9a-f]{32}").Value;
        Say($"    ContentHash {ours}, xxhsum -H2 {theirs}{(ours == theirs ? " (same)" : " (DIFFERENT: check the algorithms match)")}");

        // Interleaved rounds, so drift on a shared machine hits every contender alike. The tools' times include
        // their process start (about a millisecond, nothing next to a whole file read).
        List<double> engine = [], xxhsum = [], sha256 = [];
        for (var i = 0; i < Math.Max(EngineRuns, Math.Max(XxhsumRuns, Sha256Runs)); i++)
        {
            if (i < EngineRuns) engine.Add(Seconds(() => ContentHash.OfFile(file)));
            if (i < XxhsumRuns) xxhsum.Add(Run("xxhsum", ["-H2", file]).ShouldSucceed("xxhsum").Elapsed.TotalSeconds);
            if (i < Sha256Runs) sha256.Add(Run("sha256sum", [file]).ShouldSucceed("sha256sum").Elapsed.TotalSeconds);
        }
        double GiBps(double seconds) => bytes / seconds / (1 << 30);
        string Each(List<double> seconds) => string.Join(" ", seconds.Select(t => $"{GiBps(t):0.00}"));
        var (e, x, s) = (GiBps(Median(engine)), GiBps(Median(xxhsum)), GiBps(Median(sha256)));
        Say($"    GiB/s per run: engine {Each(engine)}; xxhsum {Each(xxhsum)}; sha256sum {Each(sha256)}");

        return
        [
            new Row($"hash {sizes.BigFileMiB} MiB cached: engine vs xxhsum -H2", $"{e:0.00} GiB/s", $"{x:0.00} GiB/s", $"{e / x:0.00}x", ">= 0.70x", e / x >= 0.7),
            new Row($"hash {sizes.BigFileMiB} MiB cached: engine vs sha256sum", $"{e:0.00} GiB/s", $"{s:0.00} GiB/s", $"{e / s:0.0}x", ">= 15x", e / s >= 15),
        ];
    }
}
