using System.CommandLine;
using PipelineSdk.Core.Reporting;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Commands;

/// <summary><c>mlp logs</c>: the std_log.txt of a run's steps, and with --follow what they write while the run goes on.</summary>
internal static class LogsCommand
{
    /// <summary>How often --follow looks for new lines and asks whether the run is still running.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create(WorkspaceOption workspace)
    {
        var id = new Argument<string>("run-id") { Description = "The pipeline run." };
        var step = new Argument<string?>("step") { Description = "Only this step's log.", Arity = ArgumentArity.ZeroOrOne };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines while the run is Running; stop when it is not." };
        var logs = new Command("logs", "Print the logs (stdout and stderr) of a run's steps; a reused step shows the log of the run it reused.") { id, step, follow };
        // The asynchronous overload only for its token, which Ctrl+C cancels: --follow then ends like `tail -f` does.
        logs.SetAction((parsed, cancel) => Task.FromResult(Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            var runId = parsed.GetValue(id)!;
            var only = parsed.GetValue(step);
            using var history = location.OpenHistory();
            if (history?.PipelineRun(runId) is null) throw location.UnknownRun(runId);

            var printer = new LogPrinter(Console.Out, headers: only is null);
            var following = parsed.GetValue(follow);
            while (true)
            {
                // Read the status before the logs: whatever was written before the run stopped is then in this last pass.
                // A build killed mid-run leaves its run Running until the next build: follow only while the build lives.
                var running = following && history.PipelineRun(runId)!.Status == RunStatus.Running && history.IsBuildAlive(runId);
                var logs = StepLogs.Of(history, location.Workspace, runId).Where(l => only is null || l.Step == only).ToList();
                printer.Print(logs, final: !running, expectSeveral: following);
                if (!running) break;
                cancel.WaitHandle.WaitOne(PollInterval);
                cancel.ThrowIfCancellationRequested();
            }

            if (only is not null && !printer.Printed(only))
            {
                var record = history.StepRuns(runId).FirstOrDefault(s => s.Step == only);
                if (record is null) throw new MlpException($"run '{runId}' has no step '{only}'", ExitCodes.Usage);
                throw new MlpException($"step '{only}' of run '{runId}' has no log ({record.Status.ToLowerInvariant()}: {record.Reason})");
            }
            return ExitCodes.Success;
        })));
        return logs;
    }
}
