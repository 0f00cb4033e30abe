using System.Collections.Concurrent;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Tests;

/// <summary>
/// A project folder in a temp directory with a workspace.json that puts the workspace in <c>ws/</c> beside the
/// project, so every test has its own run history and datastore.
/// </summary>
internal sealed class PipelineProject : IDisposable
{
    public PipelineProject(TempDirectory? dir = null)
    {
        Dir = dir ?? new TempDirectory();
        Dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");
        Dir.WriteFile("p.mlproj", "<Project />\n");
    }

    public TempDirectory Dir { get; }
    public string ProjectFile => Dir["p.mlproj"];
    public string Workspace => Dir["ws"];
    public string Outputs => Dir["ws/datastore/outputs"];
    public RunEvents Events { get; } = new();

    public Pipeline Pipeline(IReadOnlyList<Step> steps, IReadOnlyList<StepOutput>? outputs = null, IReadOnlyList<FileDataset>? datasets = null,
        IReadOnlyList<PipelineParameter>? parameters = null, IReadOnlyList<ComputeTarget>? computes = null, IReadOnlyDictionary<string, string>? values = null) => new()
    {
        ExperimentName = "exp",
        ProjectFile = ProjectFile,
        Steps = steps,
        Outputs = outputs ?? [],
        Datasets = datasets ?? [],
        Parameters = parameters ?? [],
        ComputeTargets = computes ?? [],
        ParameterValues = values ?? new Dictionary<string, string>(),
    };

    public RunOptions Options => new() { IntermediateDirectory = Dir["obj/pipeline"] };

    public PipelineResult Run(Pipeline pipeline, RunOptions? options = null) => PipelineRunner.Run(pipeline, options ?? Options, Events);

    public RunHistory History() => RunHistory.Open(Path.Combine(Workspace, "runs.db"));

    /// <summary>The committed folder of output <paramref name="name"/> written by step run <paramref name="stepRunId"/> (default destination).</summary>
    public string Output(string stepRunId, string name) => Path.Combine(Outputs, stepRunId, name);

    /// <summary>A CommandStep running <paramref name="script"/> under sh; <paramref name="arguments"/> become $1, $2, ...</summary>
    public static Step Sh(string name, string script, string arguments = "") => new()
    {
        Name = name,
        Kind = StepKind.Command,
        Command = $"sh -c '{script}' sh",
        Arguments = arguments,
    };

    public void Dispose() => Dir.Dispose();
}

internal sealed class RunEvents : IRunEvents
{
    public ConcurrentQueue<(string Step, string Reason)> Started { get; } = new();
    public ConcurrentQueue<StepResult> Finished { get; } = new();
    public ConcurrentQueue<(string Step, string Line)> Output { get; } = new();

    public void StepStarted(string step, string reason) => Started.Enqueue((step, reason));
    public void StepFinished(StepResult result) => Finished.Enqueue(result);
    public ConcurrentQueue<(string Step, string Code, string Message)> Warnings { get; } = new();

    public void StepOutput(string step, string line) => Output.Enqueue((step, line));
    public void StepWarning(string step, string code, string message) => Warnings.Enqueue((step, code, message));
    public void RunNote(string line) { }
}

internal static class PipelineResultExtensions
{
    public static StepResult Step(this PipelineResult result, string name) => result.Steps.Single(s => s.Step == name);
}
