using System.Diagnostics;
using PipelineSdk.Testing;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The real Docker engine and Slurm cluster the compute tests use (<see cref="ServiceScripts"/>).</summary>
public static class ComputeServices
{
    /// <summary>A Python 3.11 image built from this machine's files (no registry is reachable); also tagged as the curated python-3.11's base.</summary>
    public const string PythonImage = "local/python:3.11";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> DockerVariables = new(() =>
    {
        var variables = ServiceScripts.Up(SdkFeed.Instance.RepositoryRoot, "docker");
        Run(variables, "docker", "tag", PythonImage, "python:3.11-slim");
        return variables;
    });

    private static readonly Lazy<IReadOnlyDictionary<string, string>> SlurmVariables = new(() =>
        new Dictionary<string, string>(ServiceScripts.Up(SdkFeed.Instance.RepositoryRoot, "slurm").Concat(DockerVariables.Value)));

    /// <summary>Variables a build needs to reach the engine (DOCKER_HOST).</summary>
    public static IReadOnlyDictionary<string, string> Docker => DockerVariables.Value;

    /// <summary>Variables a build needs to reach the cluster (SLURM_CONF, the REST endpoint and token file) and the nodes' engine.</summary>
    public static IReadOnlyDictionary<string, string> Slurm => SlurmVariables.Value;

    /// <summary>Runs a command of the service's tools (docker, scontrol, squeue) against it; its stdout, or an exception with its stderr.</summary>
    public static string Run(IReadOnlyDictionary<string, string> variables, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (name, value) in variables) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error.Result}");
    }
}
