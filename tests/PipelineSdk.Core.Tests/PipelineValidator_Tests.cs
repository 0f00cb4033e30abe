using PipelineSdk.Core.Model;
using PipelineSdk.Core.Validation;

namespace PipelineSdk.Core.Tests;

public sealed class PipelineValidator_Tests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string _project;

    public PipelineValidator_Tests() => _project = _dir["p.mlproj"];

    public void Dispose() => _dir.Dispose();

    private SourceLocation At(int line) => new(_project, line, 5);

    private Step Command(string name, string arguments = "", int line = 0, string command = "sh -c 'true'") => new()
    {
        Name = name,
        Kind = StepKind.Command,
        Command = command,
        Arguments = arguments,
        Location = line > 0 ? At(line) : null,
    };

    private Pipeline Pipeline(IReadOnlyList<Step> steps, IReadOnlyList<StepOutput>? outputs = null, IReadOnlyList<FileDataset>? datasets = null,
        IReadOnlyList<PipelineParameter>? parameters = null, IReadOnlyList<ComputeTarget>? computes = null, IReadOnlyList<Datastore>? datastores = null) => new()
    {
        ExperimentName = "exp",
        ProjectFile = _project,
        Steps = steps,
        Outputs = outputs ?? [],
        Datasets = datasets ?? [],
        Parameters = parameters ?? [],
        ComputeTargets = computes ?? [],
        Datastores = datastores ?? [],
    };

    private static Diagnostic Single(IReadOnlyList<Diagnostic> diagnostics, string code)
    {
        var found = diagnostics.Where(d => d.Code == code).ToList();
        Assert.True(found.Count == 1, $"expected one {code}, got: {string.Join(" | ", diagnostics.Select(d => $"{d.Code} {d.Message}"))}");
        return found[0];
    }

    [Fact]
    public void ValidPipelineHasAGraphAndNoDiagnostics()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("prep", "{input:raw} {output:clean}"), Command("train", "{input:clean} {param:lr} {output:model}")],
            outputs: [new("clean"), new("model")],
            datasets: [new("raw", "data")],
            parameters: [new("lr", "0.1")]));

        Assert.Empty(diagnostics);
        Assert.NotNull(graph);
        Assert.Equal(["prep"], graph.Dependencies["train"]);
        Assert.Equal("prep", graph.ProducerOfOutput["clean"]);
        Assert.Equal(["clean"], graph["train"].Inputs);
        Assert.Equal(["lr"], graph["train"].Parameters);
    }

    [Fact]
    public void EmptyPipelineIsReportedAtTheProjectFile()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline([]));

        var d = Single(diagnostics, Codes.EmptyPipeline);
        Assert.Null(graph);
        Assert.Contains("no steps", d.Message);
        Assert.Equal(new SourceLocation(_project), d.Location);
    }

    [Fact]
    public void DuplicateStepNameIsReportedAtTheSecondDeclaration()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline([Command("train", line: 10), Command("Train", line: 12)]));

        var d = Single(diagnostics, Codes.DuplicateName);
        Assert.Null(graph);
        Assert.Contains("'train'", d.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(At(12), d.Location);
    }

    [Fact]
    public void DatasetAndOutputShareOneNamespace()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{output:data}")],
            outputs: [new("data", Location: At(7))],
            datasets: [new("data", "raw", Location: At(6))]));

        var d = Single(diagnostics, Codes.DuplicateName);
        Assert.Contains("'data'", d.Message);
        Assert.Contains("dataset, output", d.Message);
        Assert.Equal(At(7), d.Location);
    }

    [Fact]
    public void DuplicateParameterIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a")], parameters: [new("lr", "1", At(3)), new("lr", "2", At(4))]));

        var d = Single(diagnostics, Codes.DuplicateName);
        Assert.Contains("'lr'", d.Message);
        Assert.Equal(At(4), d.Location);
    }

    [Fact]
    public void CycleIsReportedWithItsStepsInDataFlowOrder()
    {
        // a -> b -> c -> a: each step reads what the one before it writes.
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{input:oc} {output:oa}", 10), Command("b", "{input:oa} {output:ob}", 11), Command("c", "{input:ob} {output:oc}", 12)],
            outputs: [new("oa"), new("ob"), new("oc")]));

        var d = Single(diagnostics, Codes.Cycle);
        Assert.Null(graph);
        // Whichever step the walk starts from, the message starts at the step declared first.
        Assert.Contains("a -> b -> c -> a", d.Message);
        Assert.Equal(At(10), d.Location);
    }

    [Fact]
    public void CycleMessageStartsAtTheStepDeclaredFirst()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("free", "", 9), Command("c", "{input:ob} {output:oc}", 10), Command("a", "{input:oc} {output:oa}", 11), Command("b", "{input:oa} {output:ob}", 12)],
            outputs: [new("oa"), new("ob"), new("oc")]));

        var d = Single(diagnostics, Codes.Cycle);
        Assert.Contains("c -> a -> b -> c", d.Message);
        Assert.DoesNotContain("free", d.Message);
        Assert.Equal(At(10), d.Location);
    }

    [Fact]
    public void RunAfterCycleIsReportedWithItsSteps()
    {
        var a = Command("a", line: 3) with { RunAfter = ["b"] };
        var b = Command("b", line: 4) with { RunAfter = ["a"] };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([a, b]));

        var d = Single(diagnostics, Codes.Cycle);
        Assert.Contains("a -> b -> a", d.Message);
        Assert.Equal(At(3), d.Location);
    }

    [Fact]
    public void StepThatReadsItsOwnOutputIsACycle()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("loop", "{input:o} {output:o}", 9)], outputs: [new("o")]));

        var d = Single(diagnostics, Codes.Cycle);
        Assert.Contains("loop -> loop", d.Message);
        Assert.Equal(At(9), d.Location);
    }

    [Fact]
    public void UnknownRunAfterStepIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a"), Command("b", line: 8) with { RunAfter = ["a", "nope"] }]));

        var d = Single(diagnostics, Codes.UnknownStep);
        Assert.Contains("'b'", d.Message);
        Assert.Contains("'nope'", d.Message);
        Assert.Equal(At(8), d.Location);
    }

    [Fact]
    public void UnknownInputIsReportedForReferencedAndDeclaredInputs()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{input:missing_ref}", 5) with { Inputs = ["missing_decl"] }]));

        var found = diagnostics.Where(d => d.Code == Codes.UnknownInput).ToList();
        Assert.Equal(2, found.Count);
        Assert.Contains(found, d => d.Message.Contains("'missing_ref'"));
        Assert.Contains(found, d => d.Message.Contains("'missing_decl'"));
        Assert.All(found, d => Assert.Equal(At(5), d.Location));
        Assert.All(found, d => Assert.Contains("'a'", d.Message));
    }

    [Fact]
    public void UnknownOutputIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "--out {output:model}", 6)]));

        var d = Single(diagnostics, Codes.UnknownOutput);
        Assert.Contains("'model'", d.Message);
        Assert.Contains("'a'", d.Message);
        Assert.Equal(At(6), d.Location);
    }

    [Fact]
    public void UnknownParameterIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "--lr {param:learning_rate}", 7)], parameters: [new("lr", "1")]));

        var d = Single(diagnostics, Codes.UnknownParameter);
        Assert.Contains("'learning_rate'", d.Message);
        Assert.Equal(At(7), d.Location);
    }

    [Fact]
    public void UnknownParameterInCommandIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "", 7, command: "echo {param:seed}")]));

        var d = Single(diagnostics, Codes.UnknownParameter);
        Assert.Contains("'seed'", d.Message);
    }

    [Fact]
    public void UnknownComputeIsReportedAndLocalIsAlwaysKnown()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", line: 4) with { Compute = "gpu-cluster" }, Command("b") with { Compute = "LOCAL" }, Command("c") with { Compute = "CPU" }],
            computes: [new("cpu", ComputeKind.Local, 2)]));

        var d = Single(diagnostics, Codes.UnknownCompute);
        Assert.Contains("'gpu-cluster'", d.Message);
        Assert.Contains("'a'", d.Message);
        Assert.Equal(At(4), d.Location);
    }

    [Fact]
    public void MissingSourceDirectoryIsReported()
    {
        var step = new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = _dir["steps/prep"], ScriptName = "prepare.py", Location = At(9) };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([step]));

        var d = Single(diagnostics, Codes.MissingSourceDirectory);
        Assert.Contains("'prep'", d.Message);
        Assert.Contains("steps/prep", d.Message);
        Assert.Equal(At(9), d.Location);
    }

    [Fact]
    public void MissingScriptIsReported()
    {
        _dir.CreateDirectory("steps/prep");
        var step = new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = _dir["steps/prep"], ScriptName = "prepare.py", Location = At(9) };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([step]));

        var d = Single(diagnostics, Codes.MissingScript);
        Assert.Contains("'prepare.py'", d.Message);
        Assert.Contains("'prep'", d.Message);
        Assert.Equal(At(9), d.Location);
    }

    [Fact]
    public void ExistingScriptIsAccepted()
    {
        _dir.WriteFile("steps/prep/prepare.py", "print(1)\n");
        var step = new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = _dir["steps/prep"], ScriptName = "prepare.py" };

        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline([step]));

        Assert.Empty(diagnostics);
        Assert.NotNull(graph);
    }

    [Fact]
    public void SourceDirectoryOutsideTheProjectIsReported()
    {
        using var elsewhere = new TempDirectory();
        elsewhere.WriteFile("prepare.py", "print(1)\n");
        var step = new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = elsewhere.Path, ScriptName = "prepare.py", Location = At(11) };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([step]));

        var d = Single(diagnostics, Codes.PathEscapes);
        Assert.Contains("'prep'", d.Message);
        Assert.Contains(elsewhere.Path, d.Message);
        Assert.Equal(At(11), d.Location);
        Assert.DoesNotContain(diagnostics, x => x.Code == Codes.MissingScript);
    }

    [Fact]
    public void SiblingFolderWhoseNameStartsLikeTheProjectIsOutside()
    {
        // /tmp/x/proj and /tmp/x/proj2: a string prefix test would take the second for a subfolder of the first.
        var projectDir = _dir.CreateDirectory("proj");
        _dir.WriteFile("proj2/s.py", "");
        var step = new Step { Name = "s", Kind = StepKind.PythonScript, SourceDirectory = _dir["proj2"], ScriptName = "s.py" };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([step]) with { ProjectFile = Path.Combine(projectDir, "p.mlproj") });

        Single(diagnostics, Codes.PathEscapes);
    }

    [Fact]
    public void ScriptNameClimbingOutOfTheSourceDirectoryIsReported()
    {
        _dir.CreateDirectory("steps/prep");
        _dir.WriteFile("steps/other.py", "");
        var step = new Step { Name = "prep", Kind = StepKind.PythonScript, SourceDirectory = _dir["steps/prep"], ScriptName = "../other.py", Location = At(2) };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([step]));

        var d = Single(diagnostics, Codes.PathEscapes);
        Assert.Contains("'../other.py'", d.Message);
    }

    [Theory]
    [InlineData("../models/{run-id}")]
    [InlineData("models/../../x")]
    [InlineData("/abs/models")]
    public void OutputDestinationEscapingTheDatastoreIsReported(string destination)
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{output:model}")], outputs: [new("model", Destination: destination, Location: At(3))]));

        var d = Single(diagnostics, Codes.PathEscapes);
        Assert.Contains("'model'", d.Message);
        Assert.Contains(destination, d.Message);
        Assert.Equal(At(3), d.Location);
    }

    [Theory]
    [InlineData("models/{run-id}")]
    [InlineData("models/../best")]
    [InlineData("./x/{output-name}")]
    public void OutputDestinationInsideTheDatastoreIsAccepted(string destination)
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{output:model}")], outputs: [new("model", Destination: destination)]));

        Assert.Empty(diagnostics);
        Assert.NotNull(graph);
    }

    [Fact]
    public void DatasetPathEscapingTheProjectIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{input:raw}")], datasets: [new("raw", "../shared/*.csv", Location: At(2))]));

        var d = Single(diagnostics, Codes.PathEscapes);
        Assert.Contains("'raw'", d.Message);
        Assert.Equal(At(2), d.Location);
    }

    [Theory]
    [InlineData("data/*.csv", "iris:2", false, "also Path or Register")]
    [InlineData("", "iris:2", true, "also Path or Register")]
    [InlineData("", "iris:0", false, "Dataset='iris:0'")]
    [InlineData("", "iris:two", false, "Dataset='iris:two'")]
    [InlineData("", null, false, "neither Path nor Dataset")]
    public void DatasetMustReadEitherFilesOrOneRegisteredVersion(string path, string? registered, bool register, string mentions)
    {
        var dataset = new FileDataset("raw", path, Location: At(2)) { Registered = registered, Register = register };

        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{input:raw}")], datasets: [dataset]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains(mentions, d.Message);
        Assert.Equal(At(2), d.Location);
    }

    [Theory]
    [InlineData("iris", "iris", null)]
    [InlineData("iris:3", "iris", 3)]
    public void RegisteredDatasetReferenceIsNameAndOptionalVersion(string registered, string name, int? version)
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{input:raw}")], datasets: [new("raw", "") { Registered = registered }]));

        Assert.NotNull(graph);
        Assert.Empty(diagnostics);
        Assert.Equal((name, version), graph.Pipeline.Datasets[0].RegisteredReference);
    }

    [Fact]
    public void OutputWrittenByTwoStepsIsReportedWithBothSteps()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{output:model}"), Command("b", "{output:model}")],
            outputs: [new("model", Location: At(4))]));

        var d = Single(diagnostics, Codes.OutputProducers);
        Assert.Contains("'model'", d.Message);
        Assert.Contains("'a', 'b'", d.Message);
        Assert.Equal(At(4), d.Location);
    }

    [Fact]
    public void OutputWrittenByNoStepIsReported()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "{input:model}")], outputs: [new("model", Location: At(4))]));

        var d = Single(diagnostics, Codes.OutputProducers);
        Assert.Contains("'model'", d.Message);
        Assert.Contains("no step", d.Message);
        Assert.Equal(At(4), d.Location);
    }

    [Fact]
    public void OutputDeclaredInOutputsMetadataHasAProducer()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a") with { Outputs = ["model"] }, Command("b") with { Inputs = ["model"] }],
            outputs: [new("model")]));

        Assert.Empty(diagnostics);
        Assert.Equal(["a"], graph!.Dependencies["b"]);
    }

    [Fact]
    public void UnterminatedQuoteInArgumentsIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "--title 'oops", 5)]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("'a'", d.Message);
        Assert.Contains("unterminated", d.Message);
        Assert.Equal(At(5), d.Location);
    }

    [Fact]
    public void UnterminatedQuoteInCommandIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "", 5, command: "sh -c \"echo")]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("unterminated", d.Message);
    }

    [Fact]
    public void CommandStepWithoutCommandIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([Command("a", "", 5, command: "  ")]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("CommandStep 'a'", d.Message);
        Assert.Equal(At(5), d.Location);
    }

    [Fact]
    public void PythonScriptStepWithoutSourceDirectoryIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([new Step { Name = "p", Kind = StepKind.PythonScript, ScriptName = "x.py", Location = At(3) }]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("PythonScriptStep 'p'", d.Message);
        Assert.Contains("SourceDirectory", d.Message);
    }

    [Fact]
    public void PythonScriptStepWithoutScriptNameIsBadMetadata()
    {
        _dir.CreateDirectory("steps/p");
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline([new Step { Name = "p", Kind = StepKind.PythonScript, SourceDirectory = _dir["steps/p"], Location = At(3) }]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("ScriptName", d.Message);
        Assert.Equal(At(3), d.Location);
    }

    [Fact]
    public void ComputeTargetWithNoNodesIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a") with { Compute = "cpu" }],
            computes: [new("cpu", ComputeKind.Local, 0, At(3))]));

        var found = Assert.Single(diagnostics, d => d.Code == Codes.InvalidMetadata);
        Assert.Contains("'cpu'", found.Message);
        Assert.Contains("MaxNodes=0", found.Message);
        Assert.Equal(At(3), found.Location);
    }

    [Fact]
    public void DatastoreWithBadKindIsBadMetadata()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{output:o}")],
            outputs: [new("o", Datastore: "blob")],
            datastores: [new("blob", "AzureBlob", "x", At(6))]));

        var d = Single(diagnostics, Codes.InvalidMetadata);
        Assert.Contains("'blob'", d.Message);
        Assert.Equal(At(6), d.Location);
    }

    [Fact]
    public void UnknownDatastoreIsReportedForDatasetsAndOutputs()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{input:raw} {output:o}")],
            outputs: [new("o", Datastore: "store_o", Location: At(3))],
            datasets: [new("raw", "x", Datastore: "store_d", Location: At(2))],
            datastores: [new("other", "Local", "o")]));

        var found = diagnostics.Where(d => d.Code == Codes.UnknownDatastore).ToList();
        Assert.Equal(2, found.Count);
        Assert.Contains(found, d => d.Message.Contains("'store_d'") && d.Location == At(2));
        Assert.Contains(found, d => d.Message.Contains("'store_o'") && d.Location == At(3));
    }

    [Fact]
    public void WorkspaceDefaultDatastoreNeedsNoDeclaration()
    {
        var (_, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{output:o}")],
            outputs: [new("o", Datastore: Datastore.DefaultName)]));

        Assert.Empty(diagnostics);
    }

    [Fact]
    public void EveryMistakeIsReportedAtOnce()
    {
        var (graph, diagnostics) = PipelineValidator.Validate(Pipeline(
            [Command("a", "{input:nope} {param:nope} {output:nope}") with { Compute = "nope", RunAfter = ["nope"] }]));

        Assert.Null(graph);
        Assert.Equal(
            [Codes.UnknownStep, Codes.UnknownInput, Codes.UnknownOutput, Codes.UnknownParameter, Codes.UnknownCompute],
            diagnostics.Select(d => d.Code).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("a/b", false)]
    [InlineData("a/../b", false)]
    [InlineData("./a", false)]
    [InlineData("..", true)]
    [InlineData("a/../../b", true)]
    [InlineData("a\\..\\..\\b", true)]
    [InlineData("/etc", true)]
    public void PathEscapesDetectsClimbingOutAndRootedPaths(string path, bool escapes)
    {
        Assert.Equal(escapes, PipelineValidator.PathEscapes(path));
    }
}
