using System.Text.Json;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>TabularDataset: delimited files with an inferred, recorded schema, read as typed rows by the step library.</summary>
public sealed class TabularDatasetTests
{
    private const string Project = """
          <ItemGroup>
            <TabularDataset Include="sales" Path="data/*.tsv" Delimiter="\t" />
            <StepOutput Include="totals" />
            <PythonScriptStep Include="total" SourceDirectory="step" ScriptName="total.py" Inputs="sales" Arguments="{output:totals}" />
          </ItemGroup>
        """;

    private const string Script = """
        import json, sys
        from pipelinesdk import Run
        run = Run.get_context()
        rows = list(run.read_rows("sales"))
        units = sum(r["units"] or 0 for r in rows)
        with open(sys.argv[1] + "/totals.json", "w") as f:
            json.dump({"rows": len(rows), "units": units, "types": [type(v).__name__ for v in rows[0].values()]}, f)
        run.log("units", units)
        """;

    [Fact]
    public void StepReadsTypedRowsAndTheSchemaIsRecorded()
    {
        var project = new PipelineProject("tabular").WithProject(Project).Write("step/total.py", Script)
            .Write("data/q1.tsv", "region\tunits\tprice\nnorth\t3\t1.5\n").Write("data/q2.tsv", "region\tunits\tprice\nsouth\t4\t2\n");

        var build = project.Build().ShouldSucceed();

        using var history = project.History();
        var run = history.StepRuns(build.RunId).Single();
        using var totals = JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Datastore, run.Outputs["totals"].Path, "totals.json")));
        Assert.Equal(7, totals.RootElement.GetProperty("units").GetInt32());
        Assert.Equal(["str", "int", "float"], totals.RootElement.GetProperty("types").EnumerateArray().Select(t => t.GetString()));
        var schema = history.TabularSchema(history.FingerprintFields(run.Fingerprint!)!["input:sales"]);
        using var recorded = JsonDocument.Parse(schema!);
        Assert.Equal(2, recorded.RootElement.GetProperty("Rows").GetInt32());
        Assert.Equal(["string", "int", "float"], recorded.RootElement.GetProperty("Columns").EnumerateArray().Select(c => c.GetProperty("Type").GetString()));
    }

    [Fact]
    public void FilesThatAreNotOneTableFailTheStep()
    {
        var project = new PipelineProject("ragged").WithProject(Project).Write("step/total.py", Script)
            .Write("data/q1.tsv", "region\tunits\nnorth\t3\n").Write("data/q2.tsv", "area\tunits\nsouth\t4\n");

        var build = project.Build().ShouldFail();

        Assert.Contains("input 'sales' is not one table: file q2.tsv has columns (area, units)", build.Output);
    }
}
