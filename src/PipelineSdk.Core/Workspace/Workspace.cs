using System.Text.Json;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Workspace;

/// <summary>Raised when workspace.json cannot be used; the message says how to fix it.</summary>
public sealed class WorkspaceException(string message) : Exception(message);

/// <summary>
/// Where runs are recorded and data is kept. Like Azure ML's <c>Workspace.from_config()</c>, it is
/// found by walking up from the project for <c>workspace.json</c>; without one, a local workspace
/// folder beside the project is created on first use (it ignores itself for git).
/// </summary>
public sealed record PipelineWorkspace
{
    public const string ConfigFileName = "workspace.json";
    public const string DefaultFolderName = ".mlworkspace";

    private PipelineWorkspace(string name, string root)
    {
        Name = name;
        Root = root;
    }

    public string Name { get; }
    /// <summary>The folder holding the run history, the default datastore and snapshots.</summary>
    public string Root { get; }

    /// <summary>
    /// A blob container as the default datastore (workspace.json "defaultDatastore"): outputs without a datastore
    /// go there, and so does the reuse cache, shared by every machine whose workspace names the same container.
    /// </summary>
    public Datastore? SharedDatastore { get; private init; }

    public string DatabasePath => Path.Combine(Root, "runs.db");
    public string DefaultDatastoreRoot => Path.Combine(Root, "datastore");
    public string SnapshotsRoot => Path.Combine(Root, "snapshots");
    /// <summary>Each step run's std_log.txt is at <c>&lt;LogsRoot&gt;/&lt;step run id&gt;/</c>, from its first line on.</summary>
    public string LogsRoot => Path.Combine(DefaultDatastoreRoot, "logs");

    public string StepLogPath(string stepRunId) => Path.Combine(LogsRoot, stepRunId, "std_log.txt");

    /// <summary>The workspace a project in <paramref name="directory"/> would use, if it exists yet; never creates one (for readers such as the CLI).</summary>
    public static PipelineWorkspace? Find(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, ConfigFileName))) return FromConfig(Path.Combine(dir.FullName, ConfigFileName), create: false);
            if (File.Exists(Path.Combine(dir.FullName, DefaultFolderName, "runs.db")))
                return new PipelineWorkspace(dir.Name, Path.Combine(dir.FullName, DefaultFolderName));
        }
        return null;
    }

    /// <summary>A workspace folder itself (the one holding runs.db), wherever its workspace.json is; creates nothing.</summary>
    public static PipelineWorkspace Open(string root) => new(Path.GetFileName(Path.TrimEndingDirectorySeparator(root)), root);

    public static PipelineWorkspace Locate(string projectDirectory)
    {
        for (var dir = new DirectoryInfo(projectDirectory); dir is not null; dir = dir.Parent)
        {
            var config = Path.Combine(dir.FullName, ConfigFileName);
            if (File.Exists(config)) return FromConfig(config, create: true);
        }
        return Create(Path.GetFileName(projectDirectory.TrimEnd('/', '\\')), Path.Combine(projectDirectory, DefaultFolderName));
    }

    private static PipelineWorkspace FromConfig(string config, bool create)
    {
        string? name, folder;
        Datastore? shared = null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            name = doc.RootElement.TryGetProperty("name", out var n) ? n.GetString() : null;
            folder = doc.RootElement.TryGetProperty("path", out var p) ? p.GetString() : null;
            if (doc.RootElement.TryGetProperty("defaultDatastore", out var store))
            {
                var kind = store.TryGetProperty("kind", out var k) ? k.GetString() : null;
                if (!string.Equals(kind, Datastore.AzureBlobKind, StringComparison.OrdinalIgnoreCase) || !store.TryGetProperty("container", out var container))
                    throw new WorkspaceException($"{config}: defaultDatastore must be {{\"kind\": \"AzureBlob\", \"container\": \"name\", \"connectionStringVariable\": \"VARIABLE\"}} (leave it out for the local default).");
                shared = new Datastore(Datastore.DefaultName, Datastore.AzureBlobKind, "", new SourceLocation(config))
                {
                    Container = container.GetString(),
                    ConnectionVariable = store.TryGetProperty("connectionStringVariable", out var v) ? v.GetString() : null,
                };
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new WorkspaceException($"{config} is not valid: {e.Message}. Write it as {{\"name\": \"my-workspace\", \"path\": \".mlworkspace\"}}.");
        }
        var dir = Path.GetDirectoryName(config)!;
        var root = Path.GetFullPath(Path.Combine(dir, folder ?? DefaultFolderName));
        var workspace = create ? Create(name ?? Path.GetFileName(dir), root) : new PipelineWorkspace(name ?? Path.GetFileName(dir), root);
        return workspace with { SharedDatastore = shared };
    }

    private static PipelineWorkspace Create(string name, string root)
    {
        if (!Directory.Exists(root))
        {
            Directory.CreateDirectory(root);
            File.WriteAllText(Path.Combine(root, ".gitignore"), "# Created by PipelineSdk: the workspace is local state, not source.\n*\n");
        }
        return new PipelineWorkspace(name, root);
    }

    /// <summary>The folder behind a datastore name (the workspace default or a declared local one).</summary>
    public string DatastoreRoot(string? name, IEnumerable<Datastore> declared, string projectDirectory)
    {
        if (name is null or Datastore.DefaultName) return DefaultDatastoreRoot;
        return declared.First(d => d.Name == name).LocalRoot(projectDirectory);
    }
}
