using System.CommandLine;
using PipelineSdk.Cli.Output;
using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Reporting;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Commands;

/// <summary><c>mlp runs list</c> and <c>mlp runs show</c>: the pipeline runs of a workspace, and one run's steps with why each ran.</summary>
internal static class RunsCommand
{
    public static Command Create(WorkspaceOption workspace)
    {
        var runs = new Command("runs", "List pipeline runs, or show one run's steps.");
        runs.Subcommands.Add(List(workspace));
        runs.Subcommands.Add(Show(workspace));
        return runs;
    }

    private static Command List(WorkspaceOption workspace)
    {
        var experiment = new Option<string?>("--experiment", "-e") { Description = "Only runs of this experiment." };
        var status = new Option<string?>("--status", "-s") { Description = $"Only runs with this status ({string.Join(", ", RunStatus.OfPipelineRuns)})." };
        status.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } s && !RunStatus.OfPipelineRuns.Contains(s, StringComparer.OrdinalIgnoreCase))
                r.AddError($"--status takes {string.Join(", ", RunStatus.OfPipelineRuns.SkipLast(1))} or {RunStatus.OfPipelineRuns[^1]}, not '{s}'.");
        });
        var last = new Option<int?>("--last", "-n") { Description = "Only the N most recent runs (after the other filters).", HelpName = "N", CustomParser = r => WholeNumber.Parse(r, 1) };
        var json = JsonOption();
        var list = new Command("list", "List pipeline runs, newest first.") { experiment, status, last, json };
        list.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            using var history = location.OpenHistory();
            IEnumerable<PipelineRunRecord> selected = history?.PipelineRuns().Reverse() ?? [];
            if (parsed.GetValue(experiment) is { } e) selected = selected.Where(r => r.Experiment == e);
            if (parsed.GetValue(status) is { } s) selected = selected.Where(r => string.Equals(r.Status, s, StringComparison.OrdinalIgnoreCase));
            if (parsed.GetValue(last) is { } n) selected = selected.Take(n);
            var rows = selected.Select(r => (Run: r, Steps: history!.StepRuns(r.Id))).ToList();

            if (parsed.GetValue(json))
            {
                Json.Write(rows.Select(r => RunJson.From(r.Run, r.Steps)).ToList());
                return ExitCodes.Success;
            }
            if (rows.Count == 0)
            {
                Console.Out.WriteLine(history is null || !history.PipelineRuns().Any() ? $"No runs in workspace {location.Root} yet." : "No runs match.");
                return ExitCodes.Success;
            }
            var table = new TextTable("RUN", "EXPERIMENT", "STATUS", "STARTED", "DURATION", "RAN", "REUSED", "FAILED", "GIT").RightAlign(4, 5, 6, 7);
            foreach (var (run, steps) in rows)
            {
                var counts = StepCounts.Of(steps);
                table.Add(run.Id, run.Experiment, run.Status, Display.Time(run.Started), RunDuration(run),
                    counts.Ran.ToString(), counts.Reused.ToString(), counts.Failed.ToString(), Display.Git(run.Git));
            }
            table.Write(Console.Out);
            return ExitCodes.Success;
        }));
        return list;
    }

    private static Command Show(WorkspaceOption workspace)
    {
        var id = new Argument<string>("run-id") { Description = "The pipeline run (as `mlp runs list` shows it)." };
        var json = JsonOption();
        var show = new Command("show", "Show a pipeline run: its parameters, git state and every step with why it ran or was reused.") { id, json };
        show.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            var runId = parsed.GetValue(id)!;
            using var history = location.OpenHistory();
            var run = history?.PipelineRun(runId) ?? throw location.UnknownRun(runId);
            var steps = StepRunOrder.Chronological(history.StepRuns(runId));
            if (parsed.GetValue(json))
            {
                Json.Write(RunDetailJson.From(run, steps));
                return ExitCodes.Success;
            }

            var o = Console.Out;
            var counts = StepCounts.Of(steps);
            var header = new List<(string, string)>
            {
                ("Run", run.Id),
                ("Experiment", run.Experiment),
                ("Project", run.Project),
                ("PipelineSdk", run.SdkVersion ?? "-"),
                ("Status", run.Status),
                ("Started", Display.Time(run.Started)),
                ("Ended", run.Ended is null ? "-" : $"{Display.Time(run.Ended)} ({Display.Duration(run.Started, run.Ended)})"),
                ("Parameters", Display.Parameters(run.Parameters)),
                ("Steps", $"{counts.Total} ({counts.Ran} ran, {counts.Reused} reused, {counts.Failed} failed, {counts.Skipped} skipped)"),
            };
            if (run.Git is { } git)
            {
                if (git.Repository is not null) header.Add(("Git repository", git.Repository));
                if (git.Branch is not null) header.Add(("Git branch", git.Branch));
                header.Add(("Git commit", git.Commit));
                header.Add(("Git dirty", git.Dirty ? "yes (uncommitted changes)" : "no"));
            }
            if (run.Summary is not null) header.Add(("Summary", run.Summary));
            var width = header.Max(h => h.Item1.Length) + 2;
            foreach (var (label, value) in header) o.WriteLine((label + ":").PadRight(width) + value);
            o.WriteLine();

            var table = new TextTable("STEP", "STATUS", "RAN/REUSED", "DURATION", "REASON", "COMPUTE", "EXIT").RightAlign(3, 6);
            foreach (var s in steps)
                table.Add(s.Step, s.Status, RanOrReused(s), Display.Duration(s.Started, s.Ended), s.Reason,
                    Placement.Describe(history.Tags(s.Id)) is { } where ? $"{s.Compute} ({where})" : s.Compute, s.ExitCode?.ToString());
            if (table.Count == 0) o.WriteLine("No steps were recorded (yet) for this run.");
            else table.Write(o);
            return ExitCodes.Success;
        }));
        return show;
    }

    private static string RanOrReused(StepRunRecord s) => StepStatuses.Of(s) switch
    {
        StepStatus.Reused => "reused",
        StepStatus.Skipped => "-",
        _ => s.Ran ? "ran" : "-",
    };

    /// <summary>A finished run's duration; a running one's time so far, marked so it is not read as final.</summary>
    private static string RunDuration(PipelineRunRecord run) =>
        run.Ended is not null ? Display.Duration(run.Started, run.Ended)
        : run.Status == RunStatus.Running ? Display.Duration(DateTimeOffset.UtcNow - run.Started) + "+"
        : "-";

    public static Option<bool> JsonOption() => new("--json") { Description = "Print JSON (indented, camelCase) instead of a table." };
}
