using System.Diagnostics;

namespace PipelineSdk.Testing;

/// <summary>
/// The real services of .ci/services (Docker engine, Slurm cluster) for the end-to-end tests and the bench: the ones
/// .ci/run started (it names their variables files in PIPELINESDK_DOCKER_ENV and PIPELINESDK_SLURM_ENV), else ones
/// started here with the same scripts into /tmp/psdk-&lt;service&gt;, left running for the next run.
/// </summary>
internal static class ServiceScripts
{
    /// <summary>The variables a client of the service needs (DOCKER_HOST, SLURM_CONF, ...), from its variables file.</summary>
    public static IReadOnlyDictionary<string, string> Up(string repositoryRoot, string service)
    {
        var file = Environment.GetEnvironmentVariable($"PIPELINESDK_{service.ToUpperInvariant()}_ENV");
        if (string.IsNullOrEmpty(file))
        {
            var state = Path.Combine(Path.GetTempPath(), $"psdk-{service}");
            var start = new ProcessStartInfo(Path.Combine(repositoryRoot, ".ci", "services", $"{service}.sh")) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("up");
            start.ArgumentList.Add(state);
            using var up = Process.Start(start)!;
            var errors = up.StandardError.ReadToEndAsync();
            up.StandardOutput.ReadToEnd();
            up.WaitForExit();
            if (up.ExitCode != 0) throw new InvalidOperationException($"{service}.sh up {state} failed: {errors.Result}");
            file = Path.Combine(state, "env");
        }
        return File.ReadLines(file).Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
    }
}
