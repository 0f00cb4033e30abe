using System.Text;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Compute;

/// <summary>How a step ended: its exit code and the last lines it wrote to stderr (or why it could not run).</summary>
public sealed record ProcessOutcome(int ExitCode, IReadOnlyList<string> StderrTail)
{
    /// <summary>Where it ran (<see cref="Placement"/> tags: the node, the job, the container), recorded with the step run.</summary>
    public IReadOnlyDictionary<string, string> Placement { get; init; } = new Dictionary<string, string>();
}

/// <summary>The step-run tags that say where a step ran, as <c>mlp runs show</c> reads them back.</summary>
public static class Placement
{
    public const string Node = "pipelinesdk.node";
    public const string Job = "pipelinesdk.job";
    public const string Container = "pipelinesdk.container";

    /// <summary>"n1, job 42" or "container 3f2a1b9c0d4e"; null when the tags say nothing of it.</summary>
    public static string? Describe(IReadOnlyDictionary<string, string> tags)
    {
        var parts = new List<string>();
        if (tags.TryGetValue(Node, out var node)) parts.Add(node);
        if (tags.TryGetValue(Job, out var job)) parts.Add($"job {job}");
        if (tags.TryGetValue(Container, out var container)) parts.Add($"container {container}");
        return parts.Count > 0 ? string.Join(", ", parts) : null;
    }
}

/// <summary>
/// The step's std_log.txt as every compute target writes it: each line goes to the file and to the build as it
/// arrives, and the last stderr lines are kept for the error message. A line may come in pieces (<see cref="LineSplitter"/>):
/// the file gets them whole, the build only the first. The file keeps the first <c>keepFirstBytes</c> of the output
/// and its last <c>keepLastBytes</c>, with a line saying how much was left out between them.
/// </summary>
public sealed class StepLogWriter : IDisposable
{
    public const long DefaultKeepFirstBytes = 100L << 20;
    public const int DefaultKeepLastBytes = 1 << 20;
    private const int TailLines = 20;
    private readonly FileStream _log;
    private readonly Action<string> _onLine;
    private readonly Action<string, string> _onWarning;
    private readonly long _keepFirst;
    private readonly int _keepLast;
    private readonly Queue<string> _tail = new();
    private readonly Queue<byte[]> _last = new();
    private readonly Lock _gate = new();
    private long _written;
    private long _lastBytes;
    private long _leftOut;
    private bool _capped;
    private bool _cappedWarned;
    private bool _endsLine = true;
    /// <summary>The stream (stderr: true) whose line is open: its last piece said the line goes on.</summary>
    private bool? _open;

    /// <param name="onLine">Each line for the build log (a long line's first piece only).</param>
    /// <param name="onWarning">A warning for the build, with its code (a process left behind, the file capped).</param>
    public StepLogWriter(string logPath, Action<string> onLine, Action<string, string>? onWarning = null,
        long keepFirstBytes = DefaultKeepFirstBytes, int keepLastBytes = DefaultKeepLastBytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        // Unbuffered: the file is read while the step runs, and must hold what was written when the build is killed.
        _log = new FileStream(logPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        _onLine = onLine;
        _onWarning = onWarning ?? ((_, _) => { });
        _keepFirst = keepFirstBytes;
        _keepLast = keepLastBytes;
    }

    /// <param name="goesOn">The line goes on in the next piece of the same stream (it is longer than a piece).</param>
    public void Write(string? line, bool isError, bool goesOn = false)
    {
        if (line is null) return;
        bool first, capped;
        lock (_gate)
        {
            first = _open != isError;
            // The other stream's long line is cut here: lines of each stream stay whole, in the order they came.
            if (_open is not null && first) Append("\n");
            Append(goesOn ? line : line + "\n");
            _open = goesOn ? isError : null;
            if (first && isError)
            {
                _tail.Enqueue(line);
                if (_tail.Count > TailLines) _tail.Dequeue();
            }
            capped = _capped && !_cappedWarned;
            _cappedWarned = _capped;
        }
        if (first) _onLine(goesOn ? $"{line} … (the line goes on in std_log.txt)" : line);
        if (capped)
            _onWarning(Codes.StepLogCapped, $"wrote more than {Size(_keepFirst)} of output: its std_log.txt keeps the first {Size(_keepFirst)} and the last {Size(_keepLast)}, and says how much was left out between them.");
    }

    /// <summary>A warning about the step, from the engine: in the log, and to the build.</summary>
    public void Warn(string code, string message)
    {
        lock (_gate)
        {
            if (_open is not null) Append("\n");
            _open = null;
            Append($"PipelineSdk: warning {code}: the step {message}\n");
        }
        _onWarning(code, message);
    }

    public ProcessOutcome Outcome(int exitCode)
    {
        lock (_gate) return new ProcessOutcome(exitCode, [.. _tail]);
    }

    /// <summary>A step that never started: the reason is its log's last line and its error.</summary>
    public ProcessOutcome Failed(int exitCode, string message)
    {
        Write(message, isError: true);
        return new ProcessOutcome(exitCode, [message]);
    }

    /// <summary>To the file while it is under its first part's size, then to the last part, whose oldest pieces are left out.</summary>
    private void Append(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (!_capped && _written + bytes.Length <= _keepFirst)
        {
            _log.Write(bytes);
            _written += bytes.Length;
            _endsLine = text.EndsWith('\n');
            return;
        }
        _capped = true;
        _last.Enqueue(bytes);
        _lastBytes += bytes.Length;
        while (_lastBytes > _keepLast && _last.Count > 1)
        {
            var dropped = _last.Dequeue().Length;
            _lastBytes -= dropped;
            _leftOut += dropped;
        }
    }

    private static string Size(long bytes) => bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes:N0} bytes";

    public void Dispose()
    {
        lock (_gate)
        {
            if (_capped)
            {
                var marker = $"{(_endsLine ? "" : "\n")}--- PipelineSdk: {_leftOut:N0} bytes of output left out here; std_log.txt keeps the first {Size(_keepFirst)} and the last {Size(_keepLast)} ---\n";
                _log.Write(Encoding.UTF8.GetBytes(marker));
                foreach (var piece in _last) _log.Write(piece);
                _last.Clear();
            }
            _log.Dispose();
        }
    }
}

/// <summary>The environment build log of a step run (Azure ML's 20_image_build_log.txt).</summary>
public static class BuildLog
{
    public static void Note(string logPath, string line)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        File.AppendAllText(logPath, line + "\n");
    }
}

/// <summary>
/// Turns bytes of UTF-8 output, as they arrive in chunks, into lines (a process's pipes, a container's stream, a job's
/// output file). A line ends at LF, CRLF or a lone CR (a progress bar redraws itself with CR). A line longer than
/// <see cref="MaxChars"/> comes in pieces of that length, each but the last saying the line goes on: what is kept per
/// line stays bounded whatever the step prints.
/// </summary>
public sealed class LineSplitter(Action<string, bool> onLine)
{
    public const int MaxChars = 8192;
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly char[] _partial = new char[MaxChars];
    private int _length;
    private bool _afterCarriageReturn;
    private char[] _chars = [];

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_chars.Length < Encoding.UTF8.GetMaxCharCount(bytes.Length)) _chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        Split(_chars.AsSpan(0, _decoder.GetChars(bytes, _chars, flush: false)));
    }

    /// <summary>The last line, when the output did not end with a newline.</summary>
    public void Flush()
    {
        Split(_chars.AsSpan(0, _decoder.GetChars([], _chars, flush: true)));
        if (_length > 0) Emit(goesOn: false);
    }

    private void Split(ReadOnlySpan<char> chars)
    {
        if (_afterCarriageReturn && chars.Length > 0)
        {
            if (chars[0] == '\n') chars = chars[1..]; // the LF of a CRLF that came split across two chunks
            _afterCarriageReturn = false;
        }
        while (chars.Length > 0)
        {
            var end = chars.IndexOfAny('\r', '\n');
            var line = end < 0 ? chars : chars[..end];
            while (line.Length > 0)
            {
                // Full, with more of the line to come: this much goes on its way.
                if (_length == MaxChars) Emit(goesOn: true);
                var take = Math.Min(line.Length, MaxChars - _length);
                line[..take].CopyTo(_partial.AsSpan(_length));
                _length += take;
                line = line[take..];
            }
            if (end < 0) return;
            Emit(goesOn: false);
            var crlf = chars[end] == '\r' && end + 1 < chars.Length && chars[end + 1] == '\n';
            _afterCarriageReturn = chars[end] == '\r' && end + 1 == chars.Length;
            chars = chars[(end + (crlf ? 2 : 1))..];
        }
    }

    private void Emit(bool goesOn)
    {
        onLine(new string(_partial, 0, _length), goesOn);
        _length = 0;
    }
}
