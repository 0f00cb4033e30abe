using System.Text;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Environments;

/// <summary>
/// An environment as it runs: an Environment item merged over the curated one it starts from. Its <see cref="Hash"/>
/// (of the definition, never of its name) tags its image and virtual environment and is part of every step fingerprint.
/// </summary>
public sealed record ResolvedEnvironment(
    string Name, string? BaseImage, IReadOnlyList<string> CondaPackages, IReadOnlyList<string> PipPackages,
    IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> DockerfileLines, bool UserManaged)
{
    public string Hash { get; } = ContentHash.OfFields(new Dictionary<string, string>
    {
        ["base"] = BaseImage ?? "",
        ["conda"] = string.Join('\n', CondaPackages),
        ["pip"] = string.Join('\n', PipPackages),
        ["variables"] = string.Join('\n', Variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}")),
        ["dockerfile"] = string.Join('\n', DockerfileLines),
        ["user-managed"] = UserManaged ? "1" : "0",
    });

    /// <summary>The image steps of this environment run in: the base image as is when user-managed, else one built from <see cref="Dockerfile"/>.</summary>
    public string? Image => UserManaged ? BaseImage : BaseImage is null ? null : $"pipelinesdk/{Tag(Name)}:{Hash[..16]}";

    /// <summary>What builds <see cref="Image"/>: the base, conda and pip packages, variables, the extra lines, and a label with the hash.</summary>
    public string Dockerfile()
    {
        var text = new StringBuilder($"FROM {BaseImage}\n");
        if (CondaPackages.Count > 0) text.Append($"RUN conda install -y {string.Join(' ', CondaPackages)} && conda clean -afy\n");
        if (PipPackages.Count > 0) text.Append($"RUN python3 -m pip install --no-cache-dir {string.Join(' ', PipPackages)}\n");
        foreach (var (name, value) in Variables.OrderBy(v => v.Key, StringComparer.Ordinal))
            text.Append($"ENV {name}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"\n");
        foreach (var line in DockerfileLines) text.Append(line).Append('\n');
        text.Append($"LABEL org.pipelinesdk.environment=\"{Name}\" org.pipelinesdk.environment-hash=\"{Hash}\"\n");
        return text.ToString();
    }

    /// <summary>The environment a step names: an Environment item (over its curated base), or a curated one; null when neither exists.</summary>
    public static ResolvedEnvironment? Resolve(string name, IReadOnlyList<StepEnvironment> declared)
    {
        var item = declared.FirstOrDefault(e => e.Name == name);
        var curatedName = item is null ? name : item.Curated;
        StepEnvironment? curated = null;
        if (curatedName is not null && !EnvironmentCatalog.Curated.TryGetValue(curatedName, out curated)) return null;
        if (item is null) return From(curated!, name);
        if (curated is null) return From(item, name);
        var addsPackages = item.CondaPackages.Count + item.PipPackages.Count + item.DockerfileLines.Count > 0;
        return new ResolvedEnvironment(
            name,
            item.BaseImage ?? curated.BaseImage,
            [.. curated.CondaPackages, .. item.CondaPackages],
            [.. curated.PipPackages, .. item.PipPackages],
            curated.Variables.Concat(item.Variables).GroupBy(v => v.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            [.. curated.DockerfileLines, .. item.DockerfileLines],
            item.UserManagedDependencies || (curated.UserManagedDependencies && !addsPackages));
    }

    private static ResolvedEnvironment From(StepEnvironment e, string name) =>
        new(name, e.BaseImage, e.CondaPackages, e.PipPackages, e.Variables, e.DockerfileLines, e.UserManagedDependencies);

    private static string Tag(string name) =>
        new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-').ToArray());
}
