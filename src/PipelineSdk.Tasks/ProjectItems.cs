using System.Xml;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Tasks;

/// <summary>
/// Turns the .mlproj's items into the engine's <see cref="Pipeline"/>. Metadata values that cannot be
/// parsed become diagnostics (not exceptions), and every declaration gets its file and line by reading
/// the project XML, since task items do not carry where they were written.
/// </summary>
internal sealed class ProjectItems
{
    private readonly string _projectFile;
    private readonly string _projectDirectory;
    private readonly Dictionary<(string Type, string Name), Queue<SourceLocation>> _locations;
    private readonly List<Diagnostic> _diagnostics = [];

    public ProjectItems(string projectFile)
    {
        _projectFile = projectFile;
        _projectDirectory = Path.GetDirectoryName(projectFile)!;
        _locations = ReadLocations(projectFile);
    }

    public IReadOnlyList<Diagnostic> Diagnostics => _diagnostics;

    /// <summary>Where the item was declared; asked again for the same name, the next declaration (duplicates).</summary>
    public SourceLocation Locate(string type, string name)
    {
        if (!_locations.TryGetValue((type, name), out var places)) return new SourceLocation(_projectFile);
        return places.Count > 1 ? places.Dequeue() : places.Peek();
    }

    public Step PythonScriptStep(ITaskItem item) => Step(item, "PythonScriptStep", StepKind.PythonScript) with
    {
        ScriptName = Text(item, "ScriptName"),
    };

    public Step CommandStep(ITaskItem item) => Step(item, "CommandStep", StepKind.Command) with
    {
        Command = Text(item, "Command"),
    };

    public FileDataset FileDataset(ITaskItem item) =>
        new(item.ItemSpec, Text(item, "Path") ?? "", Text(item, "Datastore"), Locate("FileDataset", item.ItemSpec));

    public StepOutput StepOutput(ITaskItem item) =>
        new(item.ItemSpec, Text(item, "Datastore"), Text(item, "Destination"), Locate("StepOutput", item.ItemSpec));

    public PipelineParameter Parameter(ITaskItem item) =>
        new(item.ItemSpec, item.GetMetadata("Default"), Locate("PipelineParameter", item.ItemSpec));

    public ComputeTarget ComputeTarget(ITaskItem item)
    {
        var at = Locate("ComputeTarget", item.ItemSpec);
        var maxNodes = Text(item, "MaxNodes") is { } text
            ? int.TryParse(text, out var n) ? n : Invalid(at, $"ComputeTarget '{item.ItemSpec}' has MaxNodes='{text}'; set a whole number of 1 or more.", 1)
            : Environment.ProcessorCount;
        return new(item.ItemSpec, Text(item, "Kind") ?? "Local", maxNodes, at);
    }

    public Datastore Datastore(ITaskItem item) =>
        new(item.ItemSpec, Text(item, "Kind") ?? "Local", Text(item, "Path") ?? item.ItemSpec, Locate("Datastore", item.ItemSpec));

    private Step Step(ITaskItem item, string type, StepKind kind)
    {
        var at = Locate(type, item.ItemSpec);
        var allowReuse = Text(item, "AllowReuse") is { } text
            ? bool.TryParse(text, out var b) ? b : Invalid(at, $"{type} '{item.ItemSpec}' has AllowReuse='{text}'; use true or false.", true)
            : true;
        return new Step
        {
            Name = item.ItemSpec,
            Kind = kind,
            SourceDirectory = Text(item, "SourceDirectory") is { } source ? Path.GetFullPath(Path.Combine(_projectDirectory, source)) : null,
            Arguments = item.GetMetadata("Arguments"),
            Inputs = List(item, "Inputs"),
            Outputs = List(item, "Outputs"),
            Parameters = List(item, "Parameters"),
            RunAfter = List(item, "RunAfter"),
            HashPaths = List(item, "HashPaths"),
            AllowReuse = allowReuse,
            Compute = Text(item, "Compute") ?? Core.Model.ComputeTarget.LocalName,
            Environment = item.GetMetadata("Environment"),
            Location = at,
        };
    }

    private T Invalid<T>(SourceLocation at, string message, T fallback)
    {
        _diagnostics.Add(new Diagnostic(Codes.InvalidMetadata, message, at));
        return fallback;
    }

    private static string? Text(ITaskItem item, string name) =>
        item.GetMetadata(name) is { Length: > 0 } value ? value.Trim() : null;

    private static IReadOnlyList<string> List(ITaskItem item, string name) =>
        item.GetMetadata(name).Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<(string, string), Queue<SourceLocation>> ReadLocations(string projectFile)
    {
        var locations = new Dictionary<(string, string), Queue<SourceLocation>>();
        try
        {
            var doc = XDocument.Load(projectFile, LoadOptions.SetLineInfo);
            foreach (var element in doc.Descendants())
            {
                if (element.Attribute("Include")?.Value is not { } include) continue;
                var info = (IXmlLineInfo)element;
                foreach (var name in include.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var key = (element.Name.LocalName, name);
                    (locations.TryGetValue(key, out var places) ? places : locations[key] = new()).Enqueue(new SourceLocation(projectFile, info.LineNumber, info.LinePosition));
                }
            }
        }
        catch (Exception e) when (e is XmlException or IOException)
        {
            // Locations are a courtesy: errors still name the project file.
        }
        return locations;
    }
}
