using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace PipelineSdk.Cli.Tests;

/// <summary>What one `mlp` process did.</summary>
public sealed record MlpResult(int ExitCode, string Stdout, string Stderr, string Command)
{
    public MlpResult ShouldSucceed() =>
        ExitCode == 0 ? this : throw new Xunit.Sdk.XunitException($"{Command} exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");

    /// <summary>stdout parsed as JSON (which also asserts that it is JSON and nothing else).</summary>
    public JsonElement Json()
    {
        ShouldSucceed();
        using var doc = JsonDocument.Parse(Stdout);
        return doc.RootElement.Clone();
    }

    public string[] Lines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the built tool as a user would (<c>dotnet mlp.dll</c>), from its own output folder.</summary>
public static class MlpTool
{
    public static string RepositoryRoot { get; } = typeof(MlpTool).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>artifacts/bin/PipelineSdk.Cli/&lt;pivot&gt;/mlp.dll, the pivot (debug, release) being this test assembly's.</summary>
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        var mlp = System.IO.Path.Combine(here.Parent!.Parent!.FullName, "PipelineSdk.Cli", here.Name, "mlp.dll");
        return File.Exists(mlp) ? mlp : throw new FileNotFoundException($"mlp is not built at {mlp}; build src/PipelineSdk.Cli first");
    }

    public static MlpResult Run(string workingDirectory, params string[] arguments) => Start(workingDirectory, arguments).Wait(TimeSpan.FromSeconds(60));

    public static RunningMlp Start(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // The test host runs under `dotnet test`, whose MSBuild variables must not reach the tool (nor the MSBuild it starts).
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        return new RunningMlp(Process.Start(start)!, "mlp " + string.Join(' ', arguments));
    }
}

/// <summary>An `mlp` process whose output is collected as it comes.</summary>
public sealed class RunningMlp
{
    private readonly Process _process;
    private readonly string _command;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public RunningMlp(Process process, string command)
    {
        _process = process;
        _command = command;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public MlpResult Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{_command} did not finish in {timeout.TotalSeconds} s:\n{Stdout}");
        }
        _process.WaitForExit(); // drains the redirected streams
        lock (_stderr) return new MlpResult(_process.ExitCode, Stdout, _stderr.ToString(), _command);
    }
}
