namespace PipelineSdk.Core.Workspace;

/// <summary>The workspace is in use by a build, so a collection would race it; the message says what to do.</summary>
public sealed class WorkspaceBusyException(string message) : IOException(message);
