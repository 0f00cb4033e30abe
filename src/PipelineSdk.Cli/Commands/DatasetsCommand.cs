using System.CommandLine;
using PipelineSdk.Cli.Output;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Commands;

/// <summary><c>mlp datasets list</c> and <c>mlp datasets show</c>: the registered datasets of a workspace and their immutable versions.</summary>
internal static class DatasetsCommand
{
    public static Command Create(WorkspaceOption workspace)
    {
        var datasets = new Command("datasets", "List registered datasets, or show one version's files.");
        datasets.Subcommands.Add(List(workspace));
        datasets.Subcommands.Add(Show(workspace));
        return datasets;
    }

    private static Command List(WorkspaceOption workspace)
    {
        var json = RunsCommand.JsonOption();
        var list = new Command("list", "List registered datasets: latest version, how many versions, files and when registered.") { json };
        list.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            using var history = location.OpenHistory();
            var latest = (history?.DatasetVersions() ?? []).GroupBy(v => v.Name)
                .Select(g => (Latest: g.Last(), Versions: g.Count(), Files: history!.Manifest(g.Last().Hash)!)).ToList();
            if (parsed.GetValue(json))
            {
                Json.Write(latest.Select(d => new DatasetJson(d.Latest.Name, d.Latest.Version, d.Versions, d.Files.Count, d.Latest.Hash, d.Latest.Datastore, d.Latest.Source, d.Latest.Registered)).ToList());
                return ExitCodes.Success;
            }
            if (latest.Count == 0)
            {
                Console.Out.WriteLine($"No registered datasets in workspace {location.Root}.");
                return ExitCodes.Success;
            }
            var table = new TextTable("DATASET", "LATEST", "VERSIONS", "FILES", "REGISTERED", "FROM").RightAlign(1, 2, 3);
            foreach (var d in latest)
                table.Add(d.Latest.Name, d.Latest.Version.ToString(), d.Versions.ToString(), d.Files.Count.ToString(), Display.Time(d.Latest.Registered), d.Latest.Source);
            table.Write(Console.Out);
            return ExitCodes.Success;
        }));
        return list;
    }

    private static Command Show(WorkspaceOption workspace)
    {
        var name = new Argument<string>("dataset") { Description = "name (the latest version) or name:version" };
        var json = RunsCommand.JsonOption();
        var show = new Command("show", "Show one version of a registered dataset: where it came from and its files with their content hashes.") { name, json };
        show.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            var reference = parsed.GetValue(name)!;
            var parts = reference.Split(':');
            int? version = parts.Length == 2 && int.TryParse(parts[1], out var v) && v > 0 ? v
                : parts.Length == 1 ? null : throw new MlpException($"'{reference}' is not name or name:version", ExitCodes.Usage);
            using var history = location.OpenHistory();
            var found = history?.DatasetVersion(parts[0], version)
                ?? throw new MlpException($"no dataset '{reference}' in workspace {location.Root}", ExitCodes.Usage);
            var files = history.Manifest(found.Hash)!;
            var versions = history.DatasetVersions(found.Name).Select(x => x.Version).ToList();
            if (parsed.GetValue(json))
            {
                Json.Write(new DatasetVersionJson(found.Name, found.Version, versions, found.Hash, found.Datastore, found.Source, found.Registered,
                    files.Select(f => new DatasetFileJson(f.Key, f.Value)).ToList()));
                return ExitCodes.Success;
            }
            Console.Out.WriteLine($"Dataset:    {found.Name} version {found.Version} (versions: {string.Join(", ", versions)})");
            Console.Out.WriteLine($"Registered: {Display.Time(found.Registered)} from {found.Source}");
            Console.Out.WriteLine($"Datastore:  {found.Datastore}");
            Console.Out.WriteLine($"Content:    {found.Hash}");
            Console.Out.WriteLine();
            var table = new TextTable("FILE", "HASH");
            foreach (var (file, hash) in files.OrderBy(f => f.Key, StringComparer.Ordinal)) table.Add(file, hash);
            table.Write(Console.Out);
            return ExitCodes.Success;
        }));
        return show;
    }
}
