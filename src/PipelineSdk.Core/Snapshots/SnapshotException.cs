namespace PipelineSdk.Core.Snapshots;

/// <summary>A source directory that cannot be snapshotted as it is (a link out of the project, a link loop); the message says how to fix it.</summary>
public sealed class SnapshotException(string message) : Exception(message);
