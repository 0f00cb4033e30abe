using System.Globalization;
using System.Text.Json;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Workspace;

namespace PipelineSdk.Core.Reporting;

/// <summary>One logged point of a metric, with the pipeline run and step it belongs to.</summary>
public sealed record MetricPoint(string Run, string Step, MetricRecord Metric);

/// <summary>
/// The metrics of several pipeline runs side by side: one row per step and metric name, one series per run.
/// A reused step counts with the metrics of the run it reused (<see cref="RunHistory.Metrics"/> resolves that),
/// since its outputs, and so its results, are that run's.
/// </summary>
public sealed class MetricComparison
{
    private readonly Dictionary<(string Run, string Step, string Name), List<MetricRecord>> _series = [];

    private MetricComparison(IReadOnlyList<string> runs, IReadOnlyList<MetricPoint> points)
    {
        Runs = runs;
        Points = points;
        foreach (var p in points)
        {
            var key = (p.Run, p.Step, p.Metric.Name);
            (_series.TryGetValue(key, out var list) ? list : _series[key] = []).Add(p.Metric);
        }
        // Rows in the order they were first logged, so a pipeline's metrics read in step order.
        Rows = points.Select(p => (p.Step, p.Metric.Name)).Distinct().ToList();
    }

    public IReadOnlyList<string> Runs { get; }
    /// <summary>Every point, by run, then step run order, then logging order.</summary>
    public IReadOnlyList<MetricPoint> Points { get; }
    public IReadOnlyList<(string Step, string Name)> Rows { get; }

    /// <summary>The points of one metric in one run, in logging order (empty when that run did not log it).</summary>
    public IReadOnlyList<MetricRecord> Series(string run, string step, string name) =>
        _series.TryGetValue((run, step, name), out var list) ? list : [];

    public static MetricComparison Read(RunHistory history, IReadOnlyList<string> runIds)
    {
        var points = new List<MetricPoint>();
        foreach (var run in runIds)
            foreach (var stepRun in StepRunOrder.Chronological(history.StepRuns(run)))
                points.AddRange(history.Metrics(stepRun.Id).Select(m => new MetricPoint(run, stepRun.Step, m)));
        return new MetricComparison(runIds, points);
    }

    public static MetricComparison Of(IReadOnlyList<string> runIds, IReadOnlyList<MetricPoint> points) => new(runIds, points);

    /// <summary>A value for a table cell: whole numbers and text as they are, other numbers to six significant digits, anything larger as compact JSON cut to <paramref name="width"/>.</summary>
    public static string Display(MetricRecord metric, int width = 40)
    {
        string text;
        try
        {
            using var doc = JsonDocument.Parse(metric.ValueJson);
            text = doc.RootElement.ValueKind switch
            {
                JsonValueKind.String => doc.RootElement.GetString()!,
                // Six significant digits are enough to compare runs by eye; the JSON output keeps every digit.
                JsonValueKind.Number when !doc.RootElement.TryGetInt64(out _) => doc.RootElement.GetDouble().ToString("G6", CultureInfo.InvariantCulture),
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => doc.RootElement.GetRawText(),
                _ => JsonSerializer.Serialize(doc.RootElement),
            };
        }
        catch (JsonException)
        {
            text = metric.ValueJson;
        }
        return text.Length <= width ? text : text[..(width - 1)] + "…";
    }
}
