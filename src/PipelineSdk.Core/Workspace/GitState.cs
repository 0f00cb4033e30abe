using System.Diagnostics;

namespace PipelineSdk.Core.Workspace;

/// <summary>
/// The git state of the project when a run is submitted, recorded like Azure ML's <c>azureml.git.*</c>
/// properties. Null outside a repository or without git: a project outside git records nothing and does not fail.
/// </summary>
public sealed record GitState(string? Repository, string? Branch, string Commit, bool Dirty)
{
    /// <summary>Two git processes on every build: one status for commit, branch and dirty flag, one for the remote.</summary>
    public static GitState? Read(string directory)
    {
        // Tracked changes only: untracked files (and scanning for them in a big data folder) do not make a run dirty.
        var status = Git(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=no");
        if (status is null) return null;
        var lines = status.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string? Header(string name) => lines.FirstOrDefault(l => l.StartsWith($"# branch.{name} "))?[$"# branch.{name} ".Length..];
        if (Header("oid") is not { } commit || commit == "(initial)") return null;
        var branch = Header("head");
        return new GitState(
            Git(directory, "config", "--get", "remote.origin.url") is { Length: > 0 } url ? url : null,
            branch is null or "(detached)" ? null : branch,
            commit,
            lines.Any(l => !l.StartsWith('#')));
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
