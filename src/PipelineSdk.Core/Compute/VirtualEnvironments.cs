using System.Collections.Concurrent;
using PipelineSdk.Core.Environments;
using PipelineSdk.Core.FileSystem;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Environments that are not user-managed, for steps that run as plain processes: a Python virtual environment per
/// environment hash under the workspace, created once (pip needs a reachable package index) and never changed after.
/// </summary>
public sealed class VirtualEnvironments(string root, string python)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _ready = new();

    /// <summary>The folder of the environment's virtual environment, creating it the first time; its build log goes to <paramref name="logPath"/>.</summary>
    public async Task<string> EnsureAsync(ResolvedEnvironment environment, string logPath, CancellationToken cancel)
    {
        var folder = await _ready.GetOrAdd(environment.Hash, _ => new(() => CreateAsync(environment, logPath, cancel))).Value;
        if (!File.Exists(logPath)) BuildLog.Note(logPath, $"Virtual environment for '{environment.Name}' ({environment.Hash}) at {folder} was prepared for another step of this build; not rebuilt.");
        return folder;
    }

    private async Task<string> CreateAsync(ResolvedEnvironment environment, string logPath, CancellationToken cancel)
    {
        var folder = Path.Combine(root, environment.Hash[..16]);
        using var log = new StepLogWriter(logPath, _ => { });
        if (File.Exists(Path.Combine(folder, "pyvenv.cfg")))
        {
            log.Write($"Virtual environment for '{environment.Name}' ({environment.Hash}) exists at {folder}; not rebuilt.", false);
            return folder;
        }
        if (environment.CondaPackages.Count > 0)
            throw new ComputeException($"environment '{environment.Name}' lists conda packages, which this target installs only into an image. Run the step on a Docker target, or list the packages as PipPackages.");

        // Built aside and renamed into place, so no step ever sees half an environment, whichever build gets there first.
        var building = $"{folder}.{Guid.NewGuid():N}.tmp";
        log.Write($"Creating virtual environment for '{environment.Name}' ({environment.Hash}) with {python}", false);
        var steps = new List<IReadOnlyList<string>> { new[] { python, "-m", "venv", building } };
        if (environment.PipPackages.Count > 0)
            steps.Add([Path.Combine(building, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                .. environment.PipPackages.SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries))]);
        foreach (var argv in steps)
        {
            log.Write($"$ {string.Join(' ', argv)}", false);
            var outcome = await LocalProcess.RunAsync(argv, Path.GetTempPath(), new Dictionary<string, string?>(), log, cancel);
            if (outcome.ExitCode == 0) continue;
            GuardedDelete.Folder(building, Path.GetDirectoryName(folder)!);
            throw new ComputeException($"building environment '{environment.Name}' failed ('{argv[2]}' exited with {outcome.ExitCode}; installing packages needs a reachable package index). Build log: {logPath}", outcome.StderrTail);
        }
        try
        {
            Directory.Move(building, folder);
        }
        catch (IOException) when (Directory.Exists(folder))
        {
            GuardedDelete.Folder(building, Path.GetDirectoryName(folder)!); // another build made the same environment first
        }
        log.Write($"Created {folder}", false);
        return folder;
    }
}
