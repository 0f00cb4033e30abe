namespace PipelineSdk.Cli.Tests;

/// <summary>Every command on a workspace whose runs.db is damaged: one line naming the file and saying how to recover, exit 1, the file left as it was.</summary>
public sealed class DamagedHistoryCommandTests
{
    private readonly RecordedWorkspace _w = RecordedWorkspace.Instance;

    [Theory]
    [InlineData(HistoryDamage.Truncated, "it is cut short")]
    [InlineData(HistoryDamage.Garbage, "not a SQLite database")]
    [InlineData(HistoryDamage.BadHeader, "not a SQLite database")]
    [InlineData(HistoryDamage.Empty, "empty (0 bytes)")]
    public void ADamagedHistoryIsOneLineAndIsLeftAsItWas(string damage, string problem)
    {
        using var dir = new TempDirectory();
        dir.WriteFile("workspace.json", """{"name":"t","path":"ws"}""");
        dir.CreateDirectory("ws");
        var database = dir["ws/runs.db"];
        File.Copy(Path.Combine(_w.Workspace, "runs.db"), database);
        HistoryDamage.Apply(database, damage);
        var before = HistoryDamage.Sha256(database);

        foreach (var command in new[] { ["runs", "list"], ["runs", "show", _w.FirstRun], ["logs", _w.FirstRun], ["metrics", _w.FirstRun], ["datasets", "list"], ["gc"], new[] { "gc", "--dry-run" } })
        {
            var result = MlpTool.Run(dir.Path, command);

            Assert.True(result.ExitCode == 1, $"{result.Command} exited {result.ExitCode}: {result.Stderr}");
            Assert.Empty(result.Stdout);
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"mlp: The run history {database} is damaged: ", line);
            Assert.Contains(problem, line);
            Assert.EndsWith("Restore it from a backup, or move it aside (to runs.db.damaged, say) to start a new, empty history.", line);
        }
        Assert.Equal(before, HistoryDamage.Sha256(database));
        Assert.False(HistoryDamage.WalHoldsFrames(database), "something was written for the damaged history");
    }
}
