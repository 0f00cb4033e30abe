using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Execution;

/// <summary>
/// The named fields a step's fingerprint is made of (DESIGN.md §4), kept as fields rather than one
/// opaque hash so that a rerun can say which one changed. Never in it: display order, time, run ids,
/// output destinations, absolute paths.
/// </summary>
public sealed class StepFingerprint
{
    /// <summary>Bump to disown every cached result (a poisoned cache, a change in what fields mean).</summary>
    public const string FormatVersion = "1";

    public StepFingerprint(IReadOnlyDictionary<string, string> fields)
    {
        Fields = fields;
        Value = ContentHash.OfFields(fields);
    }

    public IReadOnlyDictionary<string, string> Fields { get; }
    public string Value { get; }

    public static StepFingerprint Compute(
        Step step,
        IReadOnlyDictionary<string, string> sourceFiles,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> inputFiles,
        IReadOnlyDictionary<string, string> hashPathFiles,
        IEnumerable<string> outputs,
        string? stepLibrary = null)
    {
        var f = new Dictionary<string, string>
        {
            ["format"] = FormatVersion,
            ["kind"] = step.Kind.ToString(),
            // Words, not raw text: re-spacing the arguments in the .mlproj is not a change.
            ["arguments"] = string.Join('\n', ArgumentTemplate.SplitWords(step.Arguments)),
            ["environment"] = step.Environment,
        };
        if (step.ScriptName is not null) f["script"] = step.ScriptName.Replace('\\', '/');
        // The run-context library a Python step imports is part of what it runs, like its environment.
        if (step.Kind == StepKind.PythonScript && stepLibrary is not null) f["steplib"] = stepLibrary;
        if (step.Command is not null) f["command"] = string.Join('\n', ArgumentTemplate.SplitWords(step.Command));
        foreach (var (path, hash) in sourceFiles) f[$"source:{path}"] = hash;
        foreach (var (name, value) in parameters) f[$"param:{name}"] = value;
        foreach (var (input, files) in inputFiles)
        {
            f[$"input:{input}"] = ContentHash.OfFields(files);
            foreach (var (path, hash) in files) f[$"input:{input}:{path}"] = hash;
        }
        foreach (var (path, hash) in hashPathFiles) f[$"hashpath:{path}"] = hash;
        // The outputs' names, not their destinations: a result that never wrote an output cannot stand in for one that must.
        foreach (var output in outputs) f[$"output:{output}"] = "";
        return new StepFingerprint(f);
    }

    /// <summary>Every field that differs from an earlier fingerprint, most telling first, in plain words.</summary>
    public IReadOnlyList<string> Differences(IReadOnlyDictionary<string, string> earlier, string? scriptName)
    {
        var changes = new List<(int Rank, string Text)>();
        foreach (var key in Fields.Keys.Union(earlier.Keys).Order(StringComparer.Ordinal))
        {
            Fields.TryGetValue(key, out var now);
            earlier.TryGetValue(key, out var before);
            if (now == before) continue;
            var what = now is null ? "removed" : before is null ? "added" : "changed";
            var (kind, rest) = key.IndexOf(':') is var i and > 0 ? (key[..i], key[(i + 1)..]) : (key, "");
            // The per-input summary field only repeats its per-file fields.
            if (kind == "input" && !rest.Contains(':')) continue;
            changes.Add(kind switch
            {
                "format" => (0, $"fingerprint format {before} → {now}"),
                "kind" => (1, $"step kind {before} → {now}"),
                "script" => (2, $"script {before} → {now}"),
                "command" => (2, "command changed"),
                "source" when rest == scriptName => (3, $"script {rest} {what}"),
                "source" => (4, $"source file {rest} {what}"),
                "arguments" => (5, "arguments changed"),
                "param" => (6, what == "changed" ? $"parameter {rest} {before} → {now}" : $"parameter {rest} {what}"),
                "input" => (7, $"input '{rest[..rest.IndexOf(':')]}' file {rest[(rest.IndexOf(':') + 1)..]} {what}"),
                "hashpath" => (8, $"hashed path {rest} {what}"),
                "output" => (5, $"output '{rest}' {what}"),
                "environment" => (9, $"environment '{before}' → '{now}'"),
                "steplib" => (9, "step library (pipelinesdk) changed"),
                _ => (10, $"{key} {what}"),
            });
        }
        return changes.OrderBy(c => c.Rank).Select(c => c.Text).ToList();
    }
}
