using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Validation;

/// <summary>A problem found in a pipeline, with a stable code (PSxxxx) and a sentence saying how to fix it.</summary>
public sealed record Diagnostic(string Code, string Message, SourceLocation? Location = null, bool IsWarning = false);

/// <summary>The codes, in one place, so documentation and tests name the same thing.</summary>
public static class Codes
{
    public const string EmptyPipeline = "PS0001";
    public const string DuplicateName = "PS0002";
    public const string Cycle = "PS0003";
    public const string UnknownStep = "PS0004";
    public const string UnknownInput = "PS0005";
    public const string UnknownOutput = "PS0006";
    public const string UnknownParameter = "PS0007";
    public const string UnknownCompute = "PS0008";
    public const string MissingSourceDirectory = "PS0009";
    public const string MissingScript = "PS0010";
    public const string PathEscapes = "PS0011";
    public const string OutputProducers = "PS0012";
    public const string InvalidMetadata = "PS0013";
    public const string UnknownDatastore = "PS0014";
    public const string EmptyDataset = "PS0015";
    public const string Workspace = "PS0016";
    public const string UnknownRegisteredDataset = "PS0017";
    public const string DatastoreUnavailable = "PS0018";
    public const string UnknownEnvironment = "PS0019";
    public const string EnvironmentNeedsImage = "PS0020";
    public const string InvalidName = "PS0021";
    public const string DestinationConflict = "PS0022";
    public const string MalformedReference = "PS0023";
    public const string UnknownMetadata = "PS0024";
    public const string UnknownItemType = "PS0025";
    public const string StepFailed = "PS0100";
    public const string EngineStopped = "PS0101";
    public const string NotUpToDate = "PS0102";
    public const string TelemetryUnreadable = "PS0103";
    public const string HistoryDamaged = "PS0030";
    public const string WorkspaceNotWritable = "PS0031";
    public const string StoppedBySigterm = "PS0104";
    public const string ProcessLeftBehind = "PS0105";
    public const string StepLogCapped = "PS0106";
}
