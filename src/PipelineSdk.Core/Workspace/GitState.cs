using System.Diagnostics;

namespace PipelineSdk.Core.Workspace;

/// <summary>
/// The git state of the project when a run is submitted, recorded like Azure ML's <c>azureml.git.*</c>
/// properties. Null outside a repository or without git: a project outside git records nothing and does not fail.
/// </summary>
public sealed record GitState(string? Repository, string? Branch, string Commit, bool Dirty)
{
    public static GitState? Read(string directory)
    {
        var commit = Git(directory, "rev-parse", "HEAD");
        if (commit is null) return null;
        var branch = Git(directory, "rev-parse", "--abbrev-ref", "HEAD");
        // Tracked changes only: untracked files (and scanning for them in a big data folder) do not make a run dirty.
        var status = Git(directory, "status", "--porcelain", "--untracked-files=no");
        return new GitState(
            Git(directory, "config", "--get", "remote.origin.url") is { Length: > 0 } url ? url : null,
            branch is null or "HEAD" ? null : branch,
            commit,
            !string.IsNullOrEmpty(status));
    }

    /// <summary>The trimmed stdout of a git command, or null when git is missing or the command fails.</summary>
    private static string? Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-C");
        start.ArgumentList.Add(directory);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var git = Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd();
            git.StandardError.ReadToEnd();
            git.WaitForExit();
            return git.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
