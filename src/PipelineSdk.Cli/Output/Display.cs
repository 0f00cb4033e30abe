using System.Globalization;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Output;

/// <summary>How times, durations and git state read in human output (JSON carries the raw values).</summary>
internal static class Display
{
    /// <summary>Local time to the second: the run history stores UTC, a person reads their own clock.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    public static string Duration(DateTimeOffset? started, DateTimeOffset? ended) =>
        started is { } s && ended is { } e ? Duration(e - s) : "-";

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalMinutes < 1) return span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        if (span.TotalHours < 1) return $"{(int)span.TotalMinutes}m{span.Seconds:00}s";
        return $"{(int)span.TotalHours}h{span.Minutes:00}m";
    }

    public static double? Seconds(DateTimeOffset? started, DateTimeOffset? ended) =>
        started is { } s && ended is { } e ? Math.Round((e - s).TotalSeconds, 3) : null;

    /// <summary>The short commit, with <c>*</c> when the work tree had uncommitted changes (as in a shell prompt).</summary>
    public static string Git(GitState? git) =>
        git is null ? "-" : git.Commit[..Math.Min(7, git.Commit.Length)] + (git.Dirty ? "*" : "");

    /// <summary>Bytes in binary units, one decimal above a KiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1) { value /= 1024; unit++; }
        return unit == 0 ? $"{bytes} B" : $"{value.ToString("0.0", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    public static string Parameters(IReadOnlyDictionary<string, string> parameters) =>
        parameters.Count == 0 ? "(none)" : string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}
