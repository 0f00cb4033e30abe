using System.Globalization;

namespace PipelineSdk.Core.Model;

/// <summary>Reads resource values written the way Slurm users write them, for every compute target.</summary>
public static class ResourceUnits
{
    /// <summary>Bytes of a size such as <c>512M</c>, <c>4G</c>, <c>1.5T</c> or <c>2048</c> (MiB, as in Slurm's --mem); null when unreadable.</summary>
    public static long? MemoryBytes(string text)
    {
        var t = text.Trim().ToUpperInvariant().TrimEnd('B', 'I');
        if (t.Length == 0) return null;
        var (number, unit) = char.IsLetter(t[^1]) ? (t[..^1], t[^1]) : (t, 'M');
        var scale = unit switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 0 };
        return scale > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0
            ? (long)(n * scale)
            : null;
    }

    /// <summary>Megabytes for Slurm's --mem (it counts in MiB).</summary>
    public static long MemoryMegabytes(string text) => (MemoryBytes(text)!.Value + (1L << 20) - 1) >> 20;

    /// <summary>A time limit in Slurm's forms: <c>minutes</c>, <c>mm:ss</c>, <c>hh:mm:ss</c>, <c>d-hh</c>, <c>d-hh:mm</c>, <c>d-hh:mm:ss</c>; null when unreadable.</summary>
    public static TimeSpan? Duration(string text)
    {
        var t = text.Trim();
        var days = 0;
        var dash = t.IndexOf('-');
        if (dash > 0)
        {
            if (!int.TryParse(t[..dash], out days)) return null;
            t = t[(dash + 1)..];
        }
        var parts = t.Split(':');
        if (parts.Length > 3 || parts.Any(p => !int.TryParse(p, out var v) || v < 0)) return null;
        var n = parts.Select(int.Parse).ToArray();
        var span = (dash > 0, n.Length) switch
        {
            (false, 1) => TimeSpan.FromMinutes(n[0]),
            (false, 2) => new TimeSpan(0, n[0], n[1]),
            (_, 3) => new TimeSpan(days, n[0], n[1], n[2]),
            (true, 1) => new TimeSpan(days, n[0], 0, 0),
            (true, 2) => new TimeSpan(days, n[0], n[1], 0),
            _ => (TimeSpan?)null,
        };
        return span > TimeSpan.Zero ? span : null;
    }

    /// <summary>A GPU request as Slurm gres: a bare count <c>2</c> becomes <c>gpu:2</c>.</summary>
    public static string Gres(string gpus) => int.TryParse(gpus, out _) ? $"gpu:{gpus}" : gpus;

    /// <summary>A GPU count for the Docker engine's device requests (-1: all), or null for a gres it cannot read.</summary>
    public static int? GpuCount(string gpus) =>
        gpus.Equals("all", StringComparison.OrdinalIgnoreCase) ? -1 : int.TryParse(gpus.Split(':')[^1], out var n) ? n : null;
}
