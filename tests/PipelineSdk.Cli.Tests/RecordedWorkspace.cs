using System.Diagnostics;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Cli.Tests;

/// <summary>
/// One workspace with real runs, made once for every test that reads it: a project folder in a git repository
/// (workspace.json puts the workspace in ws/), three pipeline runs through the engine with real processes:
/// <list type="bullet">
/// <item><see cref="FirstRun"/> (experiment exp, git clean): prep and train run, fails fails (exit 3), report (RunAfter fails) is skipped;</item>
/// <item><see cref="SecondRun"/> (exp, lr and acc changed, git dirty): prep reused, train runs, fails fails, report skipped;</item>
/// <item><see cref="OtherRun"/> (experiment other): hello succeeds.</item>
/// </list>
/// train logs loss twice and accuracy (0.9, then 0.95); prep logs rows. p.mlproj declares the same steps plus
/// evaluate, which never ran, for `mlp dag`.
/// </summary>
public sealed class RecordedWorkspace
{
    private static readonly Lazy<RecordedWorkspace> Shared = new(() => new RecordedWorkspace());

    public static RecordedWorkspace Instance => Shared.Value;

    private readonly TempDirectory _dir = new();

    private RecordedWorkspace()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _dir.Dispose();
        _dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");
        _dir.WriteFile("data/a.csv", "1,2\n");
        _dir.WriteFile("notes.md", "first\n");
        _dir.WriteFile("p.mlproj", ProjectXml);
        Git("init", "-q", "-b", "main");
        Git("add", "-A");
        Git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "init");
        Commit = Git("rev-parse", "HEAD").Trim();

        FirstRun = Run(Exp("0.1", "0.9"));
        _dir.WriteFile("notes.md", "changed\n"); // a tracked file changed: the next runs record a dirty work tree
        SecondRun = Run(Exp("0.2", "0.95"));
        OtherRun = Run(new Pipeline { ExperimentName = "other", ProjectFile = ProjectFile, Steps = [Sh("hello", "echo hello")] });
    }

    public string Folder => _dir.Path;
    public string ProjectFile => _dir["p.mlproj"];
    public string Workspace => _dir["ws"];
    public string Commit { get; }
    public string FirstRun { get; }
    public string SecondRun { get; }
    public string OtherRun { get; }

    public MlpResult Mlp(params string[] arguments) => MlpTool.Run(Folder, arguments);

    private Pipeline Exp(string lr, string acc) => new()
    {
        ExperimentName = "exp",
        ProjectFile = ProjectFile,
        Steps =
        [
            Sh("prep", """echo preparing; cat "$1"/*.csv > "$2/clean.csv"; echo "{\"kind\":\"metric\",\"name\":\"rows\",\"value\":1}" >> "$PIPELINE_METRICS_FILE" """,
                "{input:raw} {output:clean}"),
            Sh("train", """echo "training lr=$1"; cp "$2/clean.csv" "$3/model.txt"; """ +
                """for l in 0.5 0.3; do echo "{\"kind\":\"metric\",\"name\":\"loss\",\"value\":$l}" >> "$PIPELINE_METRICS_FILE"; done; """ +
                """echo "{\"kind\":\"metric\",\"name\":\"accuracy\",\"value\":$4}" >> "$PIPELINE_METRICS_FILE" """,
                "{param:lr} {input:clean} {output:model} {param:acc}"),
            Sh("fails", "echo about to fail; echo boom >&2; exit 3"),
            Sh("report", "echo report") with { RunAfter = ["fails"] },
        ],
        Datasets = [new FileDataset("raw", "data/*.csv")],
        Outputs = [new StepOutput("clean"), new StepOutput("model")],
        Parameters = [new PipelineParameter("lr", "0.1"), new PipelineParameter("acc", "0.9")],
        ParameterValues = new Dictionary<string, string> { ["lr"] = lr, ["acc"] = acc },
    };

    /// <summary>The project as `mlp dag` reads it (through MSBuild): the same graph as <see cref="Exp"/>, plus evaluate.</summary>
    private static string ProjectXml => $$"""
        <Project>
          <Import Project="{{MlpTool.RepositoryRoot}}samples/PipelineSdk.FromSource.props" />
          <PropertyGroup>
            <ExperimentName>exp</ExperimentName>
          </PropertyGroup>
          <ItemGroup>
            <FileDataset Include="raw" Path="data/*.csv" />
            <StepOutput Include="clean" />
            <StepOutput Include="model" />
            <PipelineParameter Include="lr" Default="0.1" />
            <PipelineParameter Include="acc" Default="0.9" />
            <CommandStep Include="prep" Command="sh -c 'true' sh" Arguments="{input:raw} {output:clean}" />
            <CommandStep Include="train" Command="sh -c 'true' sh" Arguments="{param:lr} {input:clean} {output:model} {param:acc}" />
            <CommandStep Include="fails" Command="sh -c 'exit 3'" />
            <CommandStep Include="report" Command="sh -c 'true'" RunAfter="fails" />
            <CommandStep Include="evaluate" Command="sh -c 'true' sh" Arguments="{input:model}" />
          </ItemGroup>
          <Import Project="{{MlpTool.RepositoryRoot}}samples/PipelineSdk.FromSource.targets" />
        </Project>
        """;

    private string Run(Pipeline pipeline)
    {
        var result = PipelineRunner.Run(pipeline, new RunOptions { IntermediateDirectory = _dir["obj/pipeline"] }, new NoEvents());
        Assert.DoesNotContain(result.Diagnostics, d => !d.IsWarning);
        return result.RunId!;
    }

    /// <summary>A CommandStep running <paramref name="script"/> under sh; <paramref name="arguments"/> become $1, $2, ...</summary>
    public static Step Sh(string name, string script, string arguments = "") => new()
    {
        Name = name,
        Kind = StepKind.Command,
        Command = $"sh -c '{script}' sh",
        Arguments = arguments,
    };

    private string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd();
        var error = git.StandardError.ReadToEnd();
        git.WaitForExit();
        return git.ExitCode == 0 ? output : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {error}");
    }
}

/// <summary>The engine's events, unused: the tests read what the run history recorded.</summary>
internal sealed class NoEvents : IRunEvents
{
    public void StepStarted(string step, string reason) { }
    public void StepFinished(StepResult result) { }
    public void StepOutput(string step, string line) { }
    public void StepWarning(string step, string code, string message) { }
    public void RunNote(string line) { }
}
