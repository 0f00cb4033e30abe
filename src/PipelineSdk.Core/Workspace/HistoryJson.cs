using System.Text.Json.Serialization;

namespace PipelineSdk.Core.Workspace;

/// <summary>
/// The run history's JSON, its code generated at compile time: the reflection-based serializer spends milliseconds
/// building its metadata on first use, and a no-op build is a first use every time.
/// </summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, OutputRecord>))]
[JsonSerializable(typeof(Dictionary<string, OutputRecord>))]
[JsonSerializable(typeof(StepRunRecord))]
internal sealed partial class HistoryJson : JsonSerializerContext;
