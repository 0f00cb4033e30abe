using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Datastores;
using PipelineSdk.Core.Environments;
using PipelineSdk.Core.FileSystem;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Snapshots;
using PipelineSdk.Core.Validation;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Execution;

/// <summary>
/// Submits a pipeline and waits: validates it, then for every step in dependency order computes its
/// fingerprint, reuses an earlier result or runs it (independent steps concurrently, up to the
/// compute target's MaxNodes), commits its outputs only when it succeeded, and records the run.
/// </summary>
public sealed class PipelineRunner
{
    private readonly PipelineGraph _graph;
    private readonly PipelineWorkspace _workspace;
    private readonly RunHistory _history;
    private readonly RunOptions _options;
    private readonly IRunEvents _events;
    private readonly FileHashCache _hashes;
    private readonly string _runId;
    private readonly IReadOnlyDictionary<string, string> _parameters;
    private readonly Dictionary<string, SemaphoreSlim> _computeSlots;
    /// <summary>Each dataset is listed and hashed once per run, however many steps read it.</summary>
    private readonly ConcurrentDictionary<string, Lazy<Task<ResolvedInput>>> _datasets = new();
    private readonly Dictionary<string, TaskCompletionSource<StepState>> _states = new();
    private readonly Lazy<Task<string?>> _stepLibrary;
    private readonly IReadOnlyDictionary<string, DatasetFiles> _listedDatasets;
    private readonly IReadOnlyDictionary<string, DatasetVersionRecord> _registeredInputs;
    private readonly ConcurrentQueue<DatasetVersionRecord> _registered = new();
    private readonly IReadOnlyDictionary<string, BlobStore> _blobs;
    /// <summary>Compute target name → where its steps run; made when a step first needs it, so a reused step never needs its cluster.</summary>
    private readonly ConcurrentDictionary<string, Lazy<IComputeBackend>> _backends = new(StringComparer.OrdinalIgnoreCase);
    private readonly VirtualEnvironments _virtualEnvironments;
    private readonly Task<GitState?> _git;
    /// <summary>Source directory → its snapshot, taken once per run however many steps share it, from the run's start.</summary>
    private readonly Dictionary<string, Task<SourceSnapshot>> _snapshots = new(StringComparer.Ordinal);

    private sealed record StepState(StepResult Result, IReadOnlyDictionary<string, OutputRecord> Outputs)
    {
        public bool Usable => Result.Outcome is StepOutcome.Ran or StepOutcome.Reused or StepOutcome.WouldReuse;
    }

    private PipelineRunner(
        PipelineGraph graph, PipelineWorkspace workspace, RunHistory history, RunOptions options, IRunEvents events,
        IReadOnlyDictionary<string, DatasetFiles> listedDatasets, IReadOnlyDictionary<string, DatasetVersionRecord> registeredInputs,
        IReadOnlyDictionary<string, BlobStore> blobs, Task<GitState?> git)
    {
        _git = git;
        _blobs = blobs;
        _listedDatasets = listedDatasets;
        _registeredInputs = registeredInputs;
        _graph = graph;
        _workspace = workspace;
        _history = history;
        _options = options;
        _events = events;
        _hashes = history.FileHashes();
        _runId = $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var pipeline = graph.Pipeline;
        _parameters = pipeline.Parameters.ToDictionary(p => p.Name, p => pipeline.ParameterValues.GetValueOrDefault(p.Name) ?? p.DefaultValue);
        _computeSlots = new Dictionary<string, SemaphoreSlim>(StringComparer.OrdinalIgnoreCase)
        {
            [ComputeTarget.LocalName] = new(Environment.ProcessorCount),
        };
        foreach (var c in pipeline.ComputeTargets) _computeSlots[c.Name] = new SemaphoreSlim(c.MaxNodes);
        _virtualEnvironments = new VirtualEnvironments(Path.Combine(workspace.Root, "envs"), options.PythonExecutable);
        _stepLibrary = new(() => Background(() => options.StepLibraryPath is { } library && Directory.Exists(Path.Combine(library, "pipelinesdk"))
            ? SourceSnapshot.Take(Path.Combine(library, "pipelinesdk"), _hashes).Id
            : null));
    }

    private Pipeline Pipeline => _graph.Pipeline;

    /// <summary>Validates; when valid and <paramref name="validateOnly"/> is false, runs. Diagnostics say why nothing ran.</summary>
    public static PipelineResult Run(Pipeline pipeline, RunOptions options, IRunEvents events, bool validateOnly = false)
    {
        // An existing workspace's history opens while the project is checked and its datasets listed; a new one is
        // created only once the project proved valid.
        using var early = new EarlyHistory(validateOnly ? null : ExistingDatabase(pipeline.ProjectDirectory), readOnlyFallback: options.DryRun);
        var (graph, diagnostics) = PipelineValidator.Validate(pipeline);
        PipelineResult Stopped(params Diagnostic[] more) => new(null, pipeline.ExperimentName, [], [.. diagnostics, .. more]);
        if (graph is null || validateOnly) return Stopped();

        // The git processes run while the datasets are listed and the run history opens; a build stopped below just ignores them.
        var git = options.DryRun ? Task.FromResult<GitState?>(null) : Background(() => GitState.Read(pipeline.ProjectDirectory));

        // Datasets in the project folder are listed before anything runs, so an empty one stops the build; the runner keeps the listing.
        var projectDatasets = pipeline.Datasets.Where(ds => ds.Datastore is null && ds.Registered is null)
            .ToDictionary(ds => ds.Name, ds => DatasetFiles.Resolve(pipeline.ProjectDirectory, ds.Path));
        if (pipeline.Datasets.FirstOrDefault(ds => projectDatasets.TryGetValue(ds.Name, out var files) && files.RelativePaths.Count == 0) is { } empty)
            return Stopped(new Diagnostic(Codes.EmptyDataset, $"Dataset '{empty.Name}' path '{empty.Path}' matches no files under '{pipeline.ProjectDirectory}'. Fix the path or add the data.", empty.Location ?? new(pipeline.ProjectFile)));

        PipelineWorkspace workspace;
        try
        {
            workspace = PipelineWorkspace.Locate(pipeline.ProjectDirectory);
        }
        catch (WorkspaceException e)
        {
            return Stopped(new Diagnostic(Codes.Workspace, e.Message, new(pipeline.ProjectFile)));
        }

        var blobs = new Dictionary<string, BlobStore>(StringComparer.Ordinal);
        foreach (var store in pipeline.Datastores.Where(d => d.IsBlob))
        {
            try { blobs[store.Name] = BlobStore.Connect(store); }
            catch (DatastoreException e) { return Stopped(new Diagnostic(Codes.DatastoreUnavailable, e.Message, store.Location ?? new(pipeline.ProjectFile))); }
        }

        if (workspace.SharedDatastore is { } shared)
        {
            try { blobs[Datastore.DefaultName] = BlobStore.Connect(shared); }
            catch (DatastoreException e) { return Stopped(new Diagnostic(Codes.DatastoreUnavailable, e.Message, shared.Location)); }
        }

        RunHistory history;
        try { history = early.Take(workspace.DatabasePath); }
        catch (RunHistoryException e) { return Stopped(new Diagnostic(e.Code, e.Message, new(pipeline.ProjectFile))); }
        using var opened = history;
        var registeredInputs = new Dictionary<string, DatasetVersionRecord>();
        foreach (var ds in pipeline.Datasets.Where(d => d.Registered is not null))
        {
            var (name, version) = ds.RegisteredReference!.Value;
            if (history.DatasetVersion(name, version) is { } found) { registeredInputs[ds.Name] = found; continue; }
            var known = history.DatasetVersions(name);
            return Stopped(new Diagnostic(Codes.UnknownRegisteredDataset, known.Count == 0
                ? $"Dataset '{ds.Name}' reads registered dataset '{name}', which workspace {workspace.Root} does not have. Register it first (Register=\"true\" on a FileDataset, or RegisterOnComplete on a StepOutput) or fix the name."
                : $"Dataset '{ds.Name}' reads version {version} of registered dataset '{name}', which has versions {string.Join(", ", known.Select(k => k.Version))}. Name one of them, or '{name}' for the latest.",
                ds.Location ?? new(pipeline.ProjectFile)));
        }
        var runner = new PipelineRunner(graph, workspace, history, options, events, projectDatasets, registeredInputs, blobs, git);
        var result = runner.Execute();
        return result with { Diagnostics = [.. diagnostics, .. result.Diagnostics] };
    }

    private static string? ExistingDatabase(string projectDirectory)
    {
        try { return PipelineWorkspace.Find(projectDirectory)?.DatabasePath is { } path && File.Exists(path) ? path : null; }
        catch (WorkspaceException) { return null; } // reported when the workspace is located
    }

    /// <summary>A run history opening in the background; handed over when it is the one the run needs, else closed.</summary>
    private sealed class EarlyHistory(string? path, bool readOnlyFallback) : IDisposable
    {
        private readonly Task<RunHistory>? _opening = path is { } existing ? Background(() => RunHistory.Open(existing, readOnlyFallback)) : null;
        private bool _taken;

        public RunHistory Take(string databasePath)
        {
            if (_opening is null || databasePath != path) return RunHistory.Open(databasePath, readOnlyFallback);
            _taken = true;
            return _opening.GetAwaiter().GetResult();
        }

        /// <summary>A build stopped before its run closes the history it did not take: nothing of it stays open.</summary>
        public void Dispose()
        {
            if (_opening is null || _taken) return;
            try { _opening.GetAwaiter().GetResult().Dispose(); }
            catch (Exception) { } // the build stopped for another reason, already reported; a history that failed to open is not its to report
        }
    }

    /// <summary>
    /// On a thread of its own: these block (on processes, on the disk) while steps may hold every pool thread, and
    /// the pool would add threads only slowly. What awaits the result goes on in the pool, each step on its own thread.
    /// </summary>
    private static Task<T> Background<T>(Func<T> work) => Task.Factory.StartNew(
        work, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.RunContinuationsAsynchronously, TaskScheduler.Default);

    private PipelineResult Execute()
    {
        // Hashing the project's datasets (and the step library every fingerprint holds) is most of a no-op build: it
        // starts now, beside recording the run's start. A failure stays in the task and reaches the steps that await it.
        foreach (var name in _listedDatasets.Keys.Where(d => _graph.Nodes.Any(n => n.Inputs.Contains(d)))) _ = Dataset(name);
        _ = _stepLibrary.Value;
        var linksWithin = Pipeline.AllowLinksOutsideProject ? null : Pipeline.ProjectDirectory;
        foreach (var source in Pipeline.Steps.Select(s => s.SourceDirectory).OfType<string>().Distinct())
            _snapshots[source] = Background(() => SourceSnapshot.Take(source, _hashes, [_workspace.Root, _options.IntermediateDirectory], linksWithin));
        // A source that cannot be snapshotted (a link out of the project, a loop) stops the build before anything runs.
        try { Task.WaitAll(_snapshots.Values); }
        catch (AggregateException e) when (e.InnerExceptions.All(i => i is SnapshotException))
        {
            var step = Pipeline.Steps.First(s => s.SourceDirectory is { } d && _snapshots[d].IsFaulted);
            return new PipelineResult(null, Pipeline.ExperimentName, [], [new Diagnostic(Codes.PathEscapes, e.InnerExceptions[0].Message, step.Location ?? new(Pipeline.ProjectFile))]);
        }
        catch (AggregateException e)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); // as the step reading it would have met it
        }
        // Shared with other builds, exclusive of mlp gc, for the whole run: nothing this run reuses is collected under it.
        using var workspaceLock = _options.DryRun ? null : WorkspaceLock.AcquireSharedAsync(_workspace.Root,
            () => _events.RunNote($"waiting for mlp gc to finish with workspace {_workspace.Root}"), _options.Cancellation).GetAwaiter().GetResult();
        if (!_options.DryRun)
        {
            foreach (var interrupted in _history.MarkInterruptedRuns()) RemoveLeftovers(interrupted);
            var gitState = _git.GetAwaiter().GetResult();
            _history.StartPipelineRun(_runId, Pipeline.ExperimentName, Pipeline.ProjectFile, _parameters, gitState, _options.SdkVersion);
        }
        try
        {
            if (!_options.DryRun) RegisterDatasets();
            // Every step's completion exists before any step starts, so a step can await the steps it needs.
            foreach (var node in _graph.Nodes) _states[node.Name] = new(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var node in _graph.TopologicalOrder())
                _ = Task.Run(async () =>
                {
                    try { _states[node.Name].SetResult(await RunStepAsync(node)); }
                    catch (Exception e) { _states[node.Name].SetException(e); }
                });
            // Every step ends (a cancelled one after stopping its process, container or job) before the run does.
            try { Task.WaitAll(_states.Values.Select(s => s.Task)); }
            catch (AggregateException) { }
            var results = Pipeline.Steps.Select(s => _states[s.Name].Task.GetAwaiter().GetResult().Result).ToList();
            _history.SaveFileHashes(_hashes.Changed);
            var result = new PipelineResult(_runId, Pipeline.ExperimentName, results, []) { Registered = [.. _registered] };
            if (!_options.DryRun) _history.FinishPipelineRun(_runId, result.Succeeded ? RunStatus.Succeeded : RunStatus.Failed, result.SummaryLine);
            return result;
        }
        catch (OperationCanceledException)
        {
            if (!_options.DryRun) _history.FinishPipelineRun(_runId, RunStatus.Cancelled, "the build was cancelled");
            throw;
        }
        catch (Exception e)
        {
            // The run history must not say Running for a run that ended; the build reports the exception itself.
            if (!_options.DryRun) _history.FinishPipelineRun(_runId, RunStatus.Failed, $"the engine failed: {e.Message}");
            throw;
        }
        finally
        {
            foreach (var backend in _backends.Values.Where(b => b.IsValueCreated)) backend.Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private IComputeBackend Backend(string computeName) => _backends.GetOrAdd(computeName, name => new(() =>
        Pipeline.FindComputeTarget(name) switch
        {
            { Kind: ComputeKind.Docker } docker => new DockerBackend(docker),
            { Kind: ComputeKind.Slurm } slurm => new SlurmBackend(slurm, _options.PythonExecutable, _virtualEnvironments),
            _ => new LocalBackend(_options.PythonExecutable, _virtualEnvironments),
        })).Value;

    private ResolvedEnvironment? EnvironmentOf(Step step) =>
        step.Environment.Length > 0 ? ResolvedEnvironment.Resolve(step.Environment, Pipeline.Environments) : null;

    private async Task<StepState> RunStepAsync(StepNode node)
    {
        var dependencies = new Dictionary<string, StepState>();
        foreach (var dep in _graph.Dependencies[node.Name]) dependencies[dep] = await _states[dep].Task;
        var stepRunId = $"{_runId}-{node.Name}";

        StepState Finish(StepResult result, IReadOnlyDictionary<string, OutputRecord>? outputs = null)
        {
            _events.StepFinished(result);
            return new StepState(result, outputs ?? new Dictionary<string, OutputRecord>());
        }

        if (dependencies.FirstOrDefault(d => !d.Value.Usable) is { Key: not null } blocked)
        {
            var wouldRun = blocked.Value.Result.Outcome == StepOutcome.WouldRun;
            var reason = wouldRun ? $"upstream step '{blocked.Key}' would run" : $"upstream step '{blocked.Key}' {(blocked.Value.Result.Outcome == StepOutcome.Failed ? "failed" : "was skipped")}";
            if (!wouldRun && !_options.DryRun)
                _history.RecordStepRun(NewRecord(stepRunId, node, RunStatus.Skipped, false, reason), null);
            return Finish(new StepResult(node.Name, wouldRun ? StepOutcome.WouldRun : StepOutcome.Skipped, reason, stepRunId));
        }

        var step = node.Step;
        var inputs = await ResolveInputsAsync(node, dependencies);
        var snapshot = step.SourceDirectory is { } source ? await _snapshots[source] : SourceSnapshot.Empty;
        var fingerprint = StepFingerprint.Compute(
            step,
            new FileGroup(snapshot.Id, snapshot.Files),
            node.Parameters.ToDictionary(p => p, p => _parameters[p]),
            inputs.ToDictionary(i => i.Key, i => i.Value.Files),
            FileGroup.Of(HashPathFiles(step)),
            node.Outputs,
            await _stepLibrary.Value,
            Pipeline.Datasets.Where(d => node.Inputs.Contains(d.Name)).ToDictionary(d => d.Name, d => d.Mode),
            EnvironmentOf(step));

        if (_options.DryRun)
        {
            var (planned, plannedWhy, plannedDifferences) = Decide(node, fingerprint, restore: false);
            return Finish(new StepResult(node.Name, planned is null ? StepOutcome.WouldRun : StepOutcome.WouldReuse, plannedWhy,
                ReusedFrom: planned?.Id, AllDifferences: plannedDifferences), planned?.Outputs);
        }

        // Held until the result is recorded: a concurrent build reaching the same step waits, then reuses it.
        using var held = await FingerprintLock.AcquireAsync(_workspace.Root, fingerprint.Value, _options.Cancellation);
        var (reuse, why, differences) = Decide(node, fingerprint, restore: true);
        if (reuse is not null)
        {
            _history.RecordStepRun(NewRecord(stepRunId, node, RunStatus.Succeeded, false, why) with
            {
                ReusedFrom = reuse.Id, Fingerprint = fingerprint.Value, Snapshot = snapshot.Id, Outputs = reuse.Outputs,
                LogPath = reuse.LogPath, Started = DateTimeOffset.UtcNow, Ended = DateTimeOffset.UtcNow,
            }, fingerprint);
            RegisterOutputs(node, reuse.Outputs, reuse.Id);
            return Finish(new StepResult(node.Name, StepOutcome.Reused, why, stepRunId, reuse.Id, LogPath: reuse.LogPath), reuse.Outputs);
        }

        var slots = _computeSlots[step.Compute];
        await slots.WaitAsync(_options.Cancellation);
        try
        {
            _events.StepStarted(node.Name, why);
            return await ExecuteAsync(node, stepRunId, why, differences, inputs, snapshot, fingerprint, Finish);
        }
        catch (IOException e) when (e is not UnsafeDeleteException)
        {
            // A full or failing disk (or another file fault): the step fails, and what it began is removed as a killed build's is by the next one.
            RemoveStepRunFolders(stepRunId);
            var message = $"a file operation failed: {e.Message}";
            try { _history.RecordStepRun(NewRecord(stepRunId, node, RunStatus.Failed, true, $"{why}; {message}") with { Fingerprint = fingerprint.Value, Snapshot = snapshot.Id }, fingerprint); }
            catch (Exception) { } // the history may be on the same full disk; the run is marked when it ends or by the next build
            return Finish(new StepResult(node.Name, StepOutcome.Failed, why, stepRunId, null, null, [message], default, null, differences));
        }
        finally
        {
            slots.Release();
        }
    }

    /// <summary>
    /// Reuse an earlier result (restoring damaged outputs from the content store when <paramref name="restore"/>),
    /// or say in words why the step must run, with every differing fingerprint field.
    /// </summary>
    private (StepRunRecord? Reuse, string Why, IReadOnlyList<string> Differences) Decide(StepNode node, StepFingerprint fingerprint, bool restore)
    {
        if (_options.Rebuild) return (null, "Rebuild requested", Differences(node, fingerprint, out _));
        if (_options.ForceSteps.Contains(node.Name)) return (null, "forced by ForceSteps", Differences(node, fingerprint, out _));
        if (!node.Step.AllowReuse) return (null, "AllowReuse=false", Differences(node, fingerprint, out _));

        if (_history.FindReusable(fingerprint.Value) is { } cached)
        {
            var damaged = cached.Outputs.Where(o => !OutputIntact(o.Value)).ToList();
            var reused = $"reused from run {cached.PipelineRunId}";
            if (damaged.Count == 0) return (cached, reused, []);
            var names = string.Join(", ", damaged.Select(o => $"'{o.Key}'"));
            // A blob datastore is its own durable store: what was deleted there is not kept elsewhere.
            var restorable = damaged.All(o => !IsBlob(o.Value.Datastore) && restore
                ? Store(o.Value.Datastore).TryRestore(o.Value.Files, OutputFolder(o.Value))
                : !IsBlob(o.Value.Datastore) && Store(o.Value.Datastore).CanRestore(o.Value.Files));
            if (restorable) return (cached, $"{reused} (output {names} restored from the store)", []);
            return (null, $"output {names} of run {cached.PipelineRunId} was deleted or modified and the store has no intact copy", Differences(node, fingerprint, out _));
        }

        if (SharedCache(fingerprint.Value) is { } shared && shared.Outputs.Values.All(OutputIntact))
            return (shared, $"reused from run {shared.PipelineRunId} (shared cache)", []);

        var differences = Differences(node, fingerprint, out var previous);
        if (previous is null) return (null, "no earlier run", differences);
        if (differences.Count > 0) return (null, differences[0], differences);
        return (null, $"earlier run {previous.PipelineRunId} {previous.Status.ToLowerInvariant()}", differences);
    }

    /// <summary>
    /// With a blob default datastore, results are shared through it: <c>cache/&lt;fingerprint&gt;.json</c> describes a
    /// successful step run and its outputs (in the same container), so another machine reuses them without running.
    /// </summary>
    private StepRunRecord? SharedCache(string fingerprint) =>
        _blobs.TryGetValue(Datastore.DefaultName, out var shared) && shared.ReadText($"cache/{fingerprint}.json") is { } json
            ? JsonSerializer.Deserialize(json, HistoryJson.Default.StepRunRecord)
            : null;

    private void ShareResult(StepRunRecord record)
    {
        if (_blobs.TryGetValue(Datastore.DefaultName, out var shared) && record.Outputs.Values.All(o => IsBlob(o.Datastore)))
            shared.WriteText($"cache/{record.Fingerprint}.json", JsonSerializer.Serialize(record with { LogPath = null }, HistoryJson.Default.StepRunRecord));
    }

    /// <summary>What differs from the step's most recent run in this experiment (only computed when the step will run).</summary>
    private IReadOnlyList<string> Differences(StepNode node, StepFingerprint fingerprint, out StepRunRecord? previous)
    {
        previous = _history.LatestStepRun(Pipeline.ExperimentName, node.Name);
        var earlierFields = previous?.Fingerprint is { } fp ? _history.FingerprintFields(fp) : null;
        return earlierFields is null ? [] : fingerprint.Differences(earlierFields, _history.Manifest, node.Step.ScriptName?.Replace('\\', '/'));
    }

    private bool OutputIntact(OutputRecord output)
    {
        if (_blobs.TryGetValue(output.Datastore, out var blob))
        {
            var listed = blob.List(output.Path);
            return listed.Count == output.Files.Count && listed.All(f => output.Files.TryGetValue(f.Key, out var hash) && hash == f.Value);
        }
        var folder = OutputFolder(output);
        if (!Directory.Exists(folder)) return false;
        var present = DatasetFiles.Resolve(folder, ".").RelativePaths;
        return present.Count == output.Files.Count
            && present.All(f => output.Files.TryGetValue(f, out var hash) && _hashes.Hash(Path.Combine(folder, f)) == hash);
    }

    private string OutputFolder(OutputRecord output) => Path.Combine(DatastoreRoot(output.Datastore), output.Path);

    private ContentStore Store(string? datastore) => new(DatastoreRoot(datastore), _hashes);

    /// <param name="Path">Where the step finds the input, unless it must be laid out from <paramref name="Links"/>.</param>
    /// <param name="Links">Relative path → the file to link there, for inputs that are not one folder as is (globs, registered versions).</param>
    /// <param name="Blob">For inputs in a blob datastore: where the linked cache files are downloaded from (store and prefix).</param>
    private sealed record ResolvedInput(string Path, FileGroup Files, IReadOnlyDictionary<string, string>? Links, (BlobStore Store, string Prefix)? Blob = null)
    {
        /// <summary>Relative path → the file that holds it.</summary>
        public IReadOnlyDictionary<string, string> Sources =>
            Links ?? Files.Files.Keys.ToDictionary(f => f, f => System.IO.Path.Combine(Path, f));
    }

    /// <summary>
    /// Blob inputs are read from a local cache keyed by content (<c>cache/blobs</c> in the workspace): unchanged data is
    /// never downloaded twice, and an unchanged input costs one listing, no download, to fingerprint.
    /// </summary>
    private ResolvedInput BlobInput(BlobStore store, string prefix, IReadOnlyDictionary<string, string> ids) =>
        new("", FileGroup.Of(ids), ids.ToDictionary(f => f.Key, f => BlobCachePath(f.Value)), (store, prefix));

    private string BlobCachePath(string contentId) =>
        ContentHash.OfString(contentId) is var key ? Path.Combine(_workspace.Root, "cache", "blobs", key[..2], key) : "";

    private async Task<Dictionary<string, ResolvedInput>> ResolveInputsAsync(StepNode node, Dictionary<string, StepState> dependencies)
    {
        var inputs = new Dictionary<string, ResolvedInput>();
        foreach (var name in node.Inputs)
        {
            if (_graph.ProducerOfOutput.TryGetValue(name, out var producer))
            {
                var output = dependencies[producer].Outputs[name];
                inputs[name] = _blobs.TryGetValue(output.Datastore, out var blob)
                    ? BlobInput(blob, output.Path, output.Files)
                    : new ResolvedInput(Path.Combine(DatastoreRoot(output.Datastore), output.Path), new FileGroup(output.Hash, output.Files), null);
                continue;
            }
            inputs[name] = await Dataset(name);
        }
        return inputs;
    }

    /// <summary>FileDatasets with Register="true": a new version whenever the files' content changed, its files kept in the content store.</summary>
    private void RegisterDatasets()
    {
        foreach (var dataset in Pipeline.Datasets.Where(d => d.Register))
        {
            var input = Dataset(dataset.Name).GetAwaiter().GetResult();
            if (input.Blob is var (blob, prefix))
            {
                // A blob's content id is the service's; a version is kept here under our own hashes, immutable whatever the container does next.
                var kept = KeepLocally(blob, prefix, input.Files.Files);
                Register(dataset.Name, FileGroup.Of(kept), Datastore.DefaultName, $"{dataset.Datastore}:{dataset.Path}");
                continue;
            }
            var datastore = dataset.Datastore ?? Datastore.DefaultName;
            var store = Store(datastore);
            foreach (var (relative, hash) in input.Files.Files)
                store.Put(input.Sources[relative], hash);
            Register(dataset.Name, input.Files, datastore, $"{dataset.Datastore ?? "project"}:{dataset.Path}");
        }
    }

    /// <summary>Outputs with RegisterOnComplete, once their step succeeded (ran, or reused a run that did); their files are in the content store since they were committed.</summary>
    private void RegisterOutputs(StepNode node, IReadOnlyDictionary<string, OutputRecord> outputs, string producedBy)
    {
        foreach (var (name, output) in outputs)
        {
            if (Pipeline.Outputs.First(o => o.Name == name).RegisterAs is not { } dataset) continue;
            var datastore = output.Datastore;
            if (_blobs.TryGetValue(output.Datastore, out var blob))
            {
                // Versions of blob outputs are kept in the local content store (committed ones are already there).
                var local = Store(null);
                KeepLocally(blob, output.Path, output.Files.Where(f => !File.Exists(local.PathOf(f.Value))).ToDictionary());
                datastore = Datastore.DefaultName;
            }
            Register(dataset, new FileGroup(output.Hash, output.Files), datastore, $"step run {producedBy} output {name}");
        }
    }

    /// <summary>Puts blob files into the local content store (from the blob cache when a step already downloaded them); returns relative path → our hash.</summary>
    private IReadOnlyDictionary<string, string> KeepLocally(BlobStore blob, string prefix, IReadOnlyDictionary<string, string> contentIds)
    {
        var store = Store(null);
        var kept = new Dictionary<string, string>();
        foreach (var (relative, id) in contentIds)
        {
            var cached = BlobCachePath(id);
            if (!File.Exists(cached)) blob.Download($"{prefix.Trim('/')}/{relative}".TrimStart('/'), id, cached);
            var hash = ContentHash.OfFile(cached);
            store.Put(cached, hash);
            kept[relative] = hash;
        }
        return kept;
    }

    private void Register(string name, FileGroup files, string datastore, string source)
    {
        var (version, created) = _history.RegisterDataset(name, files, datastore, source);
        if (created) _registered.Enqueue(version);
    }

    /// <summary>
    /// A dataset's files and their hashes, listed and hashed once per run however many steps read it, on a thread of
    /// its own: steps await it without holding a pool thread that the hashing's parallel loop needs.
    /// </summary>
    private Task<ResolvedInput> Dataset(string name) => _datasets.GetOrAdd(name, _ => new Lazy<Task<ResolvedInput>>(() => Background(() =>
    {
        var dataset = Pipeline.Datasets.First(d => d.Name == name);
        if (_registeredInputs.TryGetValue(name, out var version))
        {
            var manifest = _history.Manifest(version.Hash)!;
            var store = Store(version.Datastore);
            return new ResolvedInput("", new FileGroup(version.Hash, manifest), manifest.ToDictionary(f => f.Key, f => store.PathOf(f.Value)));
        }
        if (dataset.Datastore is { } storeName && _blobs.TryGetValue(storeName, out var blob))
        {
            var (prefix, pattern) = DatasetFiles.SplitGlob(dataset.Path);
            var listing = blob.List(prefix);
            return BlobInput(blob, prefix, pattern is null ? listing : DatasetFiles.Match(pattern, listing.Keys).ToDictionary(f => f, f => listing[f]));
        }
        var files = _listedDatasets.TryGetValue(name, out var listed) ? listed : DatasetFiles.Resolve(DatastoreRoot(dataset.Datastore), dataset.Path);
        return new ResolvedInput(files.BaseDirectory, FileGroup.Of(_hashes.HashAll(files.BaseDirectory, files.RelativePaths)),
            files.IsWholeFolder ? null : files.RelativePaths.ToDictionary(f => f, f => Path.Combine(files.BaseDirectory, f)));
    }))).Value;

    private IReadOnlyDictionary<string, string> HashPathFiles(Step step)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var pattern in step.HashPaths)
        {
            var selection = DatasetFiles.Resolve(Pipeline.ProjectDirectory, pattern);
            foreach (var f in selection.RelativePaths)
            {
                var full = Path.Combine(selection.BaseDirectory, f);
                files[Path.GetRelativePath(Pipeline.ProjectDirectory, full).Replace('\\', '/')] = _hashes.Hash(full);
            }
        }
        return files;
    }

    private async Task<StepState> ExecuteAsync(
        StepNode node, string stepRunId, string why, IReadOnlyList<string> differences, Dictionary<string, ResolvedInput> inputs,
        SourceSnapshot snapshot, StepFingerprint fingerprint, Func<StepResult, IReadOnlyDictionary<string, OutputRecord>?, StepState> finish)
    {
        var step = node.Step;
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var work = Path.Combine(_options.IntermediateDirectory, "work", stepRunId);
        var cwd = Path.Combine(work, "snapshot");
        snapshot.CopyTo(cwd);
        KeepSnapshot(snapshot);

        // A step that cannot start (its inputs, its environment or its compute target fail it) fails like one whose process failed.
        StepState FailBeforeProcess(string message, IReadOnlyList<string>? details = null)
        {
            _history.RecordStepRun(NewRecord(stepRunId, node, RunStatus.Failed, true, $"{why}; {message}") with
            {
                Fingerprint = fingerprint.Value, Snapshot = snapshot.Id, Started = started, Ended = DateTimeOffset.UtcNow,
            }, fingerprint);
            return finish(new StepResult(node.Name, StepOutcome.Failed, why, stepRunId, null, null, [message, .. details ?? []], clock.Elapsed, null, differences), null);
        }

        var inputPaths = new Dictionary<string, string>();
        foreach (var (name, input) in inputs)
        {
            var mode = Pipeline.Datasets.FirstOrDefault(d => d.Name == name)?.Mode ?? InputMode.Mount; // outputs read as mounted
            if (mode == InputMode.Direct)
            {
                inputPaths[name] = input.Blob is var (directStore, directPrefix) ? directStore.UriOf(directPrefix) : input.Path;
                continue;
            }
            try
            {
                if (input.Blob is var (store, prefix))
                    foreach (var (relative, id) in input.Files.Files.Where(f => !File.Exists(BlobCachePath(f.Value))))
                        store.Download($"{prefix.Trim('/')}/{relative}".TrimStart('/'), id, BlobCachePath(id));
            }
            catch (Exception e) when (BlobStore.IsStorageFault(e))
            {
                return FailBeforeProcess($"downloading input '{name}' failed: {e.Message.Split('\n')[0].Trim()}");
            }
            var folder = Path.Combine(work, "inputs", name);
            inputPaths[name] = mode == InputMode.Download ? LayOut(input.Sources, folder, copy: true)
                : input.Links is { } links ? LayOut(links, folder, copy: false) : input.Path;
        }

        var tables = new Dictionary<string, TabularSchema>();
        foreach (var dataset in Pipeline.Datasets.Where(d => d.Tabular is not null && inputs.ContainsKey(d.Name) && Path.IsPathRooted(inputPaths[d.Name])))
        {
            try
            {
                var files = inputs[dataset.Name].Files;
                tables[dataset.Name] = TabularSchema.Infer(dataset.Tabular!, [.. files.Files.Keys.Select(f => (f, Path.Combine(inputPaths[dataset.Name], f)))]);
                _history.RecordTabularSchema(files.Hash, JsonSerializer.Serialize(tables[dataset.Name]));
            }
            catch (FormatException e)
            {
                return FailBeforeProcess($"input '{dataset.Name}' is not one table: {e.Message}");
            }
        }

        var staging = new Dictionary<string, OutputTarget>();
        foreach (var name in node.Outputs)
        {
            var output = Pipeline.Outputs.First(o => o.Name == name);
            var destination = output.DestinationFor(stepRunId);
            var blob = _blobs.GetValueOrDefault(output.DatastoreName);
            if (output.Mode == OutputMode.Mount && blob is null)
            {
                var root = DatastoreRoot(output.Datastore);
                var folder = Path.Combine(root, destination);
                GuardedDelete.Folder(folder, root); // a fixed destination is rewritten in place
                Directory.CreateDirectory(folder);
                staging[name] = new OutputTarget(output, folder, destination, InPlace: true, null, root);
            }
            else
            {
                var stagingRoot = Path.Combine(blob is not null ? _workspace.DefaultDatastoreRoot : DatastoreRoot(output.Datastore), ".staging");
                var folder = Path.Combine(stagingRoot, stepRunId, name);
                Directory.CreateDirectory(folder);
                var live = output.Mode == OutputMode.Mount ? new LiveUpload(blob!, folder, destination, LiveUploadInterval) : null;
                staging[name] = new OutputTarget(output, folder, destination, InPlace: false, live, stagingRoot);
            }
        }
        // A killed build cannot remove what it wrote in place: the next one reads this list (RemoveLeftovers).
        File.WriteAllLines(Path.Combine(work, InPlaceOutputsFile), staging.Values.Where(t => t.InPlace || t.Live is not null).Select(t => $"{t.Output.DatastoreName}\t{t.Destination}"));

        string Resolve(Reference r) => r.Kind switch
        {
            ReferenceKind.Input => inputPaths[r.Name],
            ReferenceKind.Output => staging[r.Name].Folder,
            _ => _parameters[r.Name],
        };
        var argv = new List<string>();
        if (step.Kind == StepKind.PythonScript) argv.Add(step.ScriptName!);
        else if (step.Kind == StepKind.Command) argv.AddRange(ArgumentTemplate.Expand(step.Command!, Resolve));
        argv.AddRange(ArgumentTemplate.Expand(step.Arguments, Resolve));

        var metricsFile = Path.Combine(work, "metrics.jsonl");
        var stepParameters = node.Parameters.ToDictionary(p => p, p => _parameters[p]);
        var environment = new Dictionary<string, string?>
        {
            ["PIPELINE_RUN_ID"] = stepRunId,
            ["PIPELINE_PARENT_RUN_ID"] = _runId,
            ["PIPELINE_EXPERIMENT"] = Pipeline.ExperimentName,
            ["PIPELINE_STEP"] = node.Name,
            ["PIPELINE_WORKSPACE"] = _workspace.Root,
            ["PIPELINE_WORKSPACE_NAME"] = _workspace.Name,
            ["PIPELINE_INPUTS"] = JsonSerializer.Serialize(inputPaths),
            ["PIPELINE_OUTPUTS"] = JsonSerializer.Serialize(staging.ToDictionary(s => s.Key, s => s.Value.Folder)),
            ["PIPELINE_PARAMS"] = JsonSerializer.Serialize(stepParameters),
            ["PIPELINE_METRICS_FILE"] = metricsFile,
            ["PIPELINE_TABULAR"] = JsonSerializer.Serialize(tables),
            ["PYTHONUNBUFFERED"] = "1",
            ["PYTHONDONTWRITEBYTECODE"] = "1",
        };
        if (_options.StepLibraryPath is { } library)
            environment["PYTHONPATH"] = Environment.GetEnvironmentVariable("PYTHONPATH") is { Length: > 0 } existing ? $"{library}{Path.PathSeparator}{existing}" : library;
        foreach (var (name, path) in inputPaths) environment[$"PIPELINE_INPUT_{EnvName(name)}"] = path;
        foreach (var (name, target) in staging) environment[$"PIPELINE_OUTPUT_{EnvName(name)}"] = target.Folder;
        foreach (var (name, value) in stepParameters) environment[$"PIPELINE_PARAM_{EnvName(name)}"] = value;
        var stepEnvironment = EnvironmentOf(step);
        foreach (var (name, value) in stepEnvironment?.Variables ?? new Dictionary<string, string>()) environment[name] = value;
        // Steps never see credentials (CredentialVariables): the engine moves their data, so a step cannot print or ship a key.
        var named = Pipeline.Datastores.Where(d => d.IsBlob).Append(_workspace.SharedDatastore).OfType<Datastore>().Select(d => d.ConnectionVariable ?? BlobStore.DefaultConnectionVariable)
            .Concat(Pipeline.ComputeTargets.Where(c => c.Kind == ComputeKind.Slurm).Select(c => c.TokenVariable ?? SlurmRest.DefaultTokenVariable));
        foreach (var variable in CredentialVariables.Withheld(named)) environment[variable] = null;

        var logPath = _workspace.StepLogPath(stepRunId);
        var launch = new StepLaunch
        {
            StepName = node.Name, StepRunId = stepRunId, PipelineRunId = _runId, Arguments = argv, RunsPython = step.Kind == StepKind.PythonScript,
            WorkingDirectory = cwd, WorkDirectory = work, Variables = environment, LogPath = logPath, Environment = stepEnvironment,
            Resources = step.Resources.Over(Pipeline.FindComputeTarget(step.Compute)?.Defaults ?? new()),
            // Steps elsewhere (a container, a node) see these folders at the same paths: what they read, and what they write.
            ReadOnlyPaths = [.. new[] { Pipeline.ProjectDirectory, _workspace.Root, _options.StepLibraryPath ?? "", Path.Combine(work, "inputs") }.Concat(LocalDatastoreRoots()).Concat(inputPaths.Values).Where(Directory.Exists)],
            WritablePaths = [work, .. staging.Values.Select(s => s.Folder)],
        };
        ProcessOutcome outcome;
        try
        {
            outcome = step.Kind == StepKind.DataTransfer
                ? DataTransfer.Copy(inputPaths[node.Inputs[0]], staging[node.Outputs[0]].Folder, logPath)
                : await RunOnComputeAsync(launch, Backend(step.Compute));
        }
        catch (OperationCanceledException)
        {
            DiscardOutputs(staging.Values);
            throw;
        }
        catch (ComputeException e)
        {
            DiscardOutputs(staging.Values);
            return FailBeforeProcess($"it could not run on compute target '{step.Compute}': {e.Message}", e.Details);
        }

        var telemetry = StepTelemetry.Collect(metricsFile, cwd, _workspace.DefaultDatastoreRoot, $"artifacts/{stepRunId}");
        foreach (var (tag, value) in outcome.Placement) telemetry.Tags[tag] = value;
        var record = NewRecord(stepRunId, node, RunStatus.Failed, true, why) with
        {
            Fingerprint = fingerprint.Value, Snapshot = snapshot.Id, ExitCode = outcome.ExitCode, Started = started, LogPath = logPath,
        };
        if (outcome.ExitCode != 0)
        {
            DiscardOutputs(staging.Values);
            _history.RecordStepRun(record with { Ended = DateTimeOffset.UtcNow }, fingerprint, telemetry);
            return finish(new StepResult(node.Name, StepOutcome.Failed, why, stepRunId, null, outcome.ExitCode, outcome.StderrTail, clock.Elapsed, logPath, differences, telemetry.Problems), null);
        }

        var outputs = new Dictionary<string, OutputRecord>();
        try
        {
            foreach (var (name, target) in staging)
                outputs[name] = Commit(target, stepRunId, work);
        }
        catch (Exception e) when (BlobStore.IsStorageFault(e))
        {
            // The SDK already retried; a step whose outputs did not all land is failed, cached nowhere and registers nothing.
            DiscardOutputs(staging.Values);
            RemoveStepRunFolders(stepRunId); // and the outputs that did land
            var message = $"committing its outputs failed: {e.Message.Split('\n')[0].Trim()}";
            _history.RecordStepRun(record with { Ended = DateTimeOffset.UtcNow, Reason = $"{why}; {message}" }, fingerprint, telemetry);
            return finish(new StepResult(node.Name, StepOutcome.Failed, why, stepRunId, null, outcome.ExitCode, [message], clock.Elapsed, logPath, differences, telemetry.Problems), null);
        }
        DeleteStaging(staging.Values);
        GuardedDelete.Folder(work, Path.Combine(_options.IntermediateDirectory, "work"));
        var succeeded = record with { Status = RunStatus.Succeeded, Ended = DateTimeOffset.UtcNow, Outputs = outputs };
        _history.RecordStepRun(succeeded, fingerprint, telemetry);
        ShareResult(succeeded);
        RegisterOutputs(node, outputs, stepRunId);
        return finish(new StepResult(node.Name, StepOutcome.Ran, why, stepRunId, null, 0, outcome.StderrTail, clock.Elapsed, logPath, differences, telemetry.Problems), outputs);
    }

    /// <summary>Runs a step on its compute target, stopping it at its TimeLimit where the target does not.</summary>
    private async Task<ProcessOutcome> RunOnComputeAsync(StepLaunch launch, IComputeBackend backend)
    {
        using var log = new StepLogWriter(launch.LogPath, line => _events.StepOutput(launch.StepName, line), (code, message) => _events.StepWarning(launch.StepName, code, message));
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(_options.Cancellation);
        var timeLimit = launch.Resources.TimeLimit is { } text && !backend.EnforcesTimeLimit ? ResourceUnits.Duration(text) : null;
        if (timeLimit is { } span) limit.CancelAfter(span);
        try
        {
            return await backend.RunAsync(launch, log, limit.Token);
        }
        catch (OperationCanceledException) when (!_options.Cancellation.IsCancellationRequested && timeLimit is not null)
        {
            return log.Failed(124, $"the step was stopped at its time limit ({launch.Resources.TimeLimit}). Raise TimeLimit on the step or its compute target.");
        }
    }

    private IEnumerable<string> LocalDatastoreRoots() =>
        Pipeline.Datastores.Where(d => !d.IsBlob).Select(d => DatastoreRoot(d.Name)).Append(_workspace.DefaultDatastoreRoot).Where(Directory.Exists);

    /// <summary>
    /// Where a running step writes one output: a staging folder, or with Mount the destination itself (a local
    /// datastore's folder), or a staging folder uploaded as it fills (<paramref name="Live"/>, blob).
    /// </summary>
    /// <param name="Owner">The folder <paramref name="Folder"/> lies in and may be deleted from: the datastore's root, or its staging folder.</param>
    private sealed record OutputTarget(StepOutput Output, string Folder, string Destination, bool InPlace, LiveUpload? Live, string Owner);

    private const string InPlaceOutputsFile = "in-place-outputs.tsv";

    /// <summary>How often a blob output in Mount mode is scanned for finished files.</summary>
    private static readonly TimeSpan LiveUploadInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Makes a finished output the step run's: a staged folder is moved to its destination in one rename (no reader sees
    /// half of it) or uploaded; an output written in place stays where it is. Recorded only once every file is there.
    /// </summary>
    private OutputRecord Commit(OutputTarget target, string stepRunId, string work)
    {
        // Until the step run is recorded, a committed output is one more thing to remove if the build stops or fails.
        void Landed() => File.AppendAllLines(Path.Combine(work, InPlaceOutputsFile), [$"{target.Output.DatastoreName}\t{target.Destination}"]);
        var (output, staged, relative) = (target.Output, target.Folder, target.Destination);
        if (_blobs.TryGetValue(output.DatastoreName, out var blob))
        {
            target.Live?.Stop();
            var uploaded = _hashes.HashAll(staged, DatasetFiles.Resolve(staged, ".").RelativePaths);
            if (output.RegisterAs is not null)
            {
                var local = Store(null);
                foreach (var (file, hash) in uploaded) local.Put(Path.Combine(staged, file), hash);
            }
            // Under a prefix no earlier run used ({run-id}); files a Mount upload already sent as they are now are not sent again.
            var sent = target.Live?.Uploaded ?? new Dictionary<string, string>();
            if (target.Live is null) Landed();
            blob.Upload(staged, relative, uploaded.Where(f => sent.GetValueOrDefault(f.Key) != f.Value).ToDictionary());
            foreach (var gone in target.Live?.AllUploaded.Except(uploaded.Keys) ?? []) blob.DeleteBlob($"{relative}/{gone}");
            return new OutputRecord(output.DatastoreName, relative, ContentHash.OfFields(uploaded), uploaded) { Location = LocationOf(output.DatastoreName) };
        }
        var root = DatastoreRoot(output.Datastore);
        var destination = Path.Combine(root, relative);
        if (!target.InPlace)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            if (Directory.Exists(destination))
            {
                var replaced = Path.Combine(root, ".staging", stepRunId, output.Name + ".replaced");
                Directory.Move(destination, replaced);
                Directory.Move(staged, destination);
                Landed();
                GuardedDelete.Folder(replaced, root);
            }
            else
            {
                Directory.Move(staged, destination);
                Landed();
            }
        }

        var files = _hashes.HashAll(destination, DatasetFiles.Resolve(destination, ".").RelativePaths);
        var store = Store(output.Datastore);
        foreach (var (file, hash) in files) store.Put(Path.Combine(destination, file), hash);
        return new OutputRecord(output.DatastoreName, relative, ContentHash.OfFields(files), files) { Location = LocationOf(output.DatastoreName) };
    }

    /// <summary>Stores the snapshot once per content in the workspace, so every run can point at the code it ran.</summary>
    private void KeepSnapshot(SourceSnapshot snapshot)
    {
        var kept = Path.Combine(_workspace.SnapshotsRoot, snapshot.Id);
        if (Directory.Exists(kept)) return;
        var temporary = kept + $".{Guid.NewGuid():N}.tmp";
        snapshot.CopyTo(temporary);
        try
        {
            Directory.Move(temporary, kept);
        }
        catch (IOException) when (Directory.Exists(kept))
        {
            GuardedDelete.Folder(temporary, _workspace.SnapshotsRoot); // another build stored the same snapshot first
        }
    }

    /// <summary>
    /// Lays an input out in a folder of the step's own: private copies (Download mode), or symbolic links (a glob's
    /// matches, a registered version in the content store, blob files in the cache) so no 1 GiB input is copied per
    /// step. Steps read their inputs; one that writes into a linked input writes into the dataset.
    /// </summary>
    private static string LayOut(IReadOnlyDictionary<string, string> sources, string folder, bool copy)
    {
        foreach (var (relative, source) in sources)
        {
            var target = Path.Combine(folder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (copy) File.Copy(source, target);
            else File.CreateSymbolicLink(target, source);
        }
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>
    /// What a killed build left: half-written outputs in staging and step working folders (nothing of it was ever
    /// visible), and its containers and jobs still running on the pipeline's Docker and Slurm targets.
    /// </summary>
    private void RemoveLeftovers(string runId)
    {
        RemoveStepRunFolders(runId + "-*");
        foreach (var target in Pipeline.ComputeTargets.Where(c => c.Kind != ComputeKind.Local))
        {
            try { Backend(target.Name).RemoveLeftoversAsync(runId).GetAwaiter().GetResult(); }
            catch (ComputeException) { } // a target that cannot even be configured fails its steps later, with the cause
        }
    }

    /// <summary>
    /// The staging and work folders of the step runs <paramref name="pattern"/> names, after stopping what still runs
    /// there, and the outputs they wrote in place or committed without recording them (<see cref="InPlaceOutputsFile"/>).
    /// </summary>
    private void RemoveStepRunFolders(string pattern)
    {
        var roots = LocalDatastoreRoots().Select(root => Path.Combine(root, ".staging")).Append(Path.Combine(_options.IntermediateDirectory, "work"));
        foreach (var root in roots.Where(Directory.Exists))
            foreach (var folder in Directory.EnumerateDirectories(root, pattern))
            {
                // First, so that nothing writes again where the rest is removed.
                LocalProcess.StopLeftover(folder);
                var inPlace = Path.Combine(folder, InPlaceOutputsFile);
                foreach (var line in File.Exists(inPlace) ? File.ReadAllLines(inPlace) : [])
                    if (line.Split('\t') is [var datastore, var destination]) RemoveOutput(datastore, destination);
                GuardedDelete.Folder(folder, root);
            }
    }

    /// <summary>Removes what a step that did not succeed wrote: staging folders, outputs written in place, blobs uploaded as they were made.</summary>
    private void DiscardOutputs(IEnumerable<OutputTarget> targets)
    {
        var all = targets.ToList();
        foreach (var target in all.Where(t => t.InPlace || t.Live is not null))
        {
            target.Live?.Stop();
            RemoveOutput(target.Output.DatastoreName, target.Destination);
        }
        DeleteStaging(all);
    }

    private void RemoveOutput(string datastore, string destination)
    {
        if (_blobs.TryGetValue(datastore, out var blob))
        {
            try { blob.Delete(destination); }
            catch (Exception e) when (BlobStore.IsStorageFault(e)) { } // never recorded, so never used: left for the container's own retention
            return;
        }
        var root = DatastoreRoot(datastore);
        var folder = Path.Combine(root, destination);
        GuardedDelete.FolderAndEmptyParents(folder, root);
    }

    /// <summary>Removes a step run's staging folders (one per datastore it writes to), with whatever is left in them.</summary>
    private static void DeleteStaging(IEnumerable<OutputTarget> targets)
    {
        foreach (var (folder, owner) in targets.Where(t => !t.InPlace).Select(t => (Path.GetDirectoryName(t.Folder)!, t.Owner)).Distinct())
            GuardedDelete.Folder(folder, owner);
    }

    private DatastoreLocation? LocationOf(string datastore) =>
        Pipeline.Datastores.FirstOrDefault(d => d.Name == datastore) switch
        {
            null => null,
            { IsBlob: true } blob => new DatastoreLocation(Datastore.AzureBlobKind, blob.Container!, blob.ConnectionVariable ?? BlobStore.DefaultConnectionVariable),
            _ => new DatastoreLocation(Datastore.LocalKind, DatastoreRoot(datastore)),
        };

    private bool IsBlob(string? datastore) => datastore is not null && _blobs.ContainsKey(datastore);

    private string DatastoreRoot(string? name) => _workspace.DatastoreRoot(name, Pipeline.Datastores, Pipeline.ProjectDirectory);

    private StepRunRecord NewRecord(string id, StepNode node, string status, bool ran, string reason) => new()
    {
        Id = id, PipelineRunId = _runId, Step = node.Name, Status = status, Ran = ran, Reason = reason, Compute = node.Step.Compute,
    };

    private static string EnvName(string name) =>
        new(name.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
}
