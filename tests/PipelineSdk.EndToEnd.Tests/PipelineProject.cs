using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>The outcome of one `dotnet build`: exit code, console output, and the summary line parsed.</summary>
public sealed partial record BuildResult(int ExitCode, string Output)
{
    [GeneratedRegex(@"PipelineSdk: (\S+) run (\S+): (\d+) steps, (\d+) ran, (\d+) reused, (\d+) failed")]
    private static partial Regex SummaryPattern();

    private Match Summary => SummaryPattern().Matches(Output) is { Count: > 0 } m ? m[^1] : throw new Xunit.Sdk.XunitException($"no summary line in:\n{Output}");

    public string RunId => Summary.Groups[2].Value;
    public int Steps => int.Parse(Summary.Groups[3].Value);
    public int Ran => int.Parse(Summary.Groups[4].Value);
    public int Reused => int.Parse(Summary.Groups[5].Value);
    public int Failed => int.Parse(Summary.Groups[6].Value);
    public bool HasSummary => SummaryPattern().IsMatch(Output);

    /// <summary>The steps reported as having run, in any order.</summary>
    public IReadOnlySet<string> StepsThatRan => Regex.Matches(Output, @"^\s*(\S+): ran in ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

    public IReadOnlySet<string> StepsReused => Regex.Matches(Output, @"^\s*(\S+): reused from run ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>The reason a step gave for running.</summary>
    public string ReasonFor(string step) =>
        Regex.Match(Output, $@"^\s*{Regex.Escape(step)}: ran in [\d.]+ s \((.*)\)\s*$", RegexOptions.Multiline) is { Success: true } m
            ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException($"step {step} did not run:\n{Output}");

    public BuildResult ShouldSucceed() => ExitCode == 0 ? this : throw new Xunit.Sdk.XunitException($"build failed ({ExitCode}):\n{Output}");

    public BuildResult ShouldFail() => ExitCode != 0 ? this : throw new Xunit.Sdk.XunitException($"build succeeded but should not have:\n{Output}");
}

/// <summary>A pipeline project in its own temp folder beside the test feed, built with the real `dotnet build`.</summary>
public sealed class PipelineProject
{
    public PipelineProject(string name) : this(name, SdkFeed.Instance.Root, SdkFeed.Instance.NuGetPackages) { }

    /// <param name="feedRoot">A folder set up as a consumer's (<see cref="Testing.LocalSdkFeed"/>): the project is made below it.</param>
    /// <param name="nugetPackages">The NuGet package folder of its builds; null: the machine's own.</param>
    public PipelineProject(string name, string feedRoot, string? nugetPackages)
        : this(new DirectoryInfo(Path.Combine(feedRoot, $"{name}-{Guid.NewGuid().ToString("N")[..8]}")), nugetPackages, name + ".mlproj") { }

    private PipelineProject(DirectoryInfo directory, string? nugetPackages, string projectFileName)
    {
        Directory = directory.FullName;
        System.IO.Directory.CreateDirectory(Directory);
        ProjectFile = Path.Combine(Directory, projectFileName);
        _nugetPackages = nugetPackages;
    }

    /// <summary>An existing folder (a clone of the repository, say) where `dotnet` commands run as a user there would.</summary>
    public static PipelineProject InFolder(string directory, string? nugetPackages) => new(new DirectoryInfo(directory), nugetPackages, "");

    private readonly string? _nugetPackages;

    public string Directory { get; }
    public string ProjectFile { get; }
    public string Workspace => Path.Combine(Directory, PipelineWorkspace.DefaultFolderName);
    public string Datastore => Path.Combine(Workspace, "datastore");

    public static PipelineProject FromSeedSample() => FromSample("SeedPipeline");

    /// <summary>A sample of samples/, copied and switched from the in-repo import to <c>Sdk="PipelineSdk"</c>.</summary>
    public static PipelineProject FromSample(string name) => FromSample(name, new PipelineProject(name));

    /// <summary>A sample copied into <paramref name="project"/>'s folder, as <see cref="FromSample(string)"/> does.</summary>
    public static PipelineProject FromSample(string name, PipelineProject project)
    {
        var sample = Path.Combine(SdkFeed.Instance.RepositoryRoot, "samples", name);
        foreach (var file in System.IO.Directory.EnumerateFiles(sample, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(sample, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is ".mlworkspace" or "obj" or "bin" || relative.Contains("__pycache__")) continue;
            project.Write(relative, File.ReadAllText(file));
        }
        var text = File.ReadAllText(project.ProjectFile);
        text = Regex.Replace(text, @"<Project>", "<Project Sdk=\"PipelineSdk\">");
        text = Regex.Replace(text, @"\s*<Import Project=""\.\.\\PipelineSdk\.FromSource\.(props|targets)"" />", "");
        File.WriteAllText(project.ProjectFile, text);
        return project;
    }

    /// <summary>Writes a project whose body (items, properties) is <paramref name="body"/>.</summary>
    public PipelineProject WithProject(string body)
    {
        File.WriteAllText(ProjectFile, $"<Project Sdk=\"PipelineSdk\">\n{body}\n</Project>\n");
        return this;
    }

    /// <summary>Rewrites the project file through <paramref name="edit"/>.</summary>
    public PipelineProject EditProject(Func<string, string> edit)
    {
        File.WriteAllText(ProjectFile, edit(File.ReadAllText(ProjectFile)));
        return this;
    }

    public PipelineProject Write(string relativePath, string content)
    {
        var path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public string Read(string relativePath) => File.ReadAllText(Path.Combine(Directory, relativePath));

    public BuildResult Build(params string[] arguments) => Dotnet(["build", ProjectFile, .. arguments]);

    /// <summary>Variables every build of this project gets (a datastore's connection string, say).</summary>
    public Dictionary<string, string> Environment { get; } = [];

    public BuildResult Dotnet(params string[] arguments) => StartDotnet(arguments).WaitForExit();

    /// <summary>Starts `dotnet build` without waiting, for tests that kill it or run two at once.</summary>
    public RunningBuild StartBuild(params string[] arguments) => StartDotnet(["build", ProjectFile, .. arguments]);

    private RunningBuild StartDotnet(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var a in new[] { "-nodeReuse:false", "-tl:off", "-nologo" }) start.ArgumentList.Add(a);
        if (!arguments.Any(a => a.StartsWith("-v:"))) start.ArgumentList.Add("-v:n");
        // The test host runs under `dotnet test`, whose MSBuild variables must not leak into the build under test.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
            start.Environment.Remove(key);
        if (_nugetPackages is not null) start.Environment["NUGET_PACKAGES"] = _nugetPackages;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (name, value) in Environment) start.Environment[name] = value;
        return new RunningBuild(Process.Start(start)!, string.Join(' ', arguments));
    }

    public RunHistory History() => RunHistory.Open(Path.Combine(Workspace, "runs.db"));

    /// <summary>Runs the built `mlp` tool in the project folder, as a user there would.</summary>
    public (int Exit, string Stdout, string Stderr) Mlp(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(SdkFeed.Instance.RepositoryRoot, "artifacts", "bin", "PipelineSdk.Cli", "debug", "mlp.dll"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (name, value) in Environment) start.Environment[name] = value;
        using var mlp = Process.Start(start)!;
        var stderr = mlp.StandardError.ReadToEndAsync();
        var stdout = mlp.StandardOutput.ReadToEnd();
        mlp.WaitForExit();
        return (mlp.ExitCode, stdout, stderr.Result);
    }
}

/// <summary>A `dotnet` process whose output is collected as it comes.</summary>
public sealed class RunningBuild
{
    private readonly Process _process;
    private readonly string _command;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    public RunningBuild(Process process, string command)
    {
        _process = process;
        _command = command;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    /// <summary>Waits for the end, sampling the build process's resident memory; returns the result and the peak (bytes).</summary>
    public (BuildResult Result, long PeakBytes) WaitForExitMeasuringMemory()
    {
        long peak = 0;
        while (!_process.HasExited)
        {
            try
            {
                var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:"));
                if (line is not null) peak = Math.Max(peak, long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024);
            }
            catch (IOException) { }
            Thread.Sleep(20);
        }
        return (WaitForExit(), peak);
    }

    public string Output
    {
        get { lock (_gate) return _output.ToString(); }
    }

    /// <summary>Waits until the output holds <paramref name="text"/>; fails if the build ends first.</summary>
    public void WaitForOutput(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"'{text}' never appeared in the output of dotnet {_command}:\n{Output}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Ctrl+C: SIGINT to the build, which cancels its steps.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString()]);
        kill.WaitForExit();
    }

    /// <summary>SIGTERM to the build, as CI cancellation, <c>timeout</c> and <c>docker stop</c> send it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()]);
        kill.WaitForExit();
    }

    public void Kill()
    {
        _process.Kill(); // SIGKILL to the build alone: its step processes are orphaned, as after a crash
        _process.WaitForExit();
    }

    /// <summary>Waits for the end (5 minutes unless <paramref name="timeout"/> says otherwise); a build still running then is killed and the test fails.</summary>
    public BuildResult WaitForExit(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        if (!_process.WaitForExit(limit))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {_command} did not finish in {limit.TotalSeconds:0} s:\n{Output}");
        }
        _process.WaitForExit();
        return new BuildResult(_process.ExitCode, Output);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.AppendLine(line);
    }
}
