using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using PipelineSdk.Core.Environments;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Environment images on one engine: built through the API from a generated Dockerfile, tagged by the environment's
/// hash, and never rebuilt while that tag exists; user-managed environments use their image as is.
/// </summary>
public sealed class DockerImages(DockerClient client, string? networkMode)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _ready = new();

    /// <summary>The image to run the environment's steps in; what was done to get it is written to <paramref name="logPath"/>.</summary>
    public async Task<string> EnsureAsync(ResolvedEnvironment environment, string logPath, CancellationToken cancel)
    {
        var image = await _ready.GetOrAdd(environment.Image!, _ => new(() => PrepareAsync(environment, logPath, cancel))).Value;
        // Every step run keeps its own build log, also when another step of this build prepared the image.
        if (!File.Exists(logPath)) BuildLog.Note(logPath, $"Image {image} for environment '{environment.Name}' ({environment.Hash}) was prepared for another step of this build; not rebuilt.");
        return image;
    }

    private async Task<string> PrepareAsync(ResolvedEnvironment environment, string logPath, CancellationToken cancel)
    {
        var image = environment.Image!;
        using var log = new StepLogWriter(logPath, _ => { });
        if (await ExistsAsync(image, cancel))
        {
            log.Write($"Image {image} for environment '{environment.Name}' ({environment.Hash}) exists on the engine; not rebuilt.", false);
            return image;
        }
        if (environment.UserManaged)
        {
            log.Write($"Pulling {image} (environment '{environment.Name}' is user-managed: its image runs as is)", false);
            var (repository, tag) = SplitTag(image);
            try
            {
                await client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, new EngineOutput(log), cancel);
            }
            catch (DockerApiException e)
            {
                log.Write(e.ResponseBody, true);
            }
            if (!await ExistsAsync(image, cancel))
                throw new ComputeException($"image {image} of environment '{environment.Name}' is not on the engine and could not be pulled. Build or load it there (docker load, docker build), or fix BaseImage.", Tail(logPath));
            return image;
        }

        var dockerfile = environment.Dockerfile();
        log.Write($"Building {image} for environment '{environment.Name}' ({environment.Hash}):", false);
        foreach (var line in dockerfile.Split('\n', StringSplitOptions.RemoveEmptyEntries)) log.Write("  " + line, false);
        var output = new EngineOutput(log);
        using (var context = Context(dockerfile))
        {
            try
            {
                await client.Images.BuildImageFromDockerfileAsync(
                    new ImageBuildParameters { Tags = [image], NetworkMode = networkMode, Remove = true, ForceRemove = true },
                    context, null, null, output, cancel);
            }
            catch (DockerApiException e)
            {
                output.Fail(e.ResponseBody);
            }
        }
        var error = output.Error;
        if (error is not null || !await ExistsAsync(image, cancel))
            throw new ComputeException($"building the image of environment '{environment.Name}' failed: {error?.Trim() ?? "no image was produced"}. Build log: {logPath}", Tail(logPath));
        log.Write($"Built {image}", false);
        return image;
    }

    private async Task<bool> ExistsAsync(string image, CancellationToken cancel)
    {
        try
        {
            await client.Images.InspectImageAsync(image, cancel);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    private static (string Repository, string Tag) SplitTag(string image) =>
        image.LastIndexOf(':') is var colon and > 0 && !image[colon..].Contains('/') ? (image[..colon], image[(colon + 1)..]) : (image, "latest");

    /// <summary>The build context: the Dockerfile alone, so a build never depends on what else lies in the project.</summary>
    private static MemoryStream Context(string dockerfile)
    {
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "Dockerfile") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)) });
        stream.Position = 0;
        return stream;
    }

    private static IReadOnlyList<string> Tail(string logPath) => File.ReadLines(logPath).TakeLast(15).ToList();

    /// <summary>
    /// The engine's build or pull messages written to the build log as they come, in order and before the call returns
    /// (<see cref="Progress{T}"/> would post them to the thread pool); the first error is kept.
    /// </summary>
    private sealed class EngineOutput(StepLogWriter log) : IProgress<JSONMessage>
    {
        public string? Error { get; private set; }

        public void Report(JSONMessage m)
        {
            if (m.Stream is { } text) foreach (var line in text.TrimEnd('\n').Split('\n')) log.Write(line, false);
            if (m.Status is { } status) log.Write(status, false);
            if ((m.Error?.Message ?? m.ErrorMessage) is { Length: > 0 } message) Fail(message);
        }

        public void Fail(string message)
        {
            Error ??= message;
            log.Write(message, true);
        }
    }
}
