
namespace PipelineSdk.Core.Compute;

/// <summary>Steps as processes of this machine: the project's interpreter, or the virtual environment of the step's environment.</summary>
public sealed class LocalBackend(string pythonExecutable, VirtualEnvironments environments) : IComputeBackend
{
    public bool EnforcesTimeLimit => false;

    public async Task<ProcessOutcome> RunAsync(StepLaunch launch, StepLogWriter log, CancellationToken cancel)
    {
        var variables = new Dictionary<string, string?>(launch.Variables);
        var python = pythonExecutable;
        if (launch.Environment is { UserManaged: false } environment)
        {
            var venv = await environments.EnsureAsync(environment, launch.ImageBuildLogPath, cancel);
            python = Path.Combine(venv, "bin", "python");
            variables["VIRTUAL_ENV"] = venv;
            variables["PATH"] = $"{Path.Combine(venv, "bin")}{Path.PathSeparator}{System.Environment.GetEnvironmentVariable("PATH")}";
        }
        IReadOnlyList<string> argv = launch.RunsPython ? [python, .. launch.Arguments] : launch.Arguments;
        return await LocalProcess.RunAsync(argv, launch.WorkingDirectory, variables, log, cancel, launch.WorkDirectory);
    }

    /// <summary>A killed build's step processes are stopped with its work folders (<see cref="LocalProcess.StopLeftover"/>), which only the runner knows.</summary>
    public Task RemoveLeftoversAsync(string pipelineRunId) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
