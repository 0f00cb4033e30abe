using System.Text;
using System.Text.RegularExpressions;

namespace PipelineSdk.Core.Snapshots;

/// <summary>
/// The ignore file of a step's source directory, in .gitignore syntax: <c>.amlignore</c> when present
/// (it wins, as in Azure ML), else <c>.gitignore</c>. Python byte code and VCS folders are always
/// left out, so running a script by hand does not change the step's fingerprint, and so are
/// the project's own state folders (obj/, bin/, .mlworkspace/) when the source directory is the project.
/// </summary>
public sealed class IgnoreRules
{
    public static readonly string[] AlwaysIgnored = ["__pycache__/", "*.pyc", ".git/", ".amlignore", ".gitignore", ".mlworkspace/", "/obj/", "/bin/"];

    private readonly List<(Regex Pattern, bool Negated, bool DirectoryOnly)> _rules = [];

    public IgnoreRules(IEnumerable<string> lines)
    {
        foreach (var raw in AlwaysIgnored.Concat(lines))
        {
            var line = raw.TrimEnd();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var negated = line.StartsWith('!');
            if (negated) line = line[1..];
            if (line.StartsWith("\\")) line = line[1..];
            var directoryOnly = line.EndsWith('/');
            line = line.TrimEnd('/');
            if (line.Length == 0) continue;
            _rules.Add((ToRegex(line), negated, directoryOnly));
        }
    }

    /// <summary>The rules that apply to <paramref name="sourceDirectory"/>, and which file they came from (null: none).</summary>
    public static (IgnoreRules Rules, string? File) For(string sourceDirectory)
    {
        foreach (var name in new[] { ".amlignore", ".gitignore" })
        {
            var path = Path.Combine(sourceDirectory, name);
            if (File.Exists(path)) return (new IgnoreRules(File.ReadAllLines(path)), name);
        }
        return (new IgnoreRules([]), null);
    }

    /// <summary>Whether a path relative to the source directory ('/'-separated) is left out; the last matching rule wins.</summary>
    public bool IsIgnored(string relativePath, bool isDirectory)
    {
        var ignored = false;
        foreach (var (pattern, negated, directoryOnly) in _rules)
        {
            if (directoryOnly && !isDirectory) continue;
            if (pattern.IsMatch(relativePath)) ignored = !negated;
        }
        return ignored;
    }

    private static Regex ToRegex(string glob)
    {
        // A pattern with a slash anywhere but the end is anchored to the source directory; otherwise it matches at any depth.
        var anchored = glob.Contains('/');
        glob = glob.TrimStart('/');
        var sb = new StringBuilder(anchored ? "^" : "^(?:.*/)?");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                var slashFollows = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slashFollows ? "(?:.*/)?" : ".*");
                i += slashFollows ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else if (c == '[')
            {
                var end = glob.IndexOf(']', i + 1);
                if (end < 0) { sb.Append("\\["); continue; }
                var set = glob[(i + 1)..end];
                sb.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                i = end;
            }
            else sb.Append(Regex.Escape(c.ToString()));
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.CultureInvariant);
    }
}
