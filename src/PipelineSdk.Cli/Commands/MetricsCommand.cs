using System.CommandLine;
using System.Text.Json.Nodes;
using PipelineSdk.Cli.Output;
using PipelineSdk.Core.Reporting;

namespace PipelineSdk.Cli.Commands;

/// <summary><c>mlp metrics</c>: what steps logged, one column per run, to compare runs side by side.</summary>
internal static class MetricsCommand
{
    public static Command Create(WorkspaceOption workspace)
    {
        var ids = new Argument<string[]>("run-id") { Description = "One or more pipeline runs to compare.", Arity = ArgumentArity.OneOrMore };
        var json = RunsCommand.JsonOption();
        var metrics = new Command("metrics", "Compare the metrics of runs: a row per step and metric with its last value in each run (JSON: every point).") { ids, json };
        metrics.SetAction(parsed => Mlp.Guard(() =>
        {
            var location = workspace.Resolve(parsed);
            var runIds = parsed.GetValue(ids)!.Distinct(StringComparer.Ordinal).ToList();
            using var history = location.OpenHistory();
            foreach (var runId in runIds)
                if (history?.PipelineRun(runId) is null) throw location.UnknownRun(runId);
            var comparison = MetricComparison.Read(history!, runIds);

            if (parsed.GetValue(json))
            {
                Json.Write(new MetricsJson(runIds, [.. comparison.Points.Select(p => new MetricPointJson(
                    p.Run, p.Step, p.Metric.Name, p.Metric.Kind, Parse(p.Metric.ValueJson), p.Metric.Logged.ToUniversalTime(), p.Metric.Sequence))]));
                return ExitCodes.Success;
            }
            if (comparison.Rows.Count == 0)
            {
                Console.Out.WriteLine($"No metrics were logged in {(runIds.Count == 1 ? "run" : "runs")} {string.Join(", ", runIds)}.");
                return ExitCodes.Success;
            }
            var table = new TextTable(["METRIC", .. runIds]).RightAlign([.. Enumerable.Range(1, runIds.Count)]);
            foreach (var (step, name) in comparison.Rows)
                table.Add([$"{step}/{name}", .. runIds.Select(run => Cell(comparison.Series(run, step, name)))]);
            table.Write(Console.Out);
            return ExitCodes.Success;
        }));
        return metrics;
    }

    /// <summary>The last value of a series, and how many points it has when more than one (a training curve).</summary>
    private static string? Cell(IReadOnlyList<Core.Execution.MetricRecord> series) => series.Count switch
    {
        0 => null,
        1 => MetricComparison.Display(series[0]),
        var n => $"{MetricComparison.Display(series[^1])} ({n} points)",
    };

    private static JsonNode? Parse(string valueJson)
    {
        try
        {
            return JsonNode.Parse(valueJson);
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(valueJson); // recorded before values were checked: keep it as text
        }
    }
}
