using PipelineSdk.Cli.Output;

namespace PipelineSdk.Cli.Tests;

/// <summary>The CLI's own pieces, in process: workspace resolution, tables, durations.</summary>
public sealed class CliUnitTests
{
    [Fact]
    public void WorkspaceResolution()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("team/workspace.json", """{"name":"t","path":"../shared"}""");
        dir.WriteFile("shared/runs.db", "");
        dir.WriteFile("team/project/p.mlproj", "<Project />");
        dir.WriteFile("solo/.mlworkspace/runs.db", "");

        Assert.Equal(dir["shared"], WorkspaceOption.Resolve(null, dir["team/project"]).Root);
        Assert.Equal(dir["shared"], WorkspaceOption.Resolve("project", dir["team"]).Root);
        Assert.Equal(dir["shared"], WorkspaceOption.Resolve(dir["team/project/p.mlproj"], "/").Root);
        // A workspace folder named directly, though no workspace.json is above it.
        Assert.Equal(dir["shared"], WorkspaceOption.Resolve(dir["shared"], "/").Root);
        Assert.Equal(dir["solo/.mlworkspace"], WorkspaceOption.Resolve(dir["solo"], "/").Root);
        Assert.Equal(dir["solo/.mlworkspace"], WorkspaceOption.Resolve(dir["solo/.mlworkspace"], "/").Root);

        var none = Assert.Throws<MlpException>(() => WorkspaceOption.Resolve(null, dir.Path));
        Assert.Equal(2, none.ExitCode);
        dir.WriteFile("bad/workspace.json", "{ not json");
        var bad = Assert.Throws<MlpException>(() => WorkspaceOption.Resolve(dir["bad"], "/"));
        Assert.Contains("workspace.json is not valid", bad.Message);
    }

    [Fact]
    public void TablesPadColumnsAndRightAlignNumbers()
    {
        var table = new TextTable("NAME", "N", "NOTE").RightAlign(1);
        table.Add("a", "1", null);
        table.Add("longer", "100", "x");
        var output = new StringWriter { NewLine = "\n" };

        table.Write(output);

        Assert.Equal("NAME      N  NOTE\na         1  -\nlonger  100  x\n", output.ToString());
    }

    [Theory]
    [InlineData(0.04, "0.0s")]
    [InlineData(12.34, "12.3s")]
    [InlineData(65, "1m05s")]
    [InlineData(3725, "1h02m")]
    public void Durations(double seconds, string expected) => Assert.Equal(expected, Display.Duration(TimeSpan.FromSeconds(seconds)));
}
