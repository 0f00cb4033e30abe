namespace PipelineSdk.Cli.Tests;

/// <summary>Errors are one line on stderr (`mlp: ...`), nothing on stdout, and a non-zero exit code.</summary>
public sealed class ErrorTests
{
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Theory]
    [InlineData("runs", "list")]
    [InlineData("runs", "show", "some-run")]
    [InlineData("logs", "some-run")]
    [InlineData("metrics", "some-run")]
    public void NoWorkspaceHereOrAbove(params string[] command)
    {
        using var dir = new TempDirectory();

        var result = MlpTool.Run(dir.Path, command);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal($"mlp: no PipelineSdk workspace here or above {dir.Path}; build a pipeline first or pass --workspace\n", result.Stderr);
    }

    [Theory]
    [InlineData("runs", "show", "nope")]
    [InlineData("logs", "nope")]
    [InlineData("logs", "nope", "--follow")]
    [InlineData("metrics", "first", "nope")]
    public void UnknownRunId(params string[] command)
    {
        var arguments = command.Select(a => a == "first" ? _w.FirstRun : a).ToArray();

        var result = _w.Mlp(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal($"mlp: no run 'nope' in workspace {_w.Workspace}\n", result.Stderr);
    }

    [Theory]
    [InlineData("runs", "list", "--last", "0")]
    [InlineData("runs", "show")]
    [InlineData("dag", "p.mlproj", "--format", "png")]
    [InlineData("runs", "lst")]
    public void UsageErrorsAreOneLine(params string[] command)
    {
        var result = _w.Mlp(command);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("mlp: ", line);
        Assert.EndsWith("--help')", line);
    }

    [Theory]
    [InlineData("--last", "abc", "runs", "list")]
    [InlineData("--last", "1.5", "runs", "list")]
    [InlineData("--keep-last", "abc", "gc", "--dry-run")]
    public void ANumberOptionGivenAWordNamesTheOptionAndTheWord(string option, string value, params string[] command)
    {
        var result = _w.Mlp([.. command, option, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal($"mlp: {option} takes a whole number, not '{value}'. (see 'mlp {command[0]}{(command[0] == "runs" ? " list" : "")} --help')\n", result.Stderr);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("7w")]
    [InlineData("99999999999d")]
    [InlineData("3000000000d")]
    public void AnAgeThatIsNotOneNamesTheOptionAndTheWord(string age)
    {
        var result = _w.Mlp("gc", "--dry-run", "--older-than", age);

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal($"mlp: --older-than takes a number and s, m, h or d (30m, 12h, 7d), not '{age}'. (see 'mlp gc --help')\n", result.Stderr);
    }

    [Theory]
    [InlineData("foo", "'foo' (commands: runs, logs, metrics, dag, datasets, gc; see 'mlp --help')")]
    [InlineData("runs lst", "'runs lst' (commands: list, show; see 'mlp runs --help')")]
    public void AnUnknownCommandIsNamedWithTheCommandsThereAre(string command, string named)
    {
        var result = _w.Mlp(command.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal($"mlp: unknown command {named}\n", result.Stderr);
    }

    [Fact]
    public void AnUnknownStatusIsAUsageErrorNamingTheStatusesThereAre()
    {
        var result = _w.Mlp("runs", "list", "--status", "bogus");

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Equal("mlp: --status takes Running, Succeeded, Failed, Interrupted or Cancelled, not 'bogus'. (see 'mlp runs list --help')\n", result.Stderr);
    }

    [Fact]
    public void AWorkspacePathThatDoesNotExist()
    {
        var result = _w.Mlp("runs", "list", "--workspace", "no/such/folder");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("mlp: workspace path 'no/such/folder' does not exist\n", result.Stderr);
    }

    [Fact]
    public void AWorkspaceWithoutHistoryHasNoRuns()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");

        Assert.Equal(0, MlpTool.Run(dir.Path, "runs", "list", "--json").Json().GetArrayLength());
        Assert.Equal($"No runs in workspace {dir["ws"]} yet.\n", MlpTool.Run(dir.Path, "runs", "list").ShouldSucceed().Stdout);
        Assert.Equal(2, MlpTool.Run(dir.Path, "runs", "show", "x").ExitCode);
        Assert.False(File.Exists(dir["ws/runs.db"]), "reading created a database");
    }
}
