namespace PipelineSdk.Cli;

/// <summary>
/// An error the user can act on: printed as one line (<c>mlp: message</c>) on stderr, the process exiting with
/// <see cref="ExitCode"/> (2 for what was asked wrongly, such as no workspace or an unknown run; 1 for what went wrong).
/// </summary>
internal sealed class MlpException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>
/// Errors that already read like a compiler's (<c>file(line,col): error CODE: message</c>, from MSBuild or validation):
/// printed one per line as they are, so editors and CI annotate the .mlproj; the process exits with 1.
/// </summary>
internal sealed class DiagnosticsException(IReadOnlyList<string> lines) : Exception(string.Join(Environment.NewLine, lines))
{
    public IReadOnlyList<string> Lines { get; } = lines;
}

internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    /// <summary>Interrupted (Ctrl+C), as shells report a process ended by SIGINT.</summary>
    public const int Interrupted = 130;
}
