using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Steps as Slurm batch jobs (AmlCompute's counterpart). The job runs the step in its working folder on whichever node
/// Slurm picks, so the project, the workspace and the datastores must be on a file system the nodes share at the same
/// paths; the job checks that first and says so when it does not hold. An environment with an image runs in a container
/// on the node (the node's Docker engine); a user-managed one without an image runs the node's interpreter.
/// </summary>
public sealed class SlurmBackend : IComputeBackend
{
    /// <summary>The exit code of a job that could not see the step's folder on its node.</summary>
    public const int NotSharedExitCode = 97;

    private readonly ComputeTarget _target;
    private readonly string _python;
    private readonly VirtualEnvironments _virtualEnvironments;
    private readonly ISlurmScheduler _scheduler;
    private readonly Lazy<Task> _reachable;
    private readonly Lazy<DockerClient> _docker;
    private readonly Lazy<DockerImages> _images;

    public SlurmBackend(ComputeTarget target, string python, VirtualEnvironments virtualEnvironments)
    {
        _target = target;
        _python = python;
        _virtualEnvironments = virtualEnvironments;
        _scheduler = target.RestEndpoint is { } rest ? new SlurmRest(rest, target) : new SlurmCli();
        _reachable = new(() => _scheduler.CheckAsync(target.Partition, CancellationToken.None));
        _docker = new(() => DockerEngine.Connect(target));
        _images = new(() => new DockerImages(_docker.Value, target.Network));
    }

    public bool EnforcesTimeLimit => true;

    public async Task<ProcessOutcome> RunAsync(StepLaunch launch, StepLogWriter log, CancellationToken cancel)
    {
        await _reachable.Value;
        var variables = launch.Variables.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value!);
        variables["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        var environment = launch.Environment;
        string? image = null;
        var python = _python;
        if (environment?.Image is not null)
        {
            image = await _images.Value.EnsureAsync(environment, launch.ImageBuildLogPath, cancel);
            variables["DOCKER_HOST"] = DockerEngine.Endpoint(_target);
        }
        else if (environment is { UserManaged: false })
        {
            var venv = await _virtualEnvironments.EnsureAsync(environment, launch.ImageBuildLogPath, cancel);
            python = Path.Combine(venv, "bin", "python");
            variables["PATH"] = $"{Path.Combine(venv, "bin")}:{variables["PATH"]}";
        }

        var output = Path.Combine(launch.WorkDirectory, "slurm-stdout.txt");
        var error = Path.Combine(launch.WorkDirectory, "slurm-stderr.txt");
        var scriptPath = Path.Combine(launch.WorkDirectory, "job.sh");
        var script = Script(launch, scriptPath, image, image is null ? python : "python3", variables);
        await File.WriteAllTextAsync(scriptPath, script, cancel);
        var job = new SlurmJob($"psdk-{launch.StepName}", launch.PipelineRunId, scriptPath, script, launch.WorkingDirectory, output, error, _target.Partition, launch.Resources, variables);
        var id = await _scheduler.SubmitAsync(job, cancel);
        log.Write($"PipelineSdk: submitted as job {id} to {_scheduler.Describe}{(_target.Partition is { } p ? $", partition {p}" : "")}", false);

        using var stdout = new FollowedFile(output, log, isError: false);
        using var stderr = new FollowedFile(error, log, isError: true);
        try
        {
            var delay = TimeSpan.FromMilliseconds(50);
            SlurmJobState state;
            while (true)
            {
                state = await _scheduler.StateAsync(id, cancel);
                stdout.CopyNewLines();
                stderr.CopyNewLines();
                if (state.Finished) break;
                await Task.Delay(delay, cancel);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 1000));
            }
            // The output files may lag the job's end on a shared file system: read once more.
            stdout.CopyNewLines(final: true);
            stderr.CopyNewLines(final: true);
            var outcome = state.State switch
            {
                "COMPLETED" => log.Outcome(0),
                "FAILED" when state.ExitCode == NotSharedExitCode => log.Failed(NotSharedExitCode, $"job {id} could not see the step's folder {launch.WorkDirectory} on node {state.Nodes}: the project, the workspace and the datastores must be on a file system the build machine and the nodes share, at the same paths."),
                "FAILED" => log.Outcome(state.Signal > 0 ? 128 + state.Signal : state.ExitCode),
                "NODE_FAIL" => log.Failed(-1, $"node {state.Nodes} failed while job {id} ran the step (NODE_FAIL). The cluster lost it; run the build again once the node is back or drained."),
                "TIMEOUT" => log.Failed(124, $"job {id} reached its time limit ({launch.Resources.TimeLimit}). Raise TimeLimit on the step or its compute target."),
                "OUT_OF_MEMORY" => log.Failed(137, $"job {id} used more than its memory ({launch.Resources.Memory}). Raise Memory on the step or its compute target."),
                "CANCELLED" => log.Failed(-1, $"job {id} was cancelled outside the build{(state.Reason is { } r ? $" ({r})" : "")}."),
                var other => log.Failed(-1, $"job {id} ended {other} on {state.Nodes ?? "no node"}{(state.Reason is { } r ? $" ({r})" : "")}."),
            };
            var placement = new Dictionary<string, string> { [Placement.Job] = id };
            if (state.Nodes is { } nodes) placement[Placement.Node] = nodes;
            return outcome with { Placement = placement };
        }
        catch (OperationCanceledException)
        {
            // scancel stops the docker client on the node, not its container: remove that from the engine first.
            if (image is not null) await RemoveContainerAsync(launch);
            await _scheduler.CancelAsync(id);
            // Gone from the queue before the build ends, not just signalled.
            for (var waited = 0; waited < 150 && !(await _scheduler.StateAsync(id, CancellationToken.None)).Finished; waited++)
                await Task.Delay(100, CancellationToken.None);
            throw;
        }
        finally
        {
            if (image is not null) await RemoveContainerAsync(launch);
        }
    }

    public async Task RemoveLeftoversAsync(string pipelineRunId)
    {
        try { await _scheduler.CancelByCommentAsync(pipelineRunId); }
        catch (Exception e) when (e is not OperationCanceledException) { } // best effort, as for any unreachable target
        // Cancelled jobs leave their containers on the nodes' engine.
        await DockerBackend.RemoveContainersAsync(_docker.Value, pipelineRunId);
    }

    private async Task RemoveContainerAsync(StepLaunch launch)
    {
        try { await _docker.Value.Containers.RemoveContainerAsync(DockerBackend.ContainerName(launch.StepRunId), new ContainerRemoveParameters { Force = true }); }
        catch (DockerContainerNotFoundException) { }
    }

    /// <summary>The job script: check the shared path, set the step's variables, then exec the step (in its container when it has an image).</summary>
    private string Script(StepLaunch launch, string scriptPath, string? image, string python, IReadOnlyDictionary<string, string> variables)
    {
        var argv = launch.RunsPython ? [python, .. launch.Arguments] : launch.Arguments;
        var text = new StringBuilder("#!/bin/sh\n");
        text.Append($"# PipelineSdk: step {launch.StepName}, run {launch.StepRunId}\n");
        text.Append("echo \"PipelineSdk: step runs on node ${SLURMD_NODENAME:-$(hostname)} as job $SLURM_JOB_ID\"\n");
        text.Append($"if [ ! -f {Quote(scriptPath)} ]; then echo \"PipelineSdk: {scriptPath} is not visible on node ${{SLURMD_NODENAME:-$(hostname)}}\" >&2; exit {NotSharedExitCode}; fi\n");
        foreach (var (name, value) in variables) text.Append($"export {name}={Quote(value)}\n");
        text.Append($"cd {Quote(launch.WorkingDirectory)} || exit {NotSharedExitCode}\n");
        if (image is null)
        {
            text.Append("exec ").AppendJoin(' ', argv.Select(Quote)).Append('\n');
            return text.ToString();
        }
        var docker = new List<string>
        {
            "docker", "run", "--rm", "--name", DockerBackend.ContainerName(launch.StepRunId), "--label", $"{DockerBackend.RunLabel}={launch.PipelineRunId}",
            "--user", DockerEngine.CurrentUser, "--workdir", launch.WorkingDirectory,
        };
        if (_target.Network is { } network) docker.AddRange(["--network", network]);
        if (launch.Resources.Cpus is { } cpus) docker.AddRange(["--cpus", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        if (launch.Resources.Memory is { } memory) docker.AddRange(["--memory", ResourceUnits.MemoryBytes(memory)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        foreach (var (path, readOnly) in launch.Mounts) docker.AddRange(["--volume", $"{path}:{path}:{(readOnly ? "ro" : "rw")}"]);
        foreach (var name in variables.Keys.Where(n => n is not "PATH" and not "DOCKER_HOST")) docker.AddRange(["--env", name]);
        text.Append("exec ").AppendJoin(' ', docker.Concat([image]).Concat(argv).Select(Quote)).Append('\n');
        return text.ToString();
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";

    public ValueTask DisposeAsync()
    {
        if (_docker.IsValueCreated) _docker.Value.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A job's output file read as it grows, line by line.</summary>
    private sealed class FollowedFile(string path, StepLogWriter log, bool isError) : IDisposable
    {
        private readonly LineSplitter _lines = new((line, goesOn) => log.Write(line, isError, goesOn));
        private readonly byte[] _buffer = new byte[65536];
        private FileStream? _stream;

        public void CopyNewLines(bool final = false)
        {
            if (_stream is null)
            {
                if (!File.Exists(path)) return;
                _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            int read;
            while ((read = _stream.Read(_buffer)) > 0) _lines.Write(_buffer.AsSpan(0, read));
            if (final) _lines.Flush();
        }

        public void Dispose() => _stream?.Dispose();
    }
}
