using System.Text;

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
/// arrives, and the last stderr lines are kept for the error message.
/// </summary>
public sealed class StepLogWriter : IDisposable
{
    private const int TailLines = 20;
    private readonly StreamWriter _log;
    private readonly Action<string> _onLine;
    private readonly Queue<string> _tail = new();
    private readonly Lock _gate = new();

    public StepLogWriter(string logPath, Action<string> onLine)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        _log = new StreamWriter(logPath) { AutoFlush = true };
        _onLine = onLine;
    }

    public void Write(string? line, bool isError)
    {
        if (line is null) return;
        _onLine(line);
        lock (_gate)
        {
            _log.WriteLine(line);
            if (!isError) return;
            _tail.Enqueue(line);
            if (_tail.Count > TailLines) _tail.Dequeue();
        }
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

    public void Dispose() => _log.Dispose();
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

/// <summary>Turns bytes of UTF-8 output, as they arrive in chunks, into lines (a container's stream, a job's output file).</summary>
public sealed class LineSplitter(Action<string> onLine)
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _partial = new();
    private char[] _chars = [];

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (_chars.Length < Encoding.UTF8.GetMaxCharCount(bytes.Length)) _chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var n = _decoder.GetChars(bytes, _chars, flush: false);
        foreach (var c in _chars.AsSpan(0, n))
        {
            if (c != '\n') { _partial.Append(c); continue; }
            onLine(_partial.ToString().TrimEnd('\r'));
            _partial.Clear();
        }
    }

    /// <summary>The last line, when the output did not end with a newline.</summary>
    public void Flush()
    {
        if (_partial.Length == 0) return;
        onLine(_partial.ToString().TrimEnd('\r'));
        _partial.Clear();
    }
}
