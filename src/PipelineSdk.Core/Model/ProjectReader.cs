using System.Xml;
using System.Xml.Linq;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Model;

/// <summary>One evaluated MSBuild item as the faces hand it over: its Include and its metadata.</summary>
public sealed record ProjectItem(string Name, IReadOnlyDictionary<string, string> Metadata)
{
    public string GetMetadata(string name) => Metadata.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// Turns a .mlproj's evaluated items into the engine's <see cref="Pipeline"/>, for every face (the MSBuild
/// task, the CLI). Metadata values that cannot be parsed become diagnostics (not exceptions), and every
/// declaration gets its file and line by reading the project XML, since evaluated items do not carry it.
/// </summary>
public sealed class ProjectReader
{
    public static readonly string[] ItemTypes = ["PythonScriptStep", "CommandStep", "DataTransferStep", "FileDataset", "TabularDataset", "StepOutput", "PipelineParameter", "ComputeTarget", "Datastore", "Environment"];
    private readonly string _projectFile;
    private readonly string _projectDirectory;
    private readonly Dictionary<(string Type, string Name), Queue<SourceLocation>> _locations;
    private readonly List<Diagnostic> _diagnostics = [];

    /// <summary>Reads the pipeline from items by type (<see cref="ItemTypes"/>); <paramref name="parameterValues"/> are given at submission.</summary>
    public static (Pipeline Pipeline, IReadOnlyList<Diagnostic> Diagnostics) Read(
        string projectFile, string experimentName, IReadOnlyDictionary<string, IReadOnlyList<ProjectItem>> items, IReadOnlyDictionary<string, string> parameterValues)
    {
        var reader = new ProjectReader(projectFile);
        IReadOnlyList<ProjectItem> Of(string type) => items.TryGetValue(type, out var list) ? list : [];
        var parameters = Of("PipelineParameter").Select(reader.Parameter).ToList();
        var byName = new Dictionary<string, string>(parameterValues, StringComparer.OrdinalIgnoreCase);
        var pipeline = new Pipeline
        {
            ExperimentName = experimentName,
            ProjectFile = projectFile,
            Steps = [.. Of("PythonScriptStep").Select(reader.PythonScriptStep), .. Of("CommandStep").Select(reader.CommandStep), .. Of("DataTransferStep").Select(reader.DataTransferStep)],
            Datasets = [.. Of("FileDataset").Select(i => reader.FileDataset(i, "FileDataset")), .. Of("TabularDataset").Select(reader.TabularDataset)],
            Outputs = [.. Of("StepOutput").Select(reader.StepOutput)],
            Parameters = parameters,
            ComputeTargets = [.. Of("ComputeTarget").Select(reader.ComputeTarget)],
            Datastores = [.. Of("Datastore").Select(reader.Datastore)],
            Environments = [.. Of("Environment").Select(reader.EnvironmentItem)],
            // Distinct: a parameter declared twice is reported by validation (PS0002), not thrown here.
            ParameterValues = parameters.Select(p => p.Name).Distinct().Where(byName.ContainsKey).ToDictionary(n => n, n => byName[n]),
        };
        foreach (var type in ItemTypes)
            foreach (var item in Of(type))
                reader.WarnUnread(type, item);
        reader.WarnLookalikeItems();
        return (pipeline, reader._diagnostics);
    }

    /// <summary>How each item type is read: also run on an item without metadata, to learn every name a type can have.</summary>
    private static readonly Dictionary<string, Action<ProjectReader, ProjectItem>> Readers = new(StringComparer.Ordinal)
    {
        ["PythonScriptStep"] = (r, i) => r.PythonScriptStep(i),
        ["CommandStep"] = (r, i) => r.CommandStep(i),
        ["DataTransferStep"] = (r, i) => r.DataTransferStep(i),
        ["FileDataset"] = (r, i) => r.FileDataset(i, "FileDataset"),
        ["TabularDataset"] = (r, i) => r.TabularDataset(i),
        ["StepOutput"] = (r, i) => r.StepOutput(i),
        ["PipelineParameter"] = (r, i) => r.Parameter(i),
        ["ComputeTarget"] = (r, i) => r.ComputeTarget(i),
        ["Datastore"] = (r, i) => r.Datastore(i),
        ["Environment"] = (r, i) => r.EnvironmentItem(i),
    };

    /// <summary>Metadata an item has that its reading never asked for: a typo (<c>Argument</c>, <c>AlowReuse</c>) that would silently do nothing.</summary>
    private void WarnUnread(string type, ProjectItem item)
    {
        var asked = _asked.GetValueOrDefault(item) ?? [];
        var unread = item.Metadata.Keys.Where(k => !asked.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unread.Count == 0) return;
        var probe = new ProjectItem(item.Name, new Dictionary<string, string>());
        var prober = new ProjectReader(_projectFile, locations: []);
        Readers[type](prober, probe);
        foreach (var name in unread)
        {
            var suggestion = Suggestions.Closest(name, prober._asked[probe]);
            _diagnostics.Add(new Diagnostic(Codes.UnknownMetadata,
                $"{type} '{Names.Display(item.Name)}' has metadata '{name}', which PipelineSdk does not read, so it has no effect.{(suggestion is null ? "" : $" Did you mean '{suggestion}'?")} Fix or remove it (MSBuildWarningsAsErrors=PS0024 makes this an error).",
                Locate(type, item.Name, peek: true), IsWarning: true));
        }
    }

    /// <summary>Item types in the project that are not PipelineSdk's but look like one (<c>PythonScriptSteps</c>): MSBuild keeps them as items nobody reads.</summary>
    private void WarnLookalikeItems()
    {
        foreach (var (type, at) in _itemElements)
        {
            if (ItemTypes.Contains(type, StringComparer.Ordinal)) continue;
            if (Suggestions.Closest(type, ItemTypes) is { } ours)
                _diagnostics.Add(new Diagnostic(Codes.UnknownItemType,
                    $"<{type}> is not a PipelineSdk item, so nothing reads it. Did you mean <{ours}>? Rename it (MSBuildWarningsAsErrors=PS0025 makes this an error).", at, IsWarning: true));
        }
    }

    private ProjectReader(string projectFile, Dictionary<(string Type, string Name), Queue<SourceLocation>>? locations = null)
    {
        _projectFile = projectFile;
        _projectDirectory = Path.GetDirectoryName(projectFile)!;
        _locations = locations ?? ReadLocations(projectFile, _itemElements);
    }

    /// <summary>Every element of an ItemGroup in the project file: its item type and where it is.</summary>
    private readonly List<(string Type, SourceLocation At)> _itemElements = [];

    /// <summary>Where the item was declared; asked again for the same name, the next declaration (duplicates), unless <paramref name="peek"/>.</summary>
    private SourceLocation Locate(string type, string name, bool peek = false)
    {
        if (!_locations.TryGetValue((type, name), out var places)) return new SourceLocation(_projectFile);
        return places.Count > 1 && !peek ? places.Dequeue() : places.Peek();
    }

    private Step PythonScriptStep(ProjectItem item) => Step(item, "PythonScriptStep", StepKind.PythonScript) with
    {
        ScriptName = Text(item, "ScriptName"),
    };

    private Step CommandStep(ProjectItem item) => Step(item, "CommandStep", StepKind.Command) with
    {
        Command = Text(item, "Command"),
    };

    /// <summary>A copy from one datastore to another (Azure ML's DataTransferStep): Source is an input, Destination an output.</summary>
    private Step DataTransferStep(ProjectItem item) => Step(item, "DataTransferStep", StepKind.DataTransfer) with
    {
        Inputs = Text(item, "Source") is { } source ? [source] : [],
        Outputs = Text(item, "Destination") is { } destination ? [destination] : [],
    };

    private FileDataset TabularDataset(ProjectItem item)
    {
        var dataset = FileDataset(item, "TabularDataset");
        var at = dataset.Location!;
        var delimiter = Text(item, "Delimiter") switch
        {
            null => ',',
            "\\t" or "tab" or "Tab" => '\t',
            { Length: 1 } d => d[0],
            var d => Invalid(at, $"TabularDataset '{item.Name}' has Delimiter='{d}'; use one character, or \\t for tabs.", ','),
        };
        var encoding = Text(item, "Encoding") ?? "utf-8";
        try { System.Text.Encoding.GetEncoding(encoding); }
        catch (ArgumentException) { Invalid(at, $"TabularDataset '{item.Name}' has Encoding='{encoding}', which is not an encoding name; use utf-8, latin1, utf-16...", 0); }
        return dataset with { Tabular = new TabularFormat(delimiter, Flag(item, "Header", at, $"TabularDataset '{item.Name}'", fallback: true), encoding) };
    }

    private FileDataset FileDataset(ProjectItem item, string type)
    {
        var at = Locate(type, item.Name);
        return new(item.Name, Text(item, "Path") ?? "", Text(item, "Datastore"), at)
        {
            Registered = Text(item, "Dataset"),
            Register = Flag(item, "Register", at, $"{type} '{item.Name}'"),
            Mode = Text(item, "Mode") is { } mode
                ? Enum.TryParse<InputMode>(mode, ignoreCase: true, out var parsed) ? parsed : Invalid(at, $"{type} '{item.Name}' has Mode='{mode}'; use Download, Mount or Direct.", InputMode.Mount)
                : InputMode.Mount,
        };
    }

    private StepOutput StepOutput(ProjectItem item)
    {
        var at = Locate("StepOutput", item.Name);
        return new(item.Name, Text(item, "Datastore"), Text(item, "Destination"), at)
        {
            Mode = Text(item, "Mode") is { } mode
                ? Enum.TryParse<OutputMode>(mode, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : Invalid(at, $"StepOutput '{item.Name}' has Mode='{mode}'; use Upload or Mount.", OutputMode.Upload)
                : OutputMode.Upload,
            // RegisterOnComplete="true" registers under the output's own name; any other value is the dataset name.
            RegisterAs = Text(item, "RegisterOnComplete") is { } register
                ? register.Equals("true", StringComparison.OrdinalIgnoreCase) ? item.Name : register.Equals("false", StringComparison.OrdinalIgnoreCase) ? null : register
                : null,
        };
    }

    private PipelineParameter Parameter(ProjectItem item) =>
        new(item.Name, Get(item, "Default"), Locate("PipelineParameter", item.Name));

    private ComputeTarget ComputeTarget(ProjectItem item)
    {
        var at = Locate("ComputeTarget", item.Name);
        var maxNodes = Text(item, "MaxNodes") is { } text
            ? int.TryParse(text, out var n) ? n : Invalid(at, $"ComputeTarget '{item.Name}' has MaxNodes='{text}'; set a whole number of 1 or more.", 1)
            : Environment.ProcessorCount;
        var kind = Text(item, "Kind") is { } k
            ? Enum.TryParse<ComputeKind>(k, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed
                : Invalid(at, $"ComputeTarget '{item.Name}' has Kind '{k}'; use Local, Docker or Slurm.", ComputeKind.Local)
            : ComputeKind.Local;
        return new(item.Name, kind, maxNodes, at)
        {
            Defaults = Resources(item, at, $"ComputeTarget '{item.Name}'"),
            DockerEndpoint = Text(item, "DockerEndpoint"),
            DockerCertificates = Text(item, "DockerCertificates"),
            Network = Text(item, "Network"),
            Partition = Text(item, "Partition"),
            RestEndpoint = Text(item, "RestEndpoint"),
            UserName = Text(item, "UserName"),
            TokenVariable = Text(item, "TokenVariable"),
            TokenFile = Text(item, "TokenFile") is { } file ? Path.GetFullPath(Path.Combine(_projectDirectory, file)) : null,
        };
    }

    private StepEnvironment EnvironmentItem(ProjectItem item)
    {
        var at = Locate("Environment", item.Name);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in List(item, "Variables", ';'))
        {
            if (pair.IndexOf('=') is var eq and > 0) variables[pair[..eq].Trim()] = pair[(eq + 1)..];
            else Invalid(at, $"Environment '{item.Name}' has Variables entry '{pair}'; write NAME=value pairs separated by semicolons.", 0);
        }
        return new StepEnvironment(item.Name, at)
        {
            Curated = Text(item, "Curated"),
            BaseImage = Text(item, "BaseImage"),
            CondaPackages = List(item, "CondaPackages", ';'),
            // Package specs may hold commas (numpy>=1,<2), so packages are separated by semicolons only.
            PipPackages = List(item, "PipPackages", ';'),
            Variables = variables,
            DockerfileLines = List(item, "DockerfileLines", '\n'),
            UserManagedDependencies = Flag(item, "UserManagedDependencies", at, $"Environment '{item.Name}'"),
        };
    }

    private StepResources Resources(ProjectItem item, SourceLocation at, string what)
    {
        var cpus = Text(item, "Cpus") is { } c
            ? double.TryParse(c, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : Invalid<double?>(at, $"{what} has Cpus='{c}'; set a number above 0, such as 2 or 0.5.", null)
            : (double?)null;
        var memory = Text(item, "Memory");
        if (memory is not null && ResourceUnits.MemoryBytes(memory) is null)
            memory = Invalid<string?>(at, $"{what} has Memory='{memory}'; write a size such as 512M, 4G or 2048 (MiB).", null);
        var gpus = Text(item, "Gpus");
        var time = Text(item, "TimeLimit");
        if (time is not null && ResourceUnits.Duration(time) is null)
            time = Invalid<string?>(at, $"{what} has TimeLimit='{time}'; write minutes (90), hh:mm:ss (01:30:00) or d-hh:mm:ss.", null);
        return new StepResources(cpus, memory, gpus, time);
    }

    private Datastore Datastore(ProjectItem item) =>
        new(item.Name, Text(item, "Kind") ?? Model.Datastore.LocalKind, Text(item, "Path") ?? item.Name, Locate("Datastore", item.Name))
        {
            Container = Text(item, "Container"),
            ConnectionVariable = Text(item, "ConnectionStringVariable"),
            HasInlineSecret = new[] { "ConnectionString", "AccountKey", "SasToken" }.Any(m => Text(item, m) is not null),
        };

    private Step Step(ProjectItem item, string type, StepKind kind)
    {
        var at = Locate(type, item.Name);
        var allowReuse = Flag(item, "AllowReuse", at, $"{type} '{item.Name}'", fallback: true);
        return new Step
        {
            Name = item.Name,
            Kind = kind,
            SourceDirectory = Text(item, "SourceDirectory") is { } source ? Path.GetFullPath(Path.Combine(_projectDirectory, source)) : null,
            Arguments = Get(item, "Arguments"),
            Inputs = List(item, "Inputs"),
            Outputs = List(item, "Outputs"),
            Parameters = List(item, "Parameters"),
            RunAfter = List(item, "RunAfter"),
            HashPaths = List(item, "HashPaths"),
            AllowReuse = allowReuse,
            Compute = Text(item, "Compute") ?? Model.ComputeTarget.LocalName,
            Environment = Get(item, "Environment").Trim(),
            Resources = Resources(item, at, $"{type} '{item.Name}'"),
            Location = at,
        };
    }

    private bool Flag(ProjectItem item, string metadata, SourceLocation at, string what, bool fallback = false) =>
        Text(item, metadata) is { } text
            ? bool.TryParse(text, out var b) ? b : Invalid(at, $"{what} has {metadata}='{text}'; use true or false.", fallback)
            : fallback;

    private T Invalid<T>(SourceLocation at, string message, T fallback)
    {
        _diagnostics.Add(new Diagnostic(Codes.InvalidMetadata, message, at));
        return fallback;
    }

    /// <summary>Every metadata name asked of each item (by reference: two items may be equal), so what nobody asked for is a typo.</summary>
    private readonly Dictionary<ProjectItem, HashSet<string>> _asked = new(ReferenceEqualityComparer.Instance);

    /// <summary>A metadata value, noting that it was asked for; every read of the reader goes through here.</summary>
    private string Get(ProjectItem item, string name)
    {
        (_asked.TryGetValue(item, out var names) ? names : _asked[item] = new(StringComparer.OrdinalIgnoreCase)).Add(name);
        return item.GetMetadata(name);
    }

    private string? Text(ProjectItem item, string name) =>
        Get(item, name) is { Length: > 0 } value ? value.Trim() : null;

    private IReadOnlyList<string> List(ProjectItem item, string name) => List(item, name, ';', ',');

    private IReadOnlyList<string> List(ProjectItem item, string name, params char[] separators) =>
        Get(item, name).Split(separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<(string, string), Queue<SourceLocation>> ReadLocations(string projectFile, List<(string, SourceLocation)> itemElements)
    {
        var locations = new Dictionary<(string, string), Queue<SourceLocation>>();
        try
        {
            var doc = XDocument.Load(projectFile, LoadOptions.SetLineInfo);
            foreach (var element in doc.Descendants())
            {
                var info = (IXmlLineInfo)element;
                if (element.Parent?.Name.LocalName == "ItemGroup") itemElements.Add((element.Name.LocalName, new SourceLocation(projectFile, info.LineNumber, info.LinePosition)));
                if (element.Attribute("Include")?.Value is not { } include) continue;
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
