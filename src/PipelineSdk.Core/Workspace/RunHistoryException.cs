using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Workspace;

/// <summary>
/// Raised when the run history cannot be used as it is, before anything was written to it. The message names the file
/// and says how to fix it; <see cref="Code"/> is the build's error code for it.
/// </summary>
public sealed class RunHistoryException : Exception
{
    private RunHistoryException(string code, string message) : base(message) => Code = code;

    public string Code { get; }

    public static RunHistoryException Damaged(string databasePath, string problem) => new(Codes.HistoryDamaged,
        $"The run history {databasePath} is damaged: {problem}. It was left as it is. Restore it from a backup, or move it aside "
        + $"(to {Path.GetFileName(databasePath)}.damaged, say) to start a new, empty history.");

    public static RunHistoryException NotWritable(string databasePath, string why) => new(Codes.WorkspaceNotWritable,
        $"The workspace {Path.GetDirectoryName(databasePath)} is not writable ({why}), so nothing can be recorded in its run history. "
        + "Make it writable; dry runs (-p:PipelineDryRun=true, mlp gc --dry-run), -question and mlp's listings only read it.");
}
