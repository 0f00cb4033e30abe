using System.Text.Json;

namespace PipelineSdk.Cli.Tests;

/// <summary>`mlp metrics`: runs side by side (last value, number of points), and every point as JSON.</summary>
public sealed class MetricsCommandTests
{
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Fact]
    public void ComparesTheLastValueOfEachSeriesAcrossRuns()
    {
        var lines = _w.Mlp("metrics", _w.FirstRun, _w.SecondRun).ShouldSucceed().Lines;

        Assert.Equal(["METRIC", _w.FirstRun, _w.SecondRun], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var rows = lines.Skip(1).ToDictionary(l => l.Split(' ')[0], l => l[l.IndexOf(' ')..].Trim());
        Assert.Equal(["prep/rows", "train/loss", "train/accuracy"], rows.Keys);
        // prep was reused in the second run: its metrics are those of the run it reused.
        Assert.Matches(@"^1\s+1$", rows["prep/rows"]);
        Assert.Matches(@"^0\.3 \(2 points\)\s+0\.3 \(2 points\)$", rows["train/loss"]);
        Assert.Matches(@"^0\.9\s+0\.95$", rows["train/accuracy"]);
    }

    [Fact]
    public void AMetricARunDidNotLogIsADash()
    {
        var lines = _w.Mlp("metrics", _w.FirstRun, _w.OtherRun).ShouldSucceed().Lines;

        Assert.Matches(@"^train/accuracy\s+0\.9\s+-$", lines.Single(l => l.StartsWith("train/accuracy")));
        Assert.Equal($"No metrics were logged in run {_w.OtherRun}.\n", _w.Mlp("metrics", _w.OtherRun).ShouldSucceed().Stdout);
    }

    [Fact]
    public void JsonCarriesEveryPoint()
    {
        var json = _w.Mlp("metrics", _w.FirstRun, _w.SecondRun, "--json").Json();

        Assert.Equal([_w.FirstRun, _w.SecondRun], json.GetProperty("runs").EnumerateArray().Select(r => r.GetString()));
        var points = json.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(8, points.Count); // per run: rows, loss twice, accuracy
        var loss = points.Where(p => p.GetProperty("run").GetString() == _w.FirstRun && p.GetProperty("name").GetString() == "loss").ToList();
        Assert.Equal([0.5, 0.3], loss.Select(p => p.GetProperty("value").GetDouble()));
        Assert.All(loss, p => Assert.Equal("train", p.GetProperty("step").GetString()));
        Assert.All(loss, p => Assert.Equal("metric", p.GetProperty("kind").GetString()));
        Assert.True(loss[0].GetProperty("seq").GetInt32() < loss[1].GetProperty("seq").GetInt32());
        Assert.All(points, p => Assert.Equal(JsonValueKind.String, p.GetProperty("logged").ValueKind));
        Assert.All(points, p => p.GetProperty("logged").GetDateTimeOffset());
        var accuracy = points.Single(p => p.GetProperty("run").GetString() == _w.SecondRun && p.GetProperty("name").GetString() == "accuracy");
        Assert.Equal(JsonValueKind.Number, accuracy.GetProperty("value").ValueKind);
        Assert.Equal(0.95, accuracy.GetProperty("value").GetDouble());
        Assert.Equal(1, points.Single(p => p.GetProperty("run").GetString() == _w.SecondRun && p.GetProperty("name").GetString() == "rows").GetProperty("value").GetInt32());
    }
}
