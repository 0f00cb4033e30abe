using System.Diagnostics;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// A folder bind-mounted read-only over itself until disposed. The tests run as root, whom file permissions
/// (chmod a-w) do not stop from writing; a read-only mount stops everyone. Checked to refuse a write.
/// </summary>
public sealed class ReadOnlyMount : IDisposable
{
    public ReadOnlyMount(string folder)
    {
        Folder = folder;
        Mount("--bind", folder, folder);
        try
        {
            Mount("-o", "remount,bind,ro", folder);
            if (AcceptsWrite(folder)) throw new InvalidOperationException($"{folder} is still writable after remounting it read-only");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Folder { get; }

    public void Dispose() => Run("umount", Folder);

    private static bool AcceptsWrite(string folder)
    {
        var probe = Path.Combine(folder, $".write-probe-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Mount(params string[] arguments) => Run("mount", arguments);

    internal static void Run(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }
}
