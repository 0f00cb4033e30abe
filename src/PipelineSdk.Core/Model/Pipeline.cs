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
    public string Environment { get; init; } = "";
    public SourceLocation? Location { get; init; }
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
public sealed record StepOutput(string Name, string? Datastore = null, string? Destination = null, SourceLocation? Location = null)
{
    /// <summary>Register each committed version of this output as a dataset of this name (Azure ML's register_on_complete); never from a failed step.</summary>
    public string? RegisterAs { get; init; }

    public const string DefaultDestination = "outputs/{run-id}/{output-name}";

    /// <summary>The datastore it is written to: the declared one, else the workspace default.</summary>
    public string DatastoreName => Datastore ?? Model.Datastore.DefaultName;
}

public sealed record PipelineParameter(string Name, string DefaultValue, SourceLocation? Location = null);

public sealed record ComputeTarget(string Name, string Kind, int MaxNodes, SourceLocation? Location = null)
{
    public const string LocalName = "local";
}

public sealed record Datastore(string Name, string Kind, string Path, SourceLocation? Location = null)
{
    public const string DefaultName = "workspacestore";
    public const string LocalKind = "Local";
    public const string AzureBlobKind = "AzureBlob";

    public bool IsBlob => string.Equals(Kind, AzureBlobKind, StringComparison.OrdinalIgnoreCase);

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
    public IReadOnlyList<Datastore> Datastores { get; init; } = [];
    /// <summary>Values given at submission (<c>-p:name=value</c>); they win over defaults.</summary>
    public IReadOnlyDictionary<string, string> ParameterValues { get; init; } = new Dictionary<string, string>();
}
