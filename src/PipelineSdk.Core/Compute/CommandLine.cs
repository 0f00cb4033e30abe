using System.ComponentModel;
using System.Diagnostics;

namespace PipelineSdk.Core.Compute;

/// <summary>Runs a short command and captures what it printed (the Slurm commands).</summary>
public static class CommandLine
{
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>The command's exit code and output; exit code 127 when the program does not exist.</summary>
    public static async Task<Result> RunAsync(string program, IEnumerable<string> arguments, CancellationToken cancel = default)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            return new Result(127, "", $"{program}: {e.Message}");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancel);
            var error = process.StandardError.ReadToEndAsync(cancel);
            await process.WaitForExitAsync(cancel);
            return new Result(process.ExitCode, (await output).Trim(), (await error).Trim());
        }
    }
}
