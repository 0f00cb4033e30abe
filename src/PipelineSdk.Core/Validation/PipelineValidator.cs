using PipelineSdk.Core.Environments;
using PipelineSdk.Core.FileSystem;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Validation;

/// <summary>
/// Checks a pipeline before anything runs and turns it into a <see cref="PipelineGraph"/>.
/// Every finding is collected, so one build reports every mistake in the project at once.
/// </summary>
public static class PipelineValidator
{
    public static (PipelineGraph? Graph, IReadOnlyList<Diagnostic> Diagnostics) Validate(Pipeline pipeline)
    {
        var d = new List<Diagnostic>();
        var project = pipeline.ProjectFile;
        SourceLocation At(SourceLocation? l) => l ?? new SourceLocation(project);

        if (pipeline.Steps.Count == 0)
            d.Add(new(Codes.EmptyPipeline, "The pipeline has no steps. Add a <PythonScriptStep> or <CommandStep> item.", At(null)));

        CheckNames(d, pipeline, At);
        CheckUnique(d, pipeline.Steps.Select(s => new Declared(s.Name, s.Location, "step")), At);
        CheckUnique(d,
            pipeline.Datasets.Select(x => new Declared(x.Name, x.Location, "dataset"))
                .Concat(pipeline.Outputs.Select(x => new Declared(x.Name, x.Location, "output"))),
            At);
        CheckUnique(d, pipeline.Parameters.Select(p => new Declared(p.Name, p.Location, "parameter")), At);
        CheckUnique(d, pipeline.ComputeTargets.Select(c => new Declared(c.Name, c.Location, "compute target")), At);
        CheckUnique(d, pipeline.Datastores.Select(c => new Declared(c.Name, c.Location, "datastore")), At);
        CheckUnique(d, pipeline.Environments.Select(e => new Declared(e.Name, e.Location, "environment")), At);

        var stepNames = pipeline.Steps.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var datasets = pipeline.Datasets.GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First());
        var outputs = pipeline.Outputs.GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First());
        var parameters = pipeline.Parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var computes = pipeline.ComputeTargets.Select(c => c.Name).Append(ComputeTarget.LocalName).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var datastores = pipeline.Datastores.Select(c => c.Name).Append(Datastore.DefaultName).ToHashSet(StringComparer.Ordinal);

        foreach (var e in pipeline.Environments)
        {
            if (e.Curated is { } curated && !EnvironmentCatalog.Curated.ContainsKey(curated))
                d.Add(new(Codes.UnknownEnvironment, $"Environment '{e.Name}' starts from curated environment '{curated}', which the catalogue does not have ({string.Join(", ", EnvironmentCatalog.Curated.Keys)}). Fix the name or set BaseImage instead.", At(e.Location)));
            if (e.UserManagedDependencies && e.CondaPackages.Count + e.PipPackages.Count > 0)
                d.Add(new(Codes.InvalidMetadata, $"Environment '{e.Name}' is UserManagedDependencies=\"true\" and lists packages, which would never be installed. Remove the packages, or UserManagedDependencies to have them installed.", At(e.Location)));
            foreach (var variable in e.Variables.Keys.Where(IsEngineVariable))
                d.Add(new(Codes.InvalidMetadata, $"Environment '{e.Name}' sets variable {variable}, which PipelineSdk sets for every step (the step protocol, the interpreter's path); a value here would silently break it. Remove it, or use a name of your own.", At(e.Location)));
            if (e.CondaPackages.Count > 0 && e.BaseImage is null && e.Curated is null)
                d.Add(new(Codes.EnvironmentNeedsImage, $"Environment '{e.Name}' lists conda packages but no BaseImage; conda environments are built into an image. Set BaseImage to an image with conda (such as continuumio/miniconda3).", At(e.Location)));
        }
        foreach (var c in pipeline.ComputeTargets)
        {
            if (c.MaxNodes < 1)
                d.Add(new(Codes.InvalidMetadata, $"Compute target '{c.Name}' has MaxNodes={c.MaxNodes}; set a whole number of 1 or more.", At(c.Location)));
        }
        foreach (var s in pipeline.Datastores)
        {
            if (s.HasInlineSecret)
                d.Add(new(Codes.InvalidMetadata, $"Datastore '{s.Name}' carries a secret in the project, where logs, binlogs and source control would keep it. Put the connection string in an environment variable and name it: ConnectionStringVariable=\"MY_STORAGE\".", At(s.Location)));
            else if (s.IsBlob && string.IsNullOrWhiteSpace(s.Container))
                d.Add(new(Codes.InvalidMetadata, $"Datastore '{s.Name}' is AzureBlob without a Container. Set Container=\"name\".", At(s.Location)));
            else if (!s.IsBlob && !string.Equals(s.Kind, Datastore.LocalKind, StringComparison.OrdinalIgnoreCase))
                d.Add(new(Codes.InvalidMetadata, $"Datastore '{s.Name}' has Kind '{s.Kind}'; use Kind=\"Local\" or Kind=\"AzureBlob\".", At(s.Location)));
        }
        foreach (var ds in pipeline.Datasets)
        {
            if (ds.Datastore is { } store && !datastores.Contains(store))
                d.Add(new(Codes.UnknownDatastore, $"Dataset '{ds.Name}' names datastore '{store}', which is not declared. Declare it with <Datastore Include=\"{store}\" .../> or remove Datastore.", At(ds.Location)));
            if (ds.Registered is not null)
            {
                if (ds.Path.Length > 0 || ds.Register)
                    d.Add(new(Codes.InvalidMetadata, $"Dataset '{ds.Name}' names registered dataset '{ds.Registered}' and also Path or Register. A dataset either reads a registered version (Dataset) or files (Path, optionally Register=\"true\").", At(ds.Location)));
                else if (ds.RegisteredReference is null)
                    d.Add(new(Codes.InvalidMetadata, $"Dataset '{ds.Name}' has Dataset='{ds.Registered}'; write a registered name, or name:version with a version of 1 or more.", At(ds.Location)));
                continue;
            }
            if (ds.Path.Length == 0)
                d.Add(new(Codes.InvalidMetadata, $"Dataset '{ds.Name}' has neither Path nor Dataset. Set Path=\"data/*.csv\" (files) or Dataset=\"name:version\" (a registered dataset).", At(ds.Location)));
            else if (PathEscapes(ds.Path))
                d.Add(new(Codes.PathEscapes, $"Dataset '{ds.Name}' path '{ds.Path}' leaves its root with '..' or an absolute path. Use a path inside the {(ds.Datastore is null ? "project folder" : "datastore")}.", At(ds.Location)));
            else if (!pipeline.AllowLinksOutsideProject && LocalRoot(pipeline, ds.Datastore) is { } root
                     && Path.Combine(root, Execution.DatasetFiles.SplitGlob(ds.Path).Base) is var folder && !RealPath.IsWithin(folder, root))
                d.Add(new(Codes.PathEscapes, $"Dataset '{ds.Name}' path '{ds.Path}' goes through a symbolic link to '{RealPath.Of(folder)}', outside the {(ds.Datastore is null ? "project folder" : $"datastore '{ds.Datastore}'")}. Point Path at the data itself (or declare a Datastore for that folder), or allow links out of the project with <AllowLinksOutsideProject>true</AllowLinksOutsideProject>.", At(ds.Location)));
        }
        foreach (var o in pipeline.Outputs)
        {
            if (o.Datastore is { } store && !datastores.Contains(store))
                d.Add(new(Codes.UnknownDatastore, $"Output '{o.Name}' names datastore '{store}', which is not declared. Declare it with <Datastore Include=\"{store}\" .../> or remove Datastore.", At(o.Location)));
            if (o.Destination is { } dest && (PathEscapes(dest) || string.IsNullOrWhiteSpace(dest)))
                d.Add(new(Codes.PathEscapes, $"Output '{o.Name}' destination '{dest}' leaves the datastore with '..' or an absolute path. Use a relative path such as 'models/{{run-id}}'.", At(o.Location)));
        }

        var producers = new Dictionary<string, List<Step>>(StringComparer.Ordinal);
        var nodes = new List<StepNode>();
        foreach (var step in pipeline.Steps)
        {
            var at = At(step.Location);
            var references = new List<Reference>();
            try
            {
                references.AddRange(ArgumentTemplate.References(step.Arguments));
                ArgumentTemplate.SplitWords(step.Arguments);
                if (step.Command is not null)
                {
                    references.AddRange(ArgumentTemplate.References(step.Command));
                    ArgumentTemplate.SplitWords(step.Command);
                }
            }
            catch (FormatException e)
            {
                d.Add(new(Codes.InvalidMetadata, $"Step '{step.Name}': {e.Message}. Close the quote.", at));
            }
            foreach (var bad in ArgumentTemplate.Malformed(step.Arguments).Concat(step.Command is null ? [] : ArgumentTemplate.Malformed(step.Command)))
                d.Add(new(Codes.MalformedReference, $"Step '{step.Name}' has '{bad}', which is not a reference and would reach the step as text. Write {{input:name}}, {{output:name}} or {{param:name}}: lower case, no spaces, a declared name, closed with '}}'.", at));
            foreach (var pattern in step.HashPaths)
            {
                if (PathEscapes(pattern))
                    d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' HashPaths '{pattern}' leaves the project folder with '..' or an absolute path. Name files inside the project folder.", at));
                else if (!pipeline.AllowLinksOutsideProject && Execution.DatasetFiles.Resolve(pipeline.ProjectDirectory, pattern) is var selected
                         && selected.RelativePaths.Select(f => Path.Combine(selected.BaseDirectory, f)).FirstOrDefault(f => !RealPath.IsWithin(f, pipeline.ProjectDirectory)) is { } outside)
                    d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' HashPaths '{pattern}' selects '{Path.GetRelativePath(pipeline.ProjectDirectory, outside)}', a symbolic link to '{RealPath.Of(outside)}' outside the project folder. Name files inside the project, or allow links out of it with <AllowLinksOutsideProject>true</AllowLinksOutsideProject>.", at));
            }
            var inputs = Distinct(step.Inputs.Concat(references.Where(r => r.Kind == ReferenceKind.Input).Select(r => r.Name)));
            var outs = Distinct(step.Outputs.Concat(references.Where(r => r.Kind == ReferenceKind.Output).Select(r => r.Name)));
            var pars = Distinct(step.Parameters.Concat(references.Where(r => r.Kind == ReferenceKind.Param).Select(r => r.Name)));

            foreach (var i in inputs.Where(i => !datasets.ContainsKey(i) && !outputs.ContainsKey(i)))
                d.Add(new(Codes.UnknownInput, $"Step '{step.Name}' reads input '{i}', which is neither a <FileDataset> nor a <StepOutput>. Declare it or fix the name.", at));
            foreach (var o in outs)
            {
                if (!outputs.ContainsKey(o))
                    d.Add(new(Codes.UnknownOutput, $"Step '{step.Name}' writes output '{o}', which is not declared. Add <StepOutput Include=\"{o}\" />.", at));
                else (producers.TryGetValue(o, out var list) ? list : producers[o] = []).Add(step);
            }
            foreach (var p in pars.Where(p => !parameters.Contains(p)))
                d.Add(new(Codes.UnknownParameter, $"Step '{step.Name}' uses parameter '{p}', which is not declared. Add <PipelineParameter Include=\"{p}\" Default=\"...\" />.", at));
            foreach (var r in step.RunAfter.Where(r => !stepNames.Contains(r)))
                d.Add(new(Codes.UnknownStep, $"Step '{step.Name}' runs after '{r}', which is not a step of this pipeline. Fix the name in RunAfter.", at));
            if (!computes.Contains(step.Compute))
                d.Add(new(Codes.UnknownCompute, $"Step '{step.Name}' runs on compute target '{step.Compute}', which is not declared. Add <ComputeTarget Include=\"{step.Compute}\" Kind=\"Local\" /> or use 'local'.", at));
            CheckEnvironment(d, pipeline, step, at);

            CheckSource(d, pipeline, step, at);
            nodes.Add(new StepNode(step, inputs, outs, pars));
        }

        foreach (var o in pipeline.Outputs)
        {
            producers.TryGetValue(o.Name, out var list);
            if (list is null)
                d.Add(new(Codes.OutputProducers, $"Output '{o.Name}' is written by no step. Reference it as {{output:{o.Name}}} in one step's Arguments, or remove it.", At(o.Location)));
            else if (list.Count > 1)
                d.Add(new(Codes.OutputProducers, $"Output '{o.Name}' is written by steps {string.Join(", ", list.Select(s => $"'{s.Name}'"))}; an output has exactly one producer. Give each step its own output.", At(o.Location)));
        }

        DestinationRules.Check(d, pipeline, producers.Where(p => p.Value.Count == 1).ToDictionary(p => p.Key, p => p.Value[0].Name), At);
        if (d.Any(x => !x.IsWarning)) return (null, d);

        var graph = new PipelineGraph(pipeline, nodes, producers.ToDictionary(p => p.Key, p => p.Value[0].Name));
        if (graph.FindCycle() is { } cycle)
        {
            var first = pipeline.Steps.First(s => s.Name == cycle[0]);
            d.Add(new(Codes.Cycle, $"The steps depend on each other in a cycle: {string.Join(" -> ", cycle)}. Break it by removing one of these inputs or RunAfter entries.", At(first.Location)));
            return (null, d);
        }
        return (graph, d);
    }

    private static void CheckSource(List<Diagnostic> d, Pipeline pipeline, Step step, SourceLocation at)
    {
        if (step.Kind == StepKind.DataTransfer)
        {
            if (step.Inputs.Count != 1 || step.Outputs.Count != 1)
                d.Add(new(Codes.InvalidMetadata, $"DataTransferStep '{step.Name}' copies one input to one output. Set Source=\"dataset or output\" and Destination=\"output\".", at));
            return;
        }
        if (step.SourceDirectory is null)
        {
            if (step.Kind == StepKind.PythonScript)
                d.Add(new(Codes.InvalidMetadata, $"PythonScriptStep '{step.Name}' has no SourceDirectory. Set SourceDirectory to the folder holding its script.", at));
            else if (string.IsNullOrWhiteSpace(step.Command))
                d.Add(new(Codes.InvalidMetadata, $"CommandStep '{step.Name}' has no Command. Set Command=\"program args\".", at));
            return;
        }
        var relative = Path.GetRelativePath(pipeline.ProjectDirectory, step.SourceDirectory);
        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar) || Path.IsPathRooted(relative))
        {
            d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' SourceDirectory '{step.SourceDirectory}' is outside the project folder '{pipeline.ProjectDirectory}'. Move the step's code under the project folder.", at));
            return;
        }
        if (!Directory.Exists(step.SourceDirectory))
        {
            d.Add(new(Codes.MissingSourceDirectory, $"Step '{step.Name}' SourceDirectory '{relative}' does not exist. Create it or fix the path.", at));
            return;
        }
        if (!pipeline.AllowLinksOutsideProject && !RealPath.IsWithin(step.SourceDirectory, pipeline.ProjectDirectory))
        {
            d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' SourceDirectory '{relative}' is a symbolic link to '{RealPath.Of(step.SourceDirectory)}', outside the project folder. Move the code into the project, or allow links out of it with <AllowLinksOutsideProject>true</AllowLinksOutsideProject>.", at));
            return;
        }
        switch (step.Kind)
        {
            case StepKind.PythonScript when string.IsNullOrWhiteSpace(step.ScriptName):
                d.Add(new(Codes.InvalidMetadata, $"PythonScriptStep '{step.Name}' has no ScriptName. Set ScriptName=\"script.py\" (relative to SourceDirectory).", at));
                break;
            case StepKind.PythonScript when PathEscapes(step.ScriptName!):
                d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' ScriptName '{step.ScriptName}' leaves SourceDirectory. Name a script inside it.", at));
                break;
            case StepKind.PythonScript when !File.Exists(Path.Combine(step.SourceDirectory, step.ScriptName!)):
                d.Add(new(Codes.MissingScript, $"Step '{step.Name}' script '{step.ScriptName}' does not exist in '{relative}'. Create it or fix ScriptName.", at));
                break;
            case StepKind.PythonScript when !pipeline.AllowLinksOutsideProject && !RealPath.IsWithin(Path.Combine(step.SourceDirectory, step.ScriptName!), pipeline.ProjectDirectory):
                d.Add(new(Codes.PathEscapes, $"Step '{step.Name}' script '{step.ScriptName}' is a symbolic link to '{RealPath.Of(Path.Combine(step.SourceDirectory, step.ScriptName!))}', outside the project folder. Copy the script into the project, or allow links out of it with <AllowLinksOutsideProject>true</AllowLinksOutsideProject>.", at));
                break;
            case StepKind.Command when string.IsNullOrWhiteSpace(step.Command):
                d.Add(new(Codes.InvalidMetadata, $"CommandStep '{step.Name}' has no Command. Set Command=\"program args\".", at));
                break;
        }
    }

    private static void CheckEnvironment(List<Diagnostic> d, Pipeline pipeline, Step step, SourceLocation at)
    {
        var environment = step.Environment.Length > 0 ? ResolvedEnvironment.Resolve(step.Environment, pipeline.Environments) : null;
        if (step.Environment.Length > 0 && environment is null && !pipeline.Environments.Any(e => e.Name == step.Environment))
        {
            d.Add(new(Codes.UnknownEnvironment, $"Step '{step.Name}' uses environment '{step.Environment}', which is neither an <Environment> item nor a curated environment ({string.Join(", ", EnvironmentCatalog.Curated.Keys)}). Declare it or fix the name.", at));
            return;
        }
        var compute = pipeline.FindComputeTarget(step.Compute);
        if (compute?.Kind == ComputeKind.Docker && environment?.Image is null && step.Kind != StepKind.DataTransfer)
            d.Add(new(Codes.EnvironmentNeedsImage, $"Step '{step.Name}' runs on Docker target '{compute.Name}' but its environment {(environment is null ? "is not set" : $"'{environment.Name}' has no BaseImage")}. Give it an Environment with BaseImage (or a curated one such as python-3.11).", at));
    }

    /// <summary>Every declared name follows <see cref="Names"/>: names become folder names, so one that is a path is refused before anything runs.</summary>
    private static void CheckNames(List<Diagnostic> d, Pipeline pipeline, Func<SourceLocation?, SourceLocation> at)
    {
        var declared = pipeline.Steps.Select(s => new Declared(s.Name, s.Location, "Step"))
            .Concat(pipeline.Datasets.Select(x => new Declared(x.Name, x.Location, "Dataset")))
            .Concat(pipeline.Outputs.Select(x => new Declared(x.Name, x.Location, "Output")))
            .Concat(pipeline.Parameters.Select(x => new Declared(x.Name, x.Location, "Parameter")))
            .Concat(pipeline.ComputeTargets.Select(x => new Declared(x.Name, x.Location, "Compute target")))
            .Concat(pipeline.Datastores.Select(x => new Declared(x.Name, x.Location, "Datastore")))
            .Concat(pipeline.Environments.Select(x => new Declared(x.Name, x.Location, "Environment")));
        foreach (var item in declared)
            if (Names.Problem(item.Name) is { } problem)
                d.Add(new(Codes.InvalidName, $"{item.What} '{Names.Display(item.Name)}' has a name PipelineSdk cannot use: {problem}. Names start with a letter or '_' and hold only letters, digits, '_', '.' and '-' (no '/', '\\', '..', spaces or control characters), {Names.MaxBytes} bytes at most; rename it.", at(item.Location)));
    }

    /// <summary>Variables the engine sets for every step: the step protocol (PIPELINE_*) and what finds the interpreter and the step library.</summary>
    private static bool IsEngineVariable(string name) =>
        name.StartsWith("PIPELINE_", StringComparison.OrdinalIgnoreCase) || name is "PATH" or "PYTHONPATH" or "VIRTUAL_ENV";

    private static void CheckUnique(List<Diagnostic> d, IEnumerable<Declared> items, Func<SourceLocation?, SourceLocation> at)
    {
        foreach (var group in items.GroupBy(i => i.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            var all = group.ToList();
            d.Add(new(Codes.DuplicateName, $"The name '{group.Key}' is declared more than once ({string.Join(", ", all.Select(a => a.What))}). Names of steps, of data (datasets and outputs), of parameters, of compute targets and of datastores must be unique; rename one.", at(all[1].Location)));
        }
    }

    /// <summary>A class, not a tuple: LINQ over a class runs precompiled shared code, over a tuple it is jitted on every build.</summary>
    private sealed record Declared(string Name, SourceLocation? Location, string What);

    /// <summary>True for absolute paths and paths that climb out with '..'.</summary>
    public static bool PathEscapes(string path)
    {
        if (Path.IsPathRooted(path)) return true;
        var depth = 0;
        foreach (var part in path.Split('/', '\\'))
        {
            if (part == "..") { if (--depth < 0) return true; }
            else if (part is not ("" or ".")) depth++;
        }
        return false;
    }

    /// <summary>The folder of the project (no datastore) or of a declared local datastore; null for blob or undeclared ones.</summary>
    internal static string? LocalRoot(Pipeline pipeline, string? datastore) =>
        datastore is null ? pipeline.ProjectDirectory
        : pipeline.Datastores.FirstOrDefault(s => s.Name == datastore) is { IsBlob: false } local ? local.LocalRoot(pipeline.ProjectDirectory)
        : null;

    private static IReadOnlyList<string> Distinct(IEnumerable<string> names) =>
        names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.Ordinal).ToList();
}
