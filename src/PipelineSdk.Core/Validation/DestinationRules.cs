using PipelineSdk.Core.FileSystem;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Validation;

/// <summary>
/// Where outputs may be written. An output's destination is emptied before an in-place (Mount) step writes it and
/// replaced when a step commits, so it may never be a datastore's root, the project folder or one above it, a
/// dataset's files, a step's source, the workspace, the engine's own folders, or overlap another output.
/// </summary>
internal static class DestinationRules
{
    /// <summary>First path parts the engine keeps for itself in every datastore, and in the workspace's default one.</summary>
    private static readonly string[] Reserved = [".cas", ".staging"];
    private static readonly string[] ReservedInDefault = ["logs", "artifacts", "cache"];

    /// <param name="producers">Output name → the step writing it: a <c>{run-id}</c> destination is distinct per step, not per output.</param>
    public static void Check(List<Diagnostic> d, Pipeline pipeline, IReadOnlyDictionary<string, string> producers, Func<SourceLocation?, SourceLocation> at)
    {
        // Resolved only for outputs on declared local datastores: most pipelines write to the workspace's own, and every build pays this.
        var project = new Lazy<string>(() => RealPath.Of(pipeline.ProjectDirectory));
        var workspaceRoot = new Lazy<string>(() => WorkspaceRoot(pipeline.ProjectDirectory));
        var claimed = new List<(StepOutput Output, string Store, string Path)>();
        foreach (var output in pipeline.Outputs)
        {
            // Reported already: no producer (PS0012), or a destination outside the datastore (PS0011).
            if (!producers.TryGetValue(output.Name, out var producer) || (output.Destination is { } written && PipelineValidator.PathEscapes(written))) continue;
            // Each step run's {run-id} differs from every other step's; two outputs of one step share it.
            var relative = Normalize(output.DestinationFor($"\u0001{producer}"));
            var store = output.DatastoreName;
            var datastore = pipeline.Datastores.FirstOrDefault(s => s.Name == store);
            string? Refuse(string why) => $"Output '{output.Name}' destination '{output.Destination ?? StepOutput.DefaultDestination}' {why}; a destination is emptied and replaced when its step runs. Give it a folder of its own, such as 'models/{{run-id}}'.";
            var problem = relative.Length == 0 ? Refuse($"is the root of datastore '{store}', which would lose everything in it")
                : Reserved.Concat(store == Datastore.DefaultName ? ReservedInDefault : []).FirstOrDefault(r => Overlaps(relative, r)) is { } reserved
                    ? Refuse($"is '{reserved}', which PipelineSdk keeps for itself in datastore '{store}'")
                : datastore is { IsBlob: false } local ? LocalProblem(pipeline, project.Value, workspaceRoot.Value, local.LocalRoot(pipeline.ProjectDirectory), relative, Refuse)
                : null;
            problem ??= DatasetOverlap(pipeline, store, relative, Refuse);
            if (problem is null && claimed.FirstOrDefault(c => c.Store == store && Overlaps(c.Path, relative)) is { Output: not null } other)
                problem = Refuse($"overlaps output '{other.Output.Name}' destination '{other.Output.Destination ?? StepOutput.DefaultDestination}' in datastore '{store}', so one would read or replace the other's files");
            if (problem is not null) d.Add(new(Codes.DestinationConflict, problem, at(output.Location)));
            claimed.Add((output, store, relative));
        }
    }

    /// <summary>A local datastore's folder: the destination must stay clear of the project, its sources and the workspace.</summary>
    private static string? LocalProblem(Pipeline pipeline, string project, string workspaceRoot, string root, string relative, Func<string, string?> refuse)
    {
        var full = RealPath.Of(Path.Combine(root, relative.Replace('\u0001', '_')));
        if (RealPath.IsWithin(project, full)) return refuse($"is the project folder '{pipeline.ProjectDirectory}' or a folder above it");
        if (Overlaps(full, workspaceRoot)) return refuse($"is in the workspace '{workspaceRoot}' or holds it");
        if (pipeline.Steps.FirstOrDefault(s => s.SourceDirectory is { } source && Overlaps(full, RealPath.Of(source))) is { } step)
            return refuse($"overlaps step '{step.Name}' SourceDirectory '{Path.GetRelativePath(pipeline.ProjectDirectory, step.SourceDirectory!)}'");
        foreach (var ds in pipeline.Datasets.Where(ds => ds.Path.Length > 0))
        {
            if (PipelineValidator.LocalRoot(pipeline, ds.Datastore) is not { } folder) continue; // blob: compared as prefixes
            var (datasetRoot, pattern) = Execution.DatasetFiles.SplitGlob(ds.Path);
            if (Conflicts(full, RealPath.Of(Path.Combine(folder, datasetRoot)), pattern))
                return refuse($"overlaps dataset '{ds.Name}' path '{ds.Path}'{(ds.Datastore is null ? " in the project folder" : $" in datastore '{ds.Datastore}'")}");
        }
        return null;
    }

    /// <summary>Blob datastores (and the workspace's default): destinations and dataset paths are prefixes in one container.</summary>
    private static string? DatasetOverlap(Pipeline pipeline, string store, string relative, Func<string, string?> refuse)
    {
        foreach (var ds in pipeline.Datasets.Where(ds => ds.Datastore == store && ds.Path.Length > 0))
        {
            var (datasetRoot, pattern) = Execution.DatasetFiles.SplitGlob(ds.Path);
            if (Conflicts(relative, Normalize(datasetRoot), pattern)) return refuse($"overlaps dataset '{ds.Name}' path '{ds.Path}' in datastore '{store}'");
        }
        return null;
    }

    /// <summary>
    /// An output conflicts with a dataset when writing it would delete the dataset's files (it is their folder or one
    /// above), or when the dataset would select the output's files (it lies below a folder or a recursive glob).
    /// </summary>
    private static bool Conflicts(string destination, string datasetRoot, string? pattern)
    {
        if (Overlaps(datasetRoot, destination) && !IsBelow(destination, datasetRoot)) return true;
        return IsBelow(destination, datasetRoot) && (pattern is null || pattern.Contains('/') || pattern.Contains("**"));
    }

    private static bool IsBelow(string path, string folder) => folder.Length == 0 ? path.Length > 0 : path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    private static string WorkspaceRoot(string projectDirectory)
    {
        try { return RealPath.Of(PipelineWorkspace.Find(projectDirectory)?.Root ?? Path.Combine(projectDirectory, PipelineWorkspace.DefaultFolderName)); }
        catch (WorkspaceException) { return RealPath.Of(Path.Combine(projectDirectory, PipelineWorkspace.DefaultFolderName)); } // reported when the workspace is located
    }

    /// <summary>'/'-separated, without '.', empty parts or a trailing separator; '..' is refused before (PS0011).</summary>
    private static string Normalize(string path) =>
        string.Join('/', path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."));

    /// <summary>The same place, or one inside the other.</summary>
    private static bool Overlaps(string a, string b) => a == b || IsBelow(a, b) || IsBelow(b, a);
}
