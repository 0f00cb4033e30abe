using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Tests;

public sealed class TabularSchema_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ColumnsGetTheNarrowestTypeEveryValueFits()
    {
        var a = _dir.WriteFile("a.csv", "id,score,flag,name,mixed\n1,0.5,true,\"Smith, J\",1\n2,,false,\"say \"\"hi\"\"\",yes\n");
        var b = _dir.WriteFile("b.csv", "id,score,flag,name,mixed\r\n3,2,TRUE,\"two\nlines\",2\r\n");

        var schema = TabularSchema.Infer(new TabularFormat(',', true, "utf-8"), [("a.csv", a), ("b.csv", b)]);

        Assert.Equal([("id", "int"), ("score", "float"), ("flag", "bool"), ("name", "string"), ("mixed", "string")],
            schema.Columns.Select(c => (c.Name, c.Type)));
        Assert.Equal(3, schema.Rows);
    }

    [Fact]
    public void WithoutHeaderColumnsAreNumbered()
    {
        var file = _dir.WriteFile("x.tsv", "1\ta\n2\tb\n");

        var schema = TabularSchema.Infer(new TabularFormat('\t', false, "utf-8"), [("x.tsv", file)]);

        Assert.Equal([("column1", "int"), ("column2", "string")], schema.Columns.Select(c => (c.Name, c.Type)));
        Assert.Equal(2, schema.Rows);
    }

    [Fact]
    public void FilesWithDifferentColumnsAreNotOneTable()
    {
        var a = _dir.WriteFile("a.csv", "x,y\n1,2\n");
        var b = _dir.WriteFile("b.csv", "x,z\n1,2\n");
        var ragged = _dir.WriteFile("c.csv", "x,y\n1,2,3\n");

        Assert.Contains("file b.csv has columns (x, z)", Assert.Throws<FormatException>(() => TabularSchema.Infer(new(',', true, "utf-8"), [("a.csv", a), ("b.csv", b)])).Message);
        Assert.Contains("a row of 3 fields where the dataset has 2 columns", Assert.Throws<FormatException>(() => TabularSchema.Infer(new(',', true, "utf-8"), [("c.csv", ragged)])).Message);
    }
}
