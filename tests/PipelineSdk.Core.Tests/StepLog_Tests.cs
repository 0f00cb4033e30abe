using System.Text;
using PipelineSdk.Core.Compute;
using PipelineSdk.Core.Validation;
using PipelineSdk.Testing;

namespace PipelineSdk.Core.Tests;

/// <summary>What of a step's output is kept in memory, sent to the build, and written to std_log.txt.</summary>
public sealed class StepLog_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string LogPath => Path.Combine(_dir.Path, "std_log.txt");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ALineLongerThanAPieceComesInBoundedPiecesThatMakeItUp()
    {
        var pieces = new List<(string Text, bool GoesOn)>();
        var splitter = new LineSplitter((text, goesOn) => pieces.Add((text, goesOn)));
        var line = new string('x', LineSplitter.MaxChars * 3 + 5);

        foreach (var chunk in Encoding.UTF8.GetBytes(line + "\nshort\n").Chunk(1000)) splitter.Write(chunk);
        splitter.Flush();

        Assert.All(pieces, p => Assert.True(p.Text.Length <= LineSplitter.MaxChars));
        Assert.Equal([true, true, true, false, false], pieces.Select(p => p.GoesOn));
        Assert.Equal(line, string.Concat(pieces.Take(4).Select(p => p.Text)));
        Assert.Equal("short", pieces[^1].Text);
    }

    [Fact]
    public void LinesEndAtLfCrlfOrALoneCrEvenSplitAcrossChunks()
    {
        var lines = new List<string>();
        var splitter = new LineSplitter((text, _) => lines.Add(text));

        splitter.Write("a\r"u8);
        splitter.Write("\nb\rc\n10%\r20%"u8);
        splitter.Flush();

        Assert.Equal(["a", "b", "c", "10%", "20%"], lines);
    }

    [Fact]
    public void ALongLineReachesTheFileWholeAndTheBuildAsOneBoundedMessage()
    {
        var messages = new List<string>();
        var line = new string('y', LineSplitter.MaxChars * 2 + 1);
        using (var log = new StepLogWriter(LogPath, messages.Add))
        {
            var splitter = new LineSplitter((text, goesOn) => log.Write(text, false, goesOn));
            splitter.Write(Encoding.UTF8.GetBytes(line + "\nnext\n"));
            splitter.Flush();
        }

        Assert.Equal(line + "\nnext\n", File.ReadAllText(LogPath));
        Assert.Equal(2, messages.Count);
        Assert.StartsWith(new string('y', LineSplitter.MaxChars), messages[0]);
        Assert.True(messages[0].Length < LineSplitter.MaxChars + 100, "the build got more than the line's first piece");
        Assert.Equal("next", messages[1]);
    }

    [Fact]
    public void TheFileKeepsItsFirstAndLastPartsAndSaysHowMuchWasLeftOut()
    {
        var warnings = new List<(string Code, string Message)>();
        using (var log = new StepLogWriter(LogPath, _ => { }, (code, message) => warnings.Add((code, message)), keepFirstBytes: 100, keepLastBytes: 20))
            for (var i = 0; i < 100; i++) log.Write($"line {i:00}", isError: false); // 8 bytes a line

        var lines = File.ReadAllLines(LogPath);
        Assert.Equal([.. Enumerable.Range(0, 12).Select(i => $"line {i:00}")], lines[..12]);
        Assert.Equal("--- PipelineSdk: 688 bytes of output left out here; std_log.txt keeps the first 100 bytes and the last 20 bytes ---", lines[12]);
        Assert.Equal(["line 98", "line 99"], lines[13..]);
        var warning = Assert.Single(warnings);
        Assert.Equal(Codes.StepLogCapped, warning.Code);
    }

    [Fact]
    public void AStepUnderTheCapHasItsWholeOutputAndNoMarker()
    {
        var warnings = new List<string>();
        using (var log = new StepLogWriter(LogPath, _ => { }, (_, message) => warnings.Add(message), keepFirstBytes: 100, keepLastBytes: 20))
        {
            log.Write("out", isError: false);
            log.Write("err", isError: true);
        }

        Assert.Equal("out\nerr\n", File.ReadAllText(LogPath));
        Assert.Empty(warnings);
    }
}
