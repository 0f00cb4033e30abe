using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using PipelineSdk.Cli.Output;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Cli.Commands;

/// <summary><c>mlp gc</c>: removes intermediate outputs and stored copies that no kept run and no registered dataset uses.</summary>
internal static partial class GcCommand
{
    [GeneratedRegex(@"^(\d+)([smhd])$")]
    private static partial Regex DurationPattern();

    public static Command Create(WorkspaceOption workspace)
    {
        var keepLast = new Option<int>("--keep-last")
        {
            Description = "Keep the outputs of the N most recent runs of each experiment.", DefaultValueFactory = _ => 5, HelpName = "N", CustomParser = r => WholeNumber.Parse(r, 0),
        };
        var olderThan = new Option<TimeSpan>("--older-than") { Description = "Also keep runs younger than this (30m, 12h, 7d); only older ones are collected.", HelpName = "AGE", CustomParser = Age };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be removed; remove nothing." };
        var json = RunsCommand.JsonOption();
        var gc = new Command("gc", "Remove intermediate outputs of old runs and stored copies nothing uses (registered datasets and kept runs stay).") { keepLast, olderThan, dryRun, json };
        gc.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            using var history = location.OpenHistory(toWrite: !parsed.GetValue(dryRun));
            if (history is null)
            {
                Console.Out.WriteLine($"Nothing to collect: no runs in workspace {location.Root}.");
                return ExitCodes.Success;
            }
            if (history.PipelineRuns().FirstOrDefault(r => r.Status == RunStatus.Running && history.IsBuildAlive(r.Id)) is { } running)
                throw new MlpException($"run {running.Id} of {running.Experiment} is still building; collect when it is done", ExitCodes.Failure);

            var result = GarbageCollector.Collect(location.Workspace, history, parsed.GetValue(keepLast), parsed.GetValue(olderThan), parsed.GetValue(dryRun));
            if (parsed.GetValue(json))
            {
                Json.Write(new GcJson(result.DryRun, result.KeptRuns, result.CollectedRuns, result.Bytes, result.Removed.Select(r => new GcItemJson(r.Kind, r.Path, r.Bytes)).ToList(), result.Skipped));
                return ExitCodes.Success;
            }
            var verb = result.DryRun ? "would remove" : "removed";
            foreach (var item in result.Removed) Console.Out.WriteLine($"{verb} {item.Kind} {item.Path} ({Display.Bytes(item.Bytes)})");
            foreach (var why in result.Skipped) Console.Error.WriteLine($"mlp gc: kept {why}");
            Console.Out.WriteLine($"mlp gc: {verb} {result.Removed.Count(r => r.Kind == "output")} output folders and {result.Removed.Count(r => r.Kind == "stored")} stored files, "
                + $"{Display.Bytes(result.Bytes)}; kept the outputs of {result.KeptRuns} runs, collected those of {result.CollectedRuns}");
            return ExitCodes.Success;
        }));
        return gc;
    }

    /// <summary>A number and a unit; anything else, or an age longer than a TimeSpan holds, is a usage error naming the word.</summary>
    private static TimeSpan Age(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var m = DurationPattern().Match(text);
        if (m.Success && long.TryParse(m.Groups[1].Value, out var n))
        {
            var unit = m.Groups[2].Value switch { "s" => TimeSpan.TicksPerSecond, "m" => TimeSpan.TicksPerMinute, "h" => TimeSpan.TicksPerHour, _ => TimeSpan.TicksPerDay };
            if (n <= TimeSpan.MaxValue.Ticks / unit) return TimeSpan.FromTicks(n * unit);
        }
        result.AddError($"--older-than takes a number and s, m, h or d (30m, 12h, 7d), not '{text}'.");
        return TimeSpan.Zero;
    }
}
