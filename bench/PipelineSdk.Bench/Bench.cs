using System.Diagnostics;
using System.Text;

namespace PipelineSdk.Bench;

/// <summary>Sizes of one bench run: the figures, or smaller ones (<c>--quick</c>) to smoke-test the bench.</summary>
public sealed record Sizes(int BigFileMiB, int FingerprintFolders, int NoOpSteps, int NoOpSmallFolders, int ChainSteps, int ComputeSteps)
{
    public static Sizes Full { get; } = new(1024, 1000, 50, 100, 100, 10);
    public static Sizes Quick { get; } = new(256, 200, 10, 20, 10, 3);

    /// <summary>Every generated folder holds this many files of ~100 bytes.</summary>
    public const int FilesPerFolder = 100;
}

/// <summary>One line of the final table. <see cref="Pass"/> is null for figures printed for information only.</summary>
public sealed record Row(string Figure, string Value, string Reference, string Ratio, string Target, bool? Pass);

/// <summary>What a child process did and how long it took, from start to exit with its output drained.</summary>
public sealed record ProcessRun(int ExitCode, string Output, TimeSpan Elapsed)
{
    public ProcessRun ShouldSucceed(string what) =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{what} failed with exit code {ExitCode}:\n{Output}");
}

public static class Bench
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    public static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    public static ProcessRun Run(string file, IEnumerable<string> arguments, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;

        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        var elapsed = clock.Elapsed;
        lock (output) return new ProcessRun(process.ExitCode, output.ToString(), elapsed);
    }

    /// <summary>
    /// Sets every mtime below <paramref name="directory"/> an hour back: the stat cache never trusts an entry
    /// whose mtime is within 2 s of hashing (racy git), and freshly generated data would always be re-read.
    /// </summary>
    public static void AgeFiles(string directory) =>
        Run("find", [directory, "-exec", "touch", "-d", "1 hour ago", "{}", "+"]).ShouldSucceed($"touch under {directory}");

    /// <summary>Writes <paramref name="mebibytes"/> MiB of seeded pseudo-random bytes, 1 MiB at a time.</summary>
    public static void WriteRandomFile(string path, int mebibytes, int seed)
    {
        var random = new Random(seed);
        var chunk = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        for (var i = 0; i < mebibytes; i++)
        {
            random.NextBytes(chunk);
            file.Write(chunk);
        }
    }

    /// <summary><paramref name="folders"/> folders of <see cref="Sizes.FilesPerFolder"/> files of 100 seeded pseudo-random bytes (as hex, so they read like data).</summary>
    public static int WriteSmallFiles(string directory, int folders, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[50];
        for (var d = 0; d < folders; d++)
        {
            var folder = Path.Combine(directory, $"d{d:D4}");
            Directory.CreateDirectory(folder);
            for (var f = 0; f < Sizes.FilesPerFolder; f++)
            {
                random.NextBytes(bytes);
                File.WriteAllText(Path.Combine(folder, $"f{f:D3}.txt"), Convert.ToHexStringLower(bytes));
            }
        }
        return folders * Sizes.FilesPerFolder;
    }

    public static string Ms(double seconds) => $"{seconds * 1000:0.0} ms";

    public static string S(double seconds) => $"{seconds:0.000} s";

    public static void Say(string line) => Console.WriteLine(line);
}
