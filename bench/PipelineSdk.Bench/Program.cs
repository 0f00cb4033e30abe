using System.Diagnostics;
using PipelineSdk.Bench;
using static PipelineSdk.Bench.Bench;

// The performance figures of the issue "Reuse you can trust", measured side by side on this machine.
// Usage: bench/run.sh [--quick] [--compute] [--only hash|fingerprint|noop|chain] [--work DIR] [--keep]

var quick = args.Contains("--quick");
var compute = args.Contains("--compute");
var onlyAt = Array.IndexOf(args, "--only");
var only = onlyAt >= 0 && onlyAt < args.Length - 1 ? args[onlyAt + 1] : null;
bool Measures(string figure) => !compute && (only is null || only == figure);
var keep = args.Contains("--keep");
var workAt = Array.IndexOf(args, "--work");
if (args.Contains("--help") || args.Any(a => a.StartsWith("--") && a is not ("--quick" or "--compute" or "--only" or "--keep" or "--work")) || (workAt >= 0 && workAt == args.Length - 1)
    || (onlyAt >= 0 && only is not ("hash" or "fingerprint" or "noop" or "chain")))
{
    Console.Error.WriteLine("usage: bench/run.sh [--quick] [--compute] [--work DIR] [--keep]\n"
        + "  --quick     smaller sizes (256 MiB, 20k files, 10 steps) to smoke-test the bench\n"
        + "  --compute   only the Docker and Slurm step overheads (needs root for .ci/services, or PIPELINESDK_DOCKER_ENV and PIPELINESDK_SLURM_ENV)\n"
        + "  --only X    only one of the engine's figures: hash, fingerprint, noop or chain\n"
        + "  --work DIR  where everything is created (default: a new folder under the temp folder); must be new or empty\n"
        + "  --keep      leave the work folder in place");
    return 2;
}
var sizes = quick ? Sizes.Quick : Sizes.Full;
var work = workAt >= 0 ? Path.GetFullPath(args[workAt + 1]) : Path.Combine(Path.GetTempPath(), $"pipelinesdk-bench-{Guid.NewGuid().ToString("N")[..8]}");
if (Directory.Exists(work) && Directory.EnumerateFileSystemEntries(work).Any())
{
    // The work folder is deleted at the end: never adopt one holding someone's files.
    Console.Error.WriteLine($"{work} is not empty; give --work a new or empty folder");
    return 2;
}
var repository = FindRepositoryRoot();
Directory.CreateDirectory(work);

var clock = Stopwatch.StartNew();
Say($"PipelineSdk bench{(quick ? " (--quick)" : "")}: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
Say($"    engine from {repository} at {Run("git", ["-C", repository, "describe", "--always", "--dirty"]).Output.Trim()}; work folder {work}");
Say($"    medians of: engine hash {HashThroughput.EngineRuns}, xxhsum {HashThroughput.XxhsumRuns}, sha256sum {HashThroughput.Sha256Runs}; "
    + $"fingerprint first {Fingerprinting.FirstRuns}, repeated {Fingerprinting.RepeatedRuns}, git status {Fingerprinting.GitRuns}; "
    + $"no-op and empty builds {NoOpBuild.Builds} each; chain rebuilds {StepOverhead.Rebuilds}, chain no-op builds {StepOverhead.NoOpBuilds}; spawn mean of {StepOverhead.Spawns}");
if (quick) Say("    --quick is a smoke test: the sizes are too small for the figures to be judged against the targets");
var rows = new List<Row>();
try
{
    var feed = new Feed(Path.Combine(work, "feed"), repository);
    if (compute) rows.AddRange(ComputeOverhead.Measure(feed, repository, sizes));
    // The no-op build reads the hashing figure's 1 GiB file.
    if (Measures("hash") || Measures("noop")) rows.AddRange(HashThroughput.Measure(Path.Combine(work, "hash"), sizes));
    if (Measures("fingerprint")) rows.AddRange(Fingerprinting.Measure(Path.Combine(work, "fingerprint"), sizes));
    if (Measures("noop")) rows.AddRange(NoOpBuild.Measure(feed, Path.Combine(work, "hash", "big.bin"), sizes));
    if (Measures("chain")) rows.AddRange(StepOverhead.Measure(feed, sizes));
}
finally
{
    if (keep) Say($"kept {work}");
    else Directory.Delete(work, recursive: true);
}

string[] header = ["figure", "value", "reference", "ratio", "target", "result"];
var table = rows.Select(r => new[] { r.Figure, r.Value, r.Reference, r.Ratio, r.Target, r.Pass switch { true => "PASS", false => "MISS", null => "-" } }).Prepend(header).ToList();
var widths = Enumerable.Range(0, header.Length).Select(c => table.Max(r => r[c].Length)).ToArray();
Say("");
foreach (var (line, i) in table.Select((r, i) => (r, i)))
{
    Say(string.Join(" | ", line.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
    if (i == 0) Say(string.Join("-|-", widths.Select(w => new string('-', w))));
}
Say($"\n{rows.Count(r => r.Pass == true)} PASS, {rows.Count(r => r.Pass == false)} MISS; bench took {clock.Elapsed.TotalMinutes:0.0} min");
return 0;

static string FindRepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "PipelineSdk.sln"))) return dir.FullName;
    throw new InvalidOperationException($"no PipelineSdk.sln above {AppContext.BaseDirectory}");
}
