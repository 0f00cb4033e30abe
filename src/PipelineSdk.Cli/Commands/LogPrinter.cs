using System.Text;
using PipelineSdk.Core.Reporting;

namespace PipelineSdk.Cli.Commands;

/// <summary>
/// Prints step logs, remembering how far each was printed so it can be called again for what was added (--follow).
/// With several steps each block of lines is headed <c>==> step &lt;==</c>, as <c>tail</c> heads files.
/// </summary>
internal sealed class LogPrinter(TextWriter output, bool headers)
{
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);
    private readonly HashSet<string> _noted = new(StringComparer.Ordinal);
    private string? _current;
    private bool _any;

    /// <summary>True when something of the step's log (or a note that it has none) was printed.</summary>
    public bool Printed(string step) => _offsets.ContainsKey(step) || _noted.Contains(step);

    /// <param name="final">Print an unfinished last line too (the step will write no more).</param>
    /// <param name="expectSeveral">Head the blocks even while only one log is known (more steps may start).</param>
    public void Print(IReadOnlyList<StepLog> logs, bool final, bool expectSeveral)
    {
        var headed = headers && (expectSeveral || logs.Count > 1);
        foreach (var log in logs)
        {
            if (log.Path is null || !File.Exists(log.Path))
            {
                // Only a step that was recorded without a log (skipped) or whose log was deleted gets a note; a live one just has not written yet.
                if (log.Record is null || !headed || !_noted.Add(log.Step)) continue;
                Head(log.Step);
                output.WriteLine(log.Path is null
                    ? $"(no log: {log.Record.Status.ToLowerInvariant()}, {log.Record.Reason})"
                    : $"(the log {log.Path} is missing)");
                continue;
            }
            var text = ReadFrom(log, final);
            if (text is null) continue;
            if (headed) Head(log.Step);
            output.Write(text);
            if (final && !text.EndsWith('\n')) output.WriteLine();
        }
        output.Flush();
    }

    private void Head(string step)
    {
        if (_current == step) return;
        if (_any) output.WriteLine();
        output.WriteLine($"==> {step} <==");
        _current = step;
        _any = true;
    }

    /// <summary>The new complete lines of a log (and, when <paramref name="final"/>, an unfinished last one), or null when there is nothing new.</summary>
    private string? ReadFrom(StepLog log, bool final)
    {
        var offset = _offsets.GetValueOrDefault(log.Step);
        byte[] bytes;
        // The engine still writes a running step's log; share it rather than lock it.
        using (var stream = new FileStream(log.Path!, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length <= offset)
            {
                _offsets[log.Step] = offset;
                return null;
            }
            stream.Seek(offset, SeekOrigin.Begin);
            bytes = new byte[stream.Length - offset];
            stream.ReadExactly(bytes);
        }
        // Whole lines only, so a line (or a UTF-8 character) being written is never cut in two.
        var length = final ? bytes.Length : Array.LastIndexOf(bytes, (byte)'\n') + 1;
        _offsets[log.Step] = offset + length;
        return length == 0 ? null : Encoding.UTF8.GetString(bytes, 0, length);
    }
}
