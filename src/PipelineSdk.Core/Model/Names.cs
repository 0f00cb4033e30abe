using System.Text;

namespace PipelineSdk.Core.Model;

/// <summary>
/// The one rule for names of steps, datasets, outputs, parameters, datastores, environments and compute targets, the
/// same where they are declared and where <c>{input:name}</c> references them. Names become folder names (work
/// folders, staging, logs, inputs), so they can never be paths: no separators, no '..', no control characters.
/// </summary>
public static class Names
{
    /// <summary>A letter or '_', then letters, digits, '_', '.' and '-' (letters of any script).</summary>
    public const string Pattern = @"[\p{L}_][\p{L}\p{Nd}_.\-]*";

    /// <summary>In UTF-8 bytes: a step run's folder is the run id, '-' and the step name, and a folder name has at most 255.</summary>
    public const int MaxBytes = 128;

    private static readonly System.Text.RegularExpressions.Regex Whole = new($"^{Pattern}$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Why <paramref name="name"/> cannot be used, or null when it can.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "it is empty";
        if (Encoding.UTF8.GetByteCount(name) > MaxBytes) return $"it is longer than {MaxBytes} bytes";
        if (name.Any(char.IsControl)) return "it holds a control character";
        if (name.IndexOfAny(['/', '\\']) >= 0) return "it holds a path separator";
        if (name.Contains("..")) return "it holds '..'";
        if (!Whole.IsMatch(name)) return "it must start with a letter or '_' and hold only letters, digits, '_', '.' and '-'";
        return null;
    }

    /// <summary>A name as an error message can show it: control characters escaped, a long one cut.</summary>
    public static string Display(string name)
    {
        var shown = new StringBuilder();
        foreach (var c in name.Length > 60 ? name[..60] : name)
            shown.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        return name.Length > 60 ? $"{shown}… ({name.Length} characters)" : shown.ToString();
    }
}
