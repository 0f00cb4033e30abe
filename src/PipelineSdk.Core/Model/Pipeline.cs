namespace PipelineSdk.Core.Model;

/// <summary>Where a declaration came from, so errors can point at the .mlproj line.</summary>
public sealed record SourceLocation(string File, int Line = 0, int Column = 0)
{
    public override string ToString() => Line > 0 ? $"{File}({Line},{Column})" : File;
}

public enum StepKind { PythonScript, Command, DataTransfer }

/// <summary>Delimited text files (CSV, TSV) read as rows: Azure ML's Dataset.Tabular.from_delimited_files.</summary>
public sealed record TabularFormat(char Delimiter, bool Header, string Encoding);

/// <summary>
/// Download: private copies in the step's working area. Mount: read-only access in place (a local folder as is,
/// other files as links; blob files through the content-keyed local cache, not a FUSE mount). Direct: only the
/// location (a local path, or the blob URI without credentials); the step reads it itself.
/// </summary>
public enum InputMode { Mount, Download, Direct }

public sealed record Step
{
    public required string Name { get; init; }
    public required StepKind Kind { get; init; }
    /// <summary>Absolute path of the folder that is snapshotted and becomes the working directory; null: an empty one.</summary>
    public string? SourceDirectory { get; init; }
    /// <summary>Script relative to <see cref="SourceDirectory"/> (PythonScriptStep).</summary>
    public string? ScriptName { get; init; }
    /// <summary>Command line template (CommandStep).</summary>
    public string? Command { get; init; }
    /// <summary>Argument template; <c>{input:x}</c>, <c>{output:x}</c> and <c>{param:x}</c> are references.</summary>
    public string Arguments { get; init; } = "";
    /// <summary>Inputs declared besides those referenced in the arguments.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];
    /// <summary>Outputs declared besides those referenced in the arguments.</summary>
    public IReadOnlyList<string> Outputs { get; init; } = [];
    /// <summary>Parameters declared besides those referenced in the arguments (exposed as environment variables).</summary>
    public IReadOnlyList<string> Parameters { get; init; } = [];
    public IReadOnlyList<string> RunAfter { get; init; } = [];
    /// <summary>Extra files or globs, relative to the project, whose content counts in the fingerprint.</summary>
    public IReadOnlyList<string> HashPaths { get; init; } = [];
    public bool AllowReuse { get; init; } = true;
    public string Compute { get; init; } = ComputeTarget.LocalName;
    /// <summary>An <see cref="StepEnvironment"/> item's name or a curated environment's; empty: the compute target's own interpreter.</summary>
    public string Environment { get; init; } = "";
    /// <summary>What the step asks of its compute target; unset values come from the target's defaults.</summary>
    public StepResources Resources { get; init; } = new();
    public SourceLocation? Location { get; init; }
}

/// <summary>
/// What a step asks for where it runs: CPUs, memory (Slurm's syntax: a number with K, M, G or T, M if none), GPUs (a
/// count, or Slurm gres such as <c>gpu:a100:2</c>) and a time limit (minutes, <c>hh:mm:ss</c> or <c>d-hh:mm:ss</c>).
/// </summary>
public sealed record StepResources(double? Cpus = null, string? Memory = null, string? Gpus = null, string? TimeLimit = null)
{
    /// <summary>These values, each unset one taken from <paramref name="defaults"/>.</summary>
    public StepResources Over(StepResources defaults) =>
        new(Cpus ?? defaults.Cpus, Memory ?? defaults.Memory, Gpus ?? defaults.Gpus, TimeLimit ?? defaults.TimeLimit);
}

/// <summary>
/// Azure ML's Environment: a curated one by name, or a base image with conda and pip packages, variables and extra
/// Dockerfile lines, or UserManagedDependencies (the image, or the local interpreter, as is).
/// </summary>
public sealed record StepEnvironment(string Name, SourceLocation? Location = null)
{
    /// <summary>A catalogue entry this environment starts from (EnvironmentCatalog).</summary>
    public string? Curated { get; init; }
    public string? BaseImage { get; init; }
    public IReadOnlyList<string> CondaPackages { get; init; } = [];
    public IReadOnlyList<string> PipPackages { get; init; } = [];
    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> DockerfileLines { get; init; } = [];
    public bool UserManagedDependencies { get; init; }
}

/// <summary>
/// Files selected by a glob from a datastore or, without one, from the project folder; or a version of a
/// registered dataset (<see cref="Registered"/>).
/// </summary>
public sealed record FileDataset(string Name, string Path, string? Datastore = null, SourceLocation? Location = null)
{
    /// <summary>A registered dataset to read instead of <see cref="Path"/>: <c>name</c> (its latest version) or <c>name:3</c>.</summary>
    public string? Registered { get; init; }

    /// <summary>Register the files at <see cref="Path"/> as a new version of the dataset named like this item whenever their content changes.</summary>
    public bool Register { get; init; }

    /// <summary>How a step gets the files (Azure ML's as_download / as_mount / direct).</summary>
    public InputMode Mode { get; init; } = InputMode.Mount;

    /// <summary>Set for a TabularDataset: how its delimited files read; the schema is inferred when a step uses it.</summary>
    public TabularFormat? Tabular { get; init; }

    /// <summary>The registered name and version (null: the latest) that <see cref="Registered"/> names, or null when it cannot be read.</summary>
    public (string Name, int? Version)? RegisteredReference => Registered?.Split(':') switch
    {
        [var name] when name.Length > 0 => (name, null),
        [var name, var v] when name.Length > 0 && int.TryParse(v, out var version) && version > 0 => (name, version),
        _ => null,
    };
}

/// <summary>
/// A folder a step writes. <see cref="Destination"/> is a datastore-relative template that may use
/// <c>{run-id}</c> (the producing step run) and <c>{output-name}</c>.
/// </summary>
/// <summary>
/// Upload: the step writes a staging folder, committed to the destination (renamed, or uploaded) only when it succeeds.
/// Mount: the step writes the destination as it goes (a local datastore's folder itself; for blob, files uploaded as
/// they are finished), so partial results can be watched; a failed step's output is still removed.
/// </summary>
public enum OutputMode { Upload, Mount }

public sealed record StepOutput(string Name, string? Datastore = null, string? Destination = null, SourceLocation? Location = null)
{
    public OutputMode Mode { get; init; } = OutputMode.Upload;

    /// <summary>The datastore-relative folder a step run writes this output to.</summary>
    public string DestinationFor(string stepRunId) =>
        (Destination ?? DefaultDestination).Replace("{run-id}", stepRunId).Replace("{output-name}", Name).Trim('/');

    /// <summary>Register each committed version of this output as a dataset of this name (Azure ML's register_on_complete); never from a failed step.</summary>
    public string? RegisterAs { get; init; }

    public const string DefaultDestination = "outputs/{run-id}/{output-name}";

    /// <summary>The datastore it is written to: the declared one, else the workspace default.</summary>
    public string DatastoreName => Datastore ?? Model.Datastore.DefaultName;
}

public sealed record PipelineParameter(string Name, string DefaultValue, SourceLocation? Location = null);

public enum ComputeKind { Local, Docker, Slurm }

public sealed record ComputeTarget(string Name, ComputeKind Kind, int MaxNodes, SourceLocation? Location = null)
{
    public const string LocalName = "local";

    /// <summary>Resources every step on this target gets unless it asks for its own.</summary>
    public StepResources Defaults { get; init; } = new();

    /// <summary>The Docker engine (<c>unix:///path</c>, <c>tcp://host:2376</c>); null: DOCKER_HOST, else the local socket. For Slurm, the engine of container steps on the nodes.</summary>
    public string? DockerEndpoint { get; init; }

    /// <summary>A folder with ca.pem, cert.pem and key.pem for a TLS engine (DOCKER_CERT_PATH's layout).</summary>
    public string? DockerCertificates { get; init; }

    /// <summary>The containers' network mode (none, host, bridge, a network's name); null: the engine's default.</summary>
    public string? Network { get; init; }

    /// <summary>Slurm partition (AmlCompute's vm_size); null: the cluster's default.</summary>
    public string? Partition { get; init; }

    /// <summary>slurmrestd's base address; null: the sbatch/squeue/scancel commands of this machine.</summary>
    public string? RestEndpoint { get; init; }

    /// <summary>The user the REST token was issued for.</summary>
    public string? UserName { get; init; }

    /// <summary>The environment variable holding the REST token (default SLURM_JWT); the token itself never appears in the project.</summary>
    public string? TokenVariable { get; init; }

    /// <summary>A file holding the REST token, read at submission.</summary>
    public string? TokenFile { get; init; }
}

public sealed record Datastore(string Name, string Kind, string Path, SourceLocation? Location = null)
{
    public const string DefaultName = "workspacestore";
    public const string LocalKind = "Local";
    public const string AzureBlobKind = "AzureBlob";

    public bool IsBlob => string.Equals(Kind, AzureBlobKind, StringComparison.OrdinalIgnoreCase);

    /// <summary>A local datastore's folder: its Path, relative to the project's folder.</summary>
    public string LocalRoot(string projectDirectory) => System.IO.Path.GetFullPath(System.IO.Path.Combine(projectDirectory, Path));

    /// <summary>The blob container (Kind="AzureBlob").</summary>
    public string? Container { get; init; }

    /// <summary>The environment variable holding the connection string (Kind="AzureBlob"); a secret never appears in the project.</summary>
    public string? ConnectionVariable { get; init; }

    /// <summary>Set when the project wrote a secret into the datastore item, which validation refuses.</summary>
    public bool HasInlineSecret { get; init; }
}

/// <summary>A whole .mlproj turned into the engine's terms.</summary>
public sealed record Pipeline
{
    public required string ExperimentName { get; init; }
    public required string ProjectFile { get; init; }
    public string ProjectDirectory => System.IO.Path.GetDirectoryName(ProjectFile)!;
    public IReadOnlyList<Step> Steps { get; init; } = [];
    public IReadOnlyList<FileDataset> Datasets { get; init; } = [];
    public IReadOnlyList<StepOutput> Outputs { get; init; } = [];
    public IReadOnlyList<PipelineParameter> Parameters { get; init; } = [];
    public IReadOnlyList<ComputeTarget> ComputeTargets { get; init; } = [];

    /// <summary>The declared target of that name (names are case-insensitive, as MSBuild's are); null for <c>local</c> or an undeclared one.</summary>
    public ComputeTarget? FindComputeTarget(string name) =>
        ComputeTargets.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
    public IReadOnlyList<Datastore> Datastores { get; init; } = [];
    public IReadOnlyList<StepEnvironment> Environments { get; init; } = [];
    /// <summary>Symbolic links in sources, scripts, datasets and HashPaths may lead out of the project folder (<c>AllowLinksOutsideProject</c>); by default they are refused (PS0011).</summary>
    public bool AllowLinksOutsideProject { get; init; }
    /// <summary>Values given at submission (<c>-p:name=value</c>); they win over defaults.</summary>
    public IReadOnlyDictionary<string, string> ParameterValues { get; init; } = new Dictionary<string, string>();
}
