using System.Text.Json;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>Registered datasets: immutable versions made by builds, pinned by name:version, listed by mlp.</summary>
public sealed class DatasetTests
{
    private const string Registering = """
          <ItemGroup>
            <FileDataset Include="raw" Path="data/*.csv" Register="true" />
            <StepOutput Include="rows" RegisterOnComplete="row_counts" />
            <CommandStep Include="count" Command="sh -c 'cat {input:raw}/*.csv | wc -l > {output:rows}/rows.txt'" />
          </ItemGroup>
        """;

    [Fact]
    public void BuildsRegisterANewVersionOnlyWhenContentChanges()
    {
        var project = new PipelineProject("register").WithProject(Registering).Write("data/a.csv", "x\n");

        var first = project.Build().ShouldSucceed();
        Assert.Contains("PipelineSdk: registered dataset 'raw' version 1 from project:data/*.csv", first.Output);
        Assert.Matches(@"PipelineSdk: registered dataset 'row_counts' version 1 from step run \S+-count output rows", first.Output);

        var unchanged = project.Build().ShouldSucceed();
        Assert.DoesNotContain("registered dataset", unchanged.Output);

        project.Write("data/b.csv", "y\n");
        var changed = project.Build().ShouldSucceed();
        Assert.Contains("registered dataset 'raw' version 2", changed.Output);
        Assert.Contains("registered dataset 'row_counts' version 2", changed.Output);

        using var list = Mlp(project, "datasets", "list", "--json");
        var raw = list.RootElement.EnumerateArray().Single(d => d.GetProperty("name").GetString() == "raw");
        Assert.Equal((2, 2, 2), (raw.GetProperty("latestVersion").GetInt32(), raw.GetProperty("versions").GetInt32(), raw.GetProperty("files").GetInt32()));
        using var v1 = Mlp(project, "datasets", "show", "raw:1", "--json");
        Assert.Equal(["a.csv"], v1.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));

        var table = project.Mlp("datasets", "list");
        Assert.Equal(0, table.Exit);
        Assert.Matches(@"(?m)^raw\s+2\s+2\s+2\s", table.Stdout);
        var shown = project.Mlp("datasets", "show", "raw");
        Assert.Contains("Dataset:    raw version 2 (versions: 1, 2)", shown.Stdout);
        Assert.Matches(@"(?m)^b\.csv\s+[0-9a-f]{32}$", shown.Stdout);
        var missing = project.Mlp("datasets", "show", "raw:9");
        Assert.Equal(2, missing.Exit);
        Assert.StartsWith("mlp: no dataset 'raw:9' in workspace ", missing.Stderr);
    }

    [Fact]
    public void PinnedVersionKeepsItsContentAfterTheDataChanged()
    {
        var project = new PipelineProject("pinned").WithProject(Registering).Write("data/a.csv", "original\n");
        project.Build().ShouldSucceed();
        project.WithProject(Registering.Replace("</ItemGroup>", """
                <FileDataset Include="frozen" Dataset="raw:1" />
                <StepOutput Include="copy" />
                <CommandStep Include="read_frozen" Command="sh -c 'cat {input:frozen}/a.csv > {output:copy}/a.csv'" />
              </ItemGroup>
            """));
        project.Build().ShouldSucceed();

        project.Write("data/a.csv", "edited\n");
        var build = project.Build().ShouldSucceed();

        Assert.Contains("read_frozen: reused from run", build.Output);
        using var history = project.History();
        var copy = history.StepRuns(build.RunId).Single(s => s.Step == "read_frozen").Outputs["copy"];
        Assert.Equal("original", File.ReadAllText(Path.Combine(project.Datastore, copy.Path, "a.csv")).Trim());
    }

    [Fact]
    public void UnknownRegisteredDatasetOrVersionFailsBeforeAnythingRuns()
    {
        var project = new PipelineProject("unknownds").WithProject("""
              <ItemGroup>
                <FileDataset Include="frozen" Dataset="iris:3" />
                <CommandStep Include="read" Command="ls {input:frozen}" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.Matches(@"unknownds\.mlproj\(3,\d+\): error PS0017: Dataset 'frozen' reads registered dataset 'iris', which workspace .* does not have", build.Output);
        Assert.False(build.HasSummary);
    }

    [Fact]
    public void FailedStepRegistersNothing()
    {
        var project = new PipelineProject("failreg").WithProject("""
              <ItemGroup>
                <StepOutput Include="model" RegisterOnComplete="true" />
                <CommandStep Include="train" Command="sh -c 'echo half > {output:model}/w.bin; exit 1'" />
              </ItemGroup>
            """);

        var build = project.Build().ShouldFail();

        Assert.DoesNotContain("registered dataset", build.Output);
        using var history = project.History();
        Assert.Empty(history.DatasetVersions());
    }

    private static JsonDocument Mlp(PipelineProject project, params string[] arguments)
    {
        var (exit, stdout, stderr) = project.Mlp(arguments);
        Assert.True(exit == 0, $"mlp {string.Join(' ', arguments)}: {stderr}");
        return JsonDocument.Parse(stdout);
    }
}
