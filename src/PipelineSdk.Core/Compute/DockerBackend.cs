using Docker.DotNet;
using Docker.DotNet.Models;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Steps in containers of their environment's image on a Docker engine. The step's folders are bind-mounted at the
/// same paths (inputs read-only), so a step sees exactly what it would see on this machine; the container is removed
/// when the step ends, fails or is cancelled.
/// </summary>
public sealed class DockerBackend : IComputeBackend
{
    /// <summary>Marks every container PipelineSdk starts, so leftovers can be found (docker ps --filter label=...).</summary>
    public const string RunLabel = "org.pipelinesdk.run";

    private readonly ComputeTarget _target;
    private readonly DockerClient _client;
    private readonly DockerImages _images;
    private readonly Lazy<Task> _reachable;

    public DockerBackend(ComputeTarget target)
    {
        _target = target;
        _client = DockerEngine.Connect(target);
        _images = new DockerImages(_client, target.Network);
        _reachable = new(PingAsync);
    }

    public bool EnforcesTimeLimit => false;

    public async Task<ProcessOutcome> RunAsync(StepLaunch launch, StepLogWriter log, CancellationToken cancel)
    {
        await _reachable.Value;
        var image = await _images.EnsureAsync(launch.Environment!, launch.ImageBuildLogPath, cancel);
        string? id = null;
        try
        {
            id = (await _client.Containers.CreateContainerAsync(Container(launch, image), cancel)).ID;
            await _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), cancel);
            using (var stream = await _client.Containers.GetContainerLogsAsync(id, false, new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Follow = true }, cancel))
                await CopyLinesAsync(stream, log, cancel);
            var exit = await _client.Containers.WaitContainerAsync(id, cancel);
            var outcome = exit.StatusCode == 137 && (await _client.Containers.InspectContainerAsync(id, cancel)).State.OOMKilled
                ? log.Failed(137, $"the container was killed for using more than its memory limit ({launch.Resources.Memory}). Raise Memory on the step or its compute target.")
                : log.Outcome((int)exit.StatusCode);
            return outcome with { Placement = new Dictionary<string, string> { [Placement.Container] = id[..12] } };
        }
        catch (DockerApiException e)
        {
            var message = Message(e);
            var hint = message.Contains("path does not exist") ? " The engine's machine must see the project, the workspace and the datastores at the same paths (a shared file system)." : "";
            throw new ComputeException($"the Docker engine at {DockerEngine.Endpoint(_target)} refused the step's container: {message}.{hint}");
        }
        finally
        {
            // Force: a cancelled or failed step's container is killed too; nothing is left on the engine.
            if (id is not null) await _client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, CancellationToken.None);
        }
    }

    public Task RemoveLeftoversAsync(string pipelineRunId) => RemoveContainersAsync(_client, pipelineRunId);

    /// <summary>Removes the containers PipelineSdk started for a run on an engine; an unreachable engine is left alone.</summary>
    public static async Task RemoveContainersAsync(DockerClient client, string pipelineRunId)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            var containers = await client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{RunLabel}={pipelineRunId}"] = true } },
            }, patience.Token);
            foreach (var container in containers)
                await client.Containers.RemoveContainerAsync(container.ID, new ContainerRemoveParameters { Force = true }, patience.Token);
        }
        catch (Exception)
        {
            // Best effort: an engine that is down took its containers with it.
        }
    }

    public static string ContainerName(string stepRunId) =>
        "psdk-" + new string(stepRunId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_').ToArray());

    private CreateContainerParameters Container(StepLaunch launch, string image)
    {
        // Mounts, not binds: an engine that does not see a path refuses the container instead of mounting an empty folder.
        var mounts = launch.Mounts.Select(m => new Mount { Type = "bind", Source = m.Path, Target = m.Path, ReadOnly = m.ReadOnly }).ToList();
        var resources = launch.Resources;
        return new CreateContainerParameters
        {
            Name = ContainerName(launch.StepRunId),
            Image = image,
            Cmd = launch.RunsPython ? ["python3", .. launch.Arguments] : [.. launch.Arguments],
            WorkingDir = launch.WorkingDirectory,
            User = DockerEngine.CurrentUser,
            Env = launch.Variables.Where(v => v.Value is not null).Select(v => $"{v.Key}={v.Value}").ToList(),
            Labels = new Dictionary<string, string> { [RunLabel] = launch.PipelineRunId, ["org.pipelinesdk.step"] = launch.StepName },
            HostConfig = new HostConfig
            {
                Mounts = mounts,
                NetworkMode = _target.Network,
                NanoCPUs = resources.Cpus is { } cpus ? (long)(cpus * 1e9) : 0,
                Memory = resources.Memory is { } memory ? ResourceUnits.MemoryBytes(memory)!.Value : 0,
                DeviceRequests = resources.Gpus is { } gpus && ResourceUnits.GpuCount(gpus) is { } count
                    ? [new DeviceRequest { Count = count, Capabilities = [["gpu"]] }]
                    : null,
            },
        };
    }

    /// <summary>Splits the engine's multiplexed stdout/stderr stream into lines as they arrive.</summary>
    private static async Task CopyLinesAsync(MultiplexedStream stream, StepLogWriter log, CancellationToken cancel)
    {
        var buffer = new byte[81920];
        var stdout = new LineSplitter((line, goesOn) => log.Write(line, false, goesOn));
        var stderr = new LineSplitter((line, goesOn) => log.Write(line, true, goesOn));
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, cancel);
            if (read.EOF) break;
            (read.Target == MultiplexedStream.TargetStream.StandardError ? stderr : stdout).Write(buffer.AsSpan(0, read.Count));
        }
        stdout.Flush();
        stderr.Flush();
    }

    private async Task PingAsync()
    {
        try
        {
            await _client.System.PingAsync();
        }
        catch (Exception e)
        {
            // Whatever stops the ping (no socket, refused TLS, a timeout, an API error) means the same to the step.
            throw new ComputeException($"the Docker engine of compute target '{_target.Name}' at {DockerEngine.Endpoint(_target)} is unreachable ({e.GetBaseException().Message}). Start it, or point DockerEndpoint (or DOCKER_HOST) at a running engine.");
        }
    }

    private static string Message(DockerApiException e) =>
        System.Text.Json.JsonDocument.Parse(e.ResponseBody is { Length: > 0 } body && body.TrimStart().StartsWith('{') ? body : "{}").RootElement
            .TryGetProperty("message", out var m) ? m.GetString()! : e.Message;

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
