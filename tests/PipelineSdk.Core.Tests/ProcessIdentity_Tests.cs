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

    [Fact]
    public void KillTreeStopsWhatTheSessionLeaderLeftRunningAfterItExited()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"psdk-session-{Guid.NewGuid():N}");
        // The shell leads a session of its own and exits at once, its background sleep reparented: no descendant any more.
        using var shell = Process.Start("setsid", ["sh", "-c", $"sleep 60 & echo $! > {marker}; sleep 0.5"])!;
        var leader = ProcessIdentity.Of(shell.Id)!.Value;
        shell.WaitForExit();
        var left = ProcessIdentity.Of(int.Parse(File.ReadAllText(marker)))!.Value;

        Assert.Equal([left], leader.LeftInSession());
        leader.KillTree();

        Assert.False(left.IsRunning, "what the session leader left running survived");
        File.Delete(marker);
    }
}
