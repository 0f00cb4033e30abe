using System.Diagnostics;
using PipelineSdk.Core.Compute;

namespace PipelineSdk.Core.Tests;

public sealed class ProcessIdentity_Tests
{
    [Fact]
    public void TheRunningProcessIsRecognizedAndAReusedPidIsNot()
    {
        var self = ProcessIdentity.Of(Environment.ProcessId)!.Value;

        Assert.True(self.IsRunning);
        Assert.Equal(self, ProcessIdentity.Parse(self.ToString()));
        Assert.False((self with { Started = self.Started + "1" }).IsRunning);
        Assert.Null(ProcessIdentity.Parse("not an identity"));
    }

    [Fact]
    public void KillTreeStopsTheProcessAndWhatItStarted()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"psdk-tree-{Guid.NewGuid():N}");
        using var shell = Process.Start("sh", ["-c", $"sleep 60 & echo $! > {marker}; wait"])!;
        for (var waited = 0; !File.Exists(marker) || File.ReadAllText(marker).Trim().Length == 0; waited++)
        {
            Assert.True(waited < 100, "the shell did not start its child");
            Thread.Sleep(50);
        }
        var child = ProcessIdentity.Of(int.Parse(File.ReadAllText(marker)))!.Value;
        var parent = ProcessIdentity.Of(shell.Id)!.Value;

        parent.KillTree();

        Assert.False(parent.IsRunning);
        Assert.False(child.IsRunning, "the shell's child survived");
        File.Delete(marker);
    }
}
