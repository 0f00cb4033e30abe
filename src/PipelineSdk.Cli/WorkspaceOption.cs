using System.CommandLine;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli;

/// <summary>
/// A workspace as the CLI reads it. The database may not exist yet (a workspace.json whose pipelines
/// never ran); readers then see no runs and create nothing.
/// </summary>
internal sealed record WorkspaceLocation(PipelineWorkspace Workspace)
{
    public string Root => Workspace.Root;

    /// <summary>
    /// The run history, or null when nothing was ever recorded here (RunHistory.Open would create the database). Read-only
    /// when the workspace cannot be written, unless <paramref name="toWrite"/>.
    /// </summary>
    public RunHistory? OpenHistory(bool toWrite = false)
    {
        if (!File.Exists(Workspace.DatabasePath)) return null;
        try { return RunHistory.Open(Workspace.DatabasePath, readOnlyFallback: !toWrite); }
        catch (RunHistoryException e) { throw new MlpException(e.Message); }
    }

    public MlpException UnknownRun(string id) => new($"no run '{id}' in workspace {Root}", ExitCodes.Usage);
}

/// <summary><c>--workspace PATH</c>, on every command that reads the run history; without it, the workspace of the current folder.</summary>
internal sealed class WorkspaceOption
{
    public Option<string?> Option { get; } = new("--workspace", "-w")
    {
        Description = "The workspace to read: a workspace folder, a folder with workspace.json or .mlworkspace, or a project folder below one. Default: found from the current folder up.",
        HelpName = "PATH",
        Recursive = true,
    };

    public WorkspaceLocation Resolve(ParseResult parsed) => Resolve(parsed.GetValue(Option), Environment.CurrentDirectory);

    public static WorkspaceLocation Resolve(string? path, string currentDirectory)
    {
        try
        {
            if (path is null)
                return PipelineWorkspace.Find(currentDirectory) is { } found
                    ? new WorkspaceLocation(found)
                    : throw new MlpException($"no PipelineSdk workspace here or above {currentDirectory}; build a pipeline first or pass --workspace", ExitCodes.Usage);

            var full = System.IO.Path.GetFullPath(path, currentDirectory);
            // A file names its folder: workspace.json, a .mlproj, runs.db.
            var folder = File.Exists(full) ? System.IO.Path.GetDirectoryName(full)! : full;
            if (!Directory.Exists(folder)) throw new MlpException($"workspace path '{path}' does not exist", ExitCodes.Usage);
            if (File.Exists(System.IO.Path.Combine(folder, "runs.db"))) return new WorkspaceLocation(PipelineWorkspace.Open(folder));
            return PipelineWorkspace.Find(folder) is { } workspace
                ? new WorkspaceLocation(workspace)
                : throw new MlpException($"no PipelineSdk workspace at or above {folder}; build a pipeline first or pass another --workspace", ExitCodes.Usage);
        }
        catch (WorkspaceException e)
        {
            throw new MlpException(e.Message, ExitCodes.Usage);
        }
    }
}
