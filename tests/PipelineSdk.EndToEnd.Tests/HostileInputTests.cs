using System.Security.Cryptography;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>A project with data, sources and a workspace holding earlier outputs, built once; each case copies it.</summary>
public sealed class BuiltProject
{
    public BuiltProject()
    {
        Project = new PipelineProject("hostile-base").WithProject(HostileInputTests.Body(""))
            .Write("data/a.csv", "x,y\n1,2\n").Write("src/prep.sh", "cp \"$1\"/a.csv \"$2\"/\n");
        Project.Build().ShouldSucceed();
    }

    public PipelineProject Project { get; }
}

/// <summary>
/// Names that are paths, destinations that would empty a datastore or the project, malformed references, links out of
/// the project, engine variables: each is refused with its code and line, nothing runs, and not one byte of the
/// project, its data or its workspace changes.
/// </summary>
public sealed class HostileInputTests(BuiltProject built) : IClassFixture<BuiltProject>
{
    /// <summary>The base pipeline plus <paramref name="more"/> items.</summary>
    public static string Body(string more) => $"""
          <ItemGroup>
            <FileDataset Include="raw" Path="data" />
            <StepOutput Include="clean" />
            <CommandStep Include="prep" SourceDirectory="src" Command="sh prep.sh {"{input:raw}"} {"{output:clean}"}" />
            {more}
          </ItemGroup>
        """;

    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "output-name-climbs", "PS0021", "path separator", """<StepOutput Include="../../../../x" /><CommandStep Include="a" Command="true" Outputs="../../../../x" />""" },
        { "output-name-absolute", "PS0021", "path separator", """<StepOutput Include="/tmp/x" /><CommandStep Include="a" Command="true" Outputs="/tmp/x" />""" },
        { "output-name-dotdot-mount", "PS0021", "'..'", """<StepOutput Include=".." Mode="Mount" /><CommandStep Include="a" Command="true" Outputs=".." />""" },
        { "step-name-path", "PS0021", "path separator", """<CommandStep Include="x/../../../../src" Command="true" />""" },
        { "dataset-name-space", "PS0021", "letters, digits", """<FileDataset Include="my data" Path="data" />""" },
        { "parameter-name-long", "PS0021", "longer than 128 bytes", $"""<PipelineParameter Include="{new string('p', 5000)}" Default="1" />""" },
        { "environment-name", "PS0021", "path separator", """<Environment Include="env/../x" Curated="python-3.11" />""" },
        { "destination-root-mount", "PS0022", "root of datastore", """<StepOutput Include="o" Destination="." Mode="Mount" /><CommandStep Include="a" Command="true" Outputs="o" />""" },
        {
            "destination-dataset", "PS0022", "overlaps dataset 'raw'",
            """<Datastore Include="project" Kind="Local" Path="." /><StepOutput Include="o" Datastore="project" Destination="data" Mode="Mount" /><CommandStep Include="a" Command="true" Outputs="o" />"""
        },
        {
            "destination-source", "PS0022", "SourceDirectory 'src'",
            """<Datastore Include="project" Kind="Local" Path="." /><StepOutput Include="o" Datastore="project" Destination="src/out" /><CommandStep Include="a" Command="true" Outputs="o" />"""
        },
        {
            "destination-workspace", "PS0022", "in the workspace",
            """<Datastore Include="project" Kind="Local" Path="." /><StepOutput Include="o" Datastore="project" Destination=".mlworkspace" /><CommandStep Include="a" Command="true" Outputs="o" />"""
        },
        {
            "destination-project", "PS0022", "the project folder",
            """<Datastore Include="parent" Kind="Local" Path=".." /><StepOutput Include="o" Datastore="parent" Destination="{dir}" Mode="Mount" /><CommandStep Include="a" Command="true" Outputs="o" />"""
        },
        { "destination-content-store", "PS0022", "'.cas'", """<StepOutput Include="o" Destination=".cas" Mode="Mount" /><CommandStep Include="a" Command="true" Outputs="o" />""" },
        { "destination-logs", "PS0022", "'logs'", """<StepOutput Include="o" Destination="logs" /><CommandStep Include="a" Command="true" Outputs="o" />""" },
        {
            "destination-shared", "PS0022", "overlaps output 'o1'",
            """<StepOutput Include="o1" Destination="models/fixed" /><StepOutput Include="o2" Destination="models/fixed" /><CommandStep Include="a" Command="true" Outputs="o1" /><CommandStep Include="b" Command="true" Outputs="o2" />"""
        },
        {
            "destination-same-step-run-id", "PS0022", "overlaps output 'o1'",
            """<StepOutput Include="o1" Destination="m/{run-id}" /><StepOutput Include="o2" Destination="m/{run-id}" /><CommandStep Include="a" Command="true" Outputs="o1;o2" />"""
        },
        { "reference-empty", "PS0023", "'{input:}'", """<CommandStep Include="a" Command="cat {input:}" />""" },
        { "reference-unclosed", "PS0023", "'{param:x'", """<PipelineParameter Include="x" Default="1" /><CommandStep Include="a" Command="echo {param:x" />""" },
        { "reference-case", "PS0023", "'{Input:raw}'", """<CommandStep Include="a" Command="cat {Input:raw}" />""" },
        { "reference-space", "PS0023", "'{input: raw}'", """<CommandStep Include="a" Command="cat {input: raw}" />""" },
        { "reference-plural", "PS0023", "'{inputs:raw}'", """<CommandStep Include="a" Command="cat {inputs:raw}" />""" },
        { "hashpaths-climb", "PS0011", "'../outside/*'", """<CommandStep Include="a" Command="true" HashPaths="../outside/*" />""" },
        { "hashpaths-absolute", "PS0011", "'/etc/hostname'", """<CommandStep Include="a" Command="true" HashPaths="/etc/hostname" />""" },
        { "environment-protocol", "PS0013", "PIPELINE_OUTPUTS", """<Environment Include="e" UserManagedDependencies="true" Variables="PIPELINE_OUTPUTS=/tmp" /><CommandStep Include="a" Command="true" Environment="e" />""" },
        { "environment-path", "PS0013", "variable PATH", """<Environment Include="e" UserManagedDependencies="true" Variables="PATH=/tmp" /><CommandStep Include="a" Command="true" Environment="e" />""" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void RefusedWithCodeAndNothingChanges(string name, string code, string mentions, string items)
    {
        var project = CopyOfBuilt(name);
        project.WithProject(Body(items.Replace("{dir}", Path.GetFileName(project.Directory))));
        var before = Tree(project.Directory);

        var build = project.Build().ShouldFail();

        var error = build.Output.Split('\n').FirstOrDefault(l => l.Contains($"error {code}:"))
            ?? throw new Xunit.Sdk.XunitException($"no error {code} in:\n{build.Output}");
        Assert.Contains(mentions, error);
        Assert.Matches($@"\.mlproj\(\d+,\d+\): error {code}", error);
        Assert.False(build.HasSummary, "something ran");
        AssertSameTree(before, Tree(project.Directory));
    }

    public static TheoryData<string, string> Links => new()
    {
        { "source-folder", "SourceDirectory 'linked'" },
        { "script", "script 'run.py'" },
        { "file-in-source", "'secret.txt' in source directory" },
        { "dataset-folder", "Dataset 'outside'" },
        { "hashpaths-file", "HashPaths 'hashed/*'" },
        { "loop", "symbolic link" },
    };

    /// <summary>Each link leads out of the project (or in a loop): PS0011, nothing runs; AllowLinksOutsideProject lets the allowed ones run.</summary>
    [Theory]
    [MemberData(nameof(Links))]
    public void LinksOutOfTheProjectAreRefused(string kind, string mentions)
    {
        var project = CopyOfBuilt("link-" + kind);
        var outside = Path.Combine(Path.GetDirectoryName(project.Directory)!, $"outside-{Guid.NewGuid():N}");
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "run.py"), "print('outside code')\n");
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "not the project's\n");
        var step = """<PythonScriptStep Include="a" SourceDirectory="code" ScriptName="main.py" />""";
        project.Write("code/main.py", "print('inside')\n");
        switch (kind)
        {
            case "source-folder":
                Directory.CreateSymbolicLink(Path.Combine(project.Directory, "linked"), outside);
                step = """<PythonScriptStep Include="a" SourceDirectory="linked" ScriptName="run.py" />""";
                break;
            case "script":
                File.CreateSymbolicLink(Path.Combine(project.Directory, "code", "run.py"), Path.Combine(outside, "run.py"));
                step = """<PythonScriptStep Include="a" SourceDirectory="code" ScriptName="run.py" />""";
                break;
            case "file-in-source":
                File.CreateSymbolicLink(Path.Combine(project.Directory, "code", "secret.txt"), Path.Combine(outside, "secret.txt"));
                break;
            case "dataset-folder":
                Directory.CreateSymbolicLink(Path.Combine(project.Directory, "external"), outside);
                step += """<FileDataset Include="outside" Path="external" /><CommandStep Include="b" Command="cat {input:outside}/secret.txt" />""";
                break;
            case "hashpaths-file":
                Directory.CreateDirectory(Path.Combine(project.Directory, "hashed"));
                File.CreateSymbolicLink(Path.Combine(project.Directory, "hashed", "h.txt"), Path.Combine(outside, "secret.txt"));
                step = """<PythonScriptStep Include="a" SourceDirectory="code" ScriptName="main.py" HashPaths="hashed/*" />""";
                break;
            case "loop":
                Directory.CreateSymbolicLink(Path.Combine(project.Directory, "code", "again"), Path.Combine(project.Directory, "code"));
                break;
        }
        project.WithProject(Body(step));
        var before = Tree(project.Directory);

        var build = project.Build().ShouldFail();

        var error = build.Output.Split('\n').FirstOrDefault(l => l.Contains("error PS0011:"))
            ?? throw new Xunit.Sdk.XunitException($"no error PS0011 in:\n{build.Output}");
        Assert.Contains(mentions, error);
        Assert.Contains(kind == "loop" ? ".amlignore" : "AllowLinksOutsideProject", error);
        Assert.False(build.HasSummary, "something ran");
        AssertSameTree(before, Tree(project.Directory));

        if (kind == "loop") return;
        var allowed = project.Build("-p:AllowLinksOutsideProject=true").ShouldSucceed();
        Assert.Contains("a: ran in", allowed.Output);
    }

    private PipelineProject CopyOfBuilt(string name)
    {
        var project = new PipelineProject(name);
        var source = built.Project.Directory;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".mlproj")))
        {
            var target = Path.Combine(project.Directory, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return project;
    }

    /// <summary>Every file (links as their targets' paths) and its SHA-256, but the run history's database files, which opening may touch.</summary>
    private static SortedDictionary<string, string> Tree(string root)
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(root, file);
            var info = new FileInfo(file);
            if (relative.StartsWith(".mlworkspace/runs.db") || relative.StartsWith(".mlworkspace/locks")) continue;
            tree[relative] = info.LinkTarget is { } target ? $"-> {target}" : Directory.Exists(file) ? "dir" : Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        }
        return tree;
    }

    private static void AssertSameTree(SortedDictionary<string, string> before, SortedDictionary<string, string> after)
    {
        var changed = before.Keys.Union(after.Keys).Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k)).ToList();
        Assert.True(changed.Count == 0, $"the build changed the project tree: {string.Join(", ", changed.Take(20))}");
    }
}
