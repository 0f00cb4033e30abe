using System.Text;
using System.Text.RegularExpressions;

namespace PipelineSdk.Core.Model;

public enum ReferenceKind { Input, Output, Param }

public sealed record Reference(ReferenceKind Kind, string Name);

/// <summary>
/// Command lines and arguments as written in the .mlproj: shell-like words (single and double quotes,
/// backslash escapes) with <c>{input:x}</c>, <c>{output:x}</c> and <c>{param:x}</c> references.
/// No shell runs them: a step that wants one says <c>sh -c '...'</c>.
/// </summary>
public static partial class ArgumentTemplate
{
    [GeneratedRegex(@"\{(input|output|param):(" + Names.Pattern + @")\}")]
    private static partial Regex ReferencePattern();

    /// <summary>What reads as an attempt at a reference: a brace, a kind word in any case or number, a colon.</summary>
    [GeneratedRegex(@"\{\s*(input|output|param|parameter)s?\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex ReferenceStart();

    /// <summary>
    /// Attempts at references that are not references (<c>{input:}</c>, <c>{param:x</c>, <c>{Input:raw}</c>,
    /// <c>{inputs:raw}</c>, <c>{input: raw}</c>): passed on literally they would reach the step as text.
    /// </summary>
    public static IEnumerable<string> Malformed(string template)
    {
        foreach (Match start in ReferenceStart().Matches(template))
        {
            var exact = ReferencePattern().Match(template, start.Index);
            if (exact.Success && exact.Index == start.Index) continue;
            var end = template.IndexOf('}', start.Index);
            yield return end < 0 || end - start.Index > 60 ? template[start.Index..Math.Min(template.Length, start.Index + 30)] : template[start.Index..(end + 1)];
        }
    }

    public static IEnumerable<Reference> References(string template) =>
        ReferencePattern().Matches(template).Select(m => new Reference(ParseKind(m.Groups[1].Value), m.Groups[2].Value));

    /// <summary>Splits into words, then replaces each reference through <paramref name="resolve"/>.</summary>
    public static IReadOnlyList<string> Expand(string template, Func<Reference, string> resolve) =>
        SplitWords(template)
            .Select(word => ReferencePattern().Replace(word, m => resolve(new Reference(ParseKind(m.Groups[1].Value), m.Groups[2].Value))))
            .ToList();

    public static IReadOnlyList<string> SplitWords(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < text.Length && text[i + 1] is '"' or '\\') current.Append(text[++i]);
                else current.Append(c);
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
            }
            else
            {
                inWord = true;
                if (c is '"' or '\'') quote = c;
                else if (c == '\\' && i + 1 < text.Length) current.Append(text[++i]);
                else current.Append(c);
            }
        }
        if (quote != '\0') throw new FormatException($"unterminated {quote} quote in '{text}'");
        if (inWord) words.Add(current.ToString());
        return words;
    }

    private static ReferenceKind ParseKind(string kind) => kind switch
    {
        "input" => ReferenceKind.Input,
        "output" => ReferenceKind.Output,
        _ => ReferenceKind.Param,
    };
}
