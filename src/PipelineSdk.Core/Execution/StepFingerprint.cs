using PipelineSdk.Core.Environments;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Execution;

/// <summary>
/// A named set of files in a fingerprint (the step's snapshot, one input, the hashed paths). Its Merkle
/// hash is one field; the per-file hashes (the manifest) are kept apart, stored once per content, and
/// read only to say which file changed — so a step reading 10,000 files costs one field, not 10,000.
/// </summary>
public sealed record FileGroup(string Hash, IReadOnlyDictionary<string, string> Files)
{
    public static FileGroup Of(IReadOnlyDictionary<string, string> files) => new(ContentHash.OfFields(files), files);
}

/// <summary>
/// The named fields a step's fingerprint is made of (DESIGN.md §4), kept as fields rather than one
/// opaque hash so that a rerun can say which one changed. Never in it: display order, time, run ids,
/// output destinations, absolute paths.
/// </summary>
public sealed class StepFingerprint
{
    /// <summary>Bump to disown every cached result (a poisoned cache, a change in what fields mean).</summary>
    public const string FormatVersion = "2";

    private StepFingerprint(IReadOnlyDictionary<string, string> fields, IReadOnlyDictionary<string, FileGroup> groups, string? environmentName)
    {
        _environmentName = environmentName;
        Fields = fields;
        Groups = groups;
        Value = ContentHash.OfFields(fields);
    }

    private readonly string? _environmentName;

    public IReadOnlyDictionary<string, string> Fields { get; }
    /// <summary>Field name (<c>source</c>, <c>input:&lt;name&gt;</c>, <c>hashpaths</c>) → the files behind its hash.</summary>
    public IReadOnlyDictionary<string, FileGroup> Groups { get; }
    public string Value { get; }

    public static StepFingerprint Compute(
        Step step,
        FileGroup source,
        IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, FileGroup> inputs,
        FileGroup hashPaths,
        IEnumerable<string> outputs,
        string? stepLibrary,
        IReadOnlyDictionary<string, InputMode>? inputModes = null,
        ResolvedEnvironment? environment = null)
    {
        var f = new Dictionary<string, string>
        {
            ["format"] = FormatVersion,
            ["kind"] = step.Kind.ToString(),
            // Words, not raw text: re-spacing the arguments in the .mlproj is not a change.
            ["arguments"] = string.Join('\n', ArgumentTemplate.SplitWords(step.Arguments)),
            // The definition's hash, not the name or the compute target: the same environment on Local, Docker or Slurm reuses.
            ["environment"] = environment?.Hash ?? "",
        };
        var groups = new Dictionary<string, FileGroup> { ["source"] = source, ["hashpaths"] = hashPaths };
        if (step.ScriptName is not null) f["script"] = step.ScriptName.Replace('\\', '/');
        // The run-context library a Python step imports is part of what it runs, like its environment.
        if (step.Kind == StepKind.PythonScript && stepLibrary is not null) f["steplib"] = stepLibrary;
        if (step.Command is not null) f["command"] = string.Join('\n', ArgumentTemplate.SplitWords(step.Command));
        foreach (var (name, value) in parameters) f[$"param:{name}"] = value;
        foreach (var (input, files) in inputs) groups[$"input:{input}"] = files;
        foreach (var (name, group) in groups) f[name] = group.Hash;
        // A path, private copies or a bare URI are different things to run on.
        foreach (var (input, mode) in inputModes ?? new Dictionary<string, InputMode>())
            if (mode != InputMode.Mount) f[$"mode:{input}"] = mode.ToString();
        // The outputs' names, not their destinations: a result that never wrote an output cannot stand in for one that must.
        foreach (var output in outputs) f[$"output:{output}"] = "";
        return new StepFingerprint(f, groups, environment?.Name);
    }

    /// <summary>
    /// Every difference from an earlier fingerprint, most telling first, in plain words; a file group
    /// that changed is explained file by file when <paramref name="manifest"/> still knows its earlier files.
    /// </summary>
    public IReadOnlyList<string> Differences(
        IReadOnlyDictionary<string, string> earlier, Func<string, IReadOnlyDictionary<string, string>?> manifest, string? scriptName)
    {
        var changes = new List<(int Rank, string Text)>();
        foreach (var key in Fields.Keys.Union(earlier.Keys).Order(StringComparer.Ordinal))
        {
            Fields.TryGetValue(key, out var now);
            earlier.TryGetValue(key, out var before);
            if (now == before) continue;
            var what = now is null ? "removed" : before is null ? "added" : "changed";
            var (kind, rest) = key.IndexOf(':') is var i and > 0 ? (key[..i], key[(i + 1)..]) : (key, "");
            if (kind is "source" or "input" or "hashpaths")
            {
                var files = FileChanges(key, before, manifest).ToList();
                changes.AddRange(files.Count > 0
                    ? files.Select(c => Describe(kind, rest, c.Path, c.What, scriptName))
                    : [(7, kind == "input" ? $"input '{rest}' {what}" : $"{kind} {what}")]);
                continue;
            }
            changes.Add(kind switch
            {
                "format" => (0, $"fingerprint format {before} → {now}"),
                "kind" => (1, $"step kind {before} → {now}"),
                "script" => (2, $"script {before} → {now}"),
                "command" => (2, "command changed"),
                "arguments" => (5, "arguments changed"),
                "output" => (5, $"output '{rest}' {what}"),
                "param" => (6, what == "changed" ? $"parameter {rest} {before} → {now}" : $"parameter {rest} {what}"),
                "mode" => (7, $"input '{rest}' mode {before ?? "Mount"} → {now ?? "Mount"}"),
                "environment" => (9, _environmentName is null ? "environment removed" : before is "" ? $"environment {_environmentName} added" : $"environment {_environmentName} changed"),
                "steplib" => (9, "step library (pipelinesdk) changed"),
                _ => (10, $"{key} {what}"),
            });
        }
        return changes.OrderBy(c => c.Rank).Select(c => c.Text).ToList();
    }

    private IEnumerable<(string Path, string What)> FileChanges(string key, string? before, Func<string, IReadOnlyDictionary<string, string>?> manifest)
    {
        IReadOnlyDictionary<string, string> empty = new Dictionary<string, string>();
        var now = Groups.TryGetValue(key, out var group) ? group.Files : empty;
        var earlier = before is null ? empty : manifest(before);
        if (earlier is null) yield break; // the earlier files are not known: say the group changed
        foreach (var path in now.Keys.Union(earlier.Keys).Order(StringComparer.Ordinal))
        {
            now.TryGetValue(path, out var a);
            earlier.TryGetValue(path, out var b);
            if (a != b) yield return (path, a is null ? "removed" : b is null ? "added" : "changed");
        }
    }

    private static (int Rank, string Text) Describe(string kind, string input, string path, string what, string? scriptName) => kind switch
    {
        "source" when path == scriptName => (3, $"script {path} {what}"),
        "source" => (4, $"source file {path} {what}"),
        "input" => (7, $"input '{input}' file {path} {what}"),
        _ => (8, $"hashed path {path} {what}"),
    };
}
