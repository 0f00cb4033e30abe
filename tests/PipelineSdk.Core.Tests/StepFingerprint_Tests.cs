using PipelineSdk.Core.Environments;
using PipelineSdk.Core.Execution;
using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Model;
using PipelineSdk.Core.Snapshots;

namespace PipelineSdk.Core.Tests;

public sealed class StepFingerprint_Tests
{
    private static readonly Step Prepare = new()
    {
        Name = "prep",
        Kind = StepKind.PythonScript,
        SourceDirectory = "/somewhere/steps/prep",
        ScriptName = "prepare.py",
        Arguments = "--raw {input:raw} --lr {param:learning_rate} --out {output:clean}",
        Environment = "python-3.11",
    };

    private static Dictionary<string, string> Source() => new() { ["prepare.py"] = "h-script-1", ["util.py"] = "h-util-1" };
    private static Dictionary<string, string> Params() => new() { ["learning_rate"] = "0.1" };
    private static Dictionary<string, IReadOnlyDictionary<string, string>> Inputs() =>
        new() { ["raw"] = new Dictionary<string, string> { ["a.csv"] = "h-a-1", ["b.csv"] = "h-b-1" } };
    private static Dictionary<string, string> HashPaths() => new() { ["config/settings.yaml"] = "h-cfg-1" };

    private static StepFingerprint Compute(
        Step? step = null,
        Dictionary<string, string>? source = null,
        Dictionary<string, string>? parameters = null,
        Dictionary<string, IReadOnlyDictionary<string, string>>? inputs = null,
        Dictionary<string, string>? hashPaths = null,
        string[]? outputs = null) =>
        Fp(step ?? Prepare, source ?? Source(), parameters ?? Params(), inputs ?? Inputs(), hashPaths ?? HashPaths(), outputs ?? ["clean"]);

    private static readonly StepFingerprint Baseline = Compute();

    /// <summary>The engine's entry point with plain dictionaries for the file groups.</summary>
    private static StepFingerprint Fp(
        Step step, IReadOnlyDictionary<string, string> source, IReadOnlyDictionary<string, string> parameters,
        Dictionary<string, IReadOnlyDictionary<string, string>> inputs, IReadOnlyDictionary<string, string> hashPaths, string[] outputs) =>
        StepFingerprint.Compute(step, FileGroup.Of(source), parameters, inputs.ToDictionary(i => i.Key, i => FileGroup.Of(i.Value)), FileGroup.Of(hashPaths), outputs, null,
            environment: ResolvedEnvironment.Resolve(step.Environment, []));

    [Fact]
    public void SameFieldsGiveTheSameFingerprint()
    {
        Assert.Equal(Baseline.Value, Compute().Value);
        Assert.Matches("^[0-9a-f]{32}$", Baseline.Value);
    }

    [Fact]
    public void ScriptContentChangesTheFingerprint()
    {
        var source = Source();
        source["prepare.py"] = "h-script-2";

        Assert.NotEqual(Baseline.Value, Compute(source: source).Value);
    }

    [Fact]
    public void AnotherSourceFileChangesTheFingerprint()
    {
        var changed = Source();
        changed["util.py"] = "h-util-2";
        var added = Source();
        added["extra.py"] = "h-extra";
        var removed = Source();
        removed.Remove("util.py");
        var renamed = Source();
        renamed.Remove("util.py");
        renamed["utils.py"] = "h-util-1";

        Assert.NotEqual(Baseline.Value, Compute(source: changed).Value);
        Assert.NotEqual(Baseline.Value, Compute(source: added).Value);
        Assert.NotEqual(Baseline.Value, Compute(source: removed).Value);
        Assert.NotEqual(Baseline.Value, Compute(source: renamed).Value);
    }

    [Fact]
    public void ArgumentsChangeTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(Prepare with { Arguments = Prepare.Arguments + " --epochs 3" }).Value);
        Assert.NotEqual(Baseline.Value, Compute(Prepare with { Arguments = "--raw {input:raw} --out {output:clean} --lr {param:learning_rate}" }).Value);
    }

    [Fact]
    public void QuotingThatChangesTheWordsChangesTheFingerprint()
    {
        var one = Compute(Prepare with { Arguments = "--title 'a b'" });
        var two = Compute(Prepare with { Arguments = "--title a b" });

        Assert.NotEqual(one.Value, two.Value);
    }

    [Fact]
    public void ParameterValueChangesTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(parameters: new() { ["learning_rate"] = "0.2" }).Value);
    }

    [Fact]
    public void InputFileContentChangesTheFingerprint()
    {
        var inputs = Inputs();
        inputs["raw"] = new Dictionary<string, string> { ["a.csv"] = "h-a-2", ["b.csv"] = "h-b-1" };

        Assert.NotEqual(Baseline.Value, Compute(inputs: inputs).Value);
    }

    [Fact]
    public void InputFileAddedChangesTheFingerprint()
    {
        var inputs = Inputs();
        inputs["raw"] = new Dictionary<string, string> { ["a.csv"] = "h-a-1", ["b.csv"] = "h-b-1", ["c.csv"] = "h-c-1" };

        Assert.NotEqual(Baseline.Value, Compute(inputs: inputs).Value);
    }

    [Fact]
    public void HashPathContentChangesTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(hashPaths: new() { ["config/settings.yaml"] = "h-cfg-2" }).Value);
        Assert.NotEqual(Baseline.Value, Compute(hashPaths: new()).Value);
    }

    [Fact]
    public void EnvironmentChangesTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(Prepare with { Environment = "python-3.12" }).Value);
    }

    [Fact]
    public void KindChangesTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(Prepare with { Kind = StepKind.Command }).Value);
    }

    [Fact]
    public void ScriptNameChangesTheFingerprint()
    {
        Assert.NotEqual(Baseline.Value, Compute(Prepare with { ScriptName = "util.py" }).Value);
    }

    [Fact]
    public void OutputNamesChangeTheFingerprintAndAreExplained()
    {
        var more = Compute(outputs: ["clean", "stats"]);

        Assert.NotEqual(Baseline.Value, more.Value);
        Assert.Equal(["output 'stats' added"], more.Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void CommandChangesTheFingerprint()
    {
        var step = new Step { Name = "c", Kind = StepKind.Command, Command = "sh -c 'echo 1'" };
        var a = Fp(step, new Dictionary<string, string>(), Params(), Inputs(), HashPaths(), ["clean"]);
        var b = Fp(step with { Command = "sh -c 'echo 2'" }, new Dictionary<string, string>(), Params(), Inputs(), HashPaths(), ["clean"]);

        Assert.NotEqual(a.Value, b.Value);
    }

    [Fact]
    public void ArgumentWhitespaceDoesNotChangeTheFingerprint()
    {
        var respaced = Compute(Prepare with { Arguments = "  --raw   {input:raw}\n\t--lr {param:learning_rate}     --out {output:clean} " });

        Assert.Equal(Baseline.Value, respaced.Value);
    }

    [Fact]
    public void CommandWhitespaceDoesNotChangeTheFingerprint()
    {
        var step = new Step { Name = "c", Kind = StepKind.Command, Command = "sh -c 'echo 1'" };
        var a = Fp(step, Source(), Params(), Inputs(), HashPaths(), ["clean"]);
        var b = Fp(step with { Command = "  sh   -c\t'echo 1' " }, Source(), Params(), Inputs(), HashPaths(), ["clean"]);

        Assert.Equal(a.Value, b.Value);
    }

    [Fact]
    public void StepNameLocationAndOtherBookkeepingDoNotChangeTheFingerprint()
    {
        var renamed = Compute(Prepare with
        {
            Name = "prep_v2",
            Location = new SourceLocation("/x/p.mlproj", 12, 5),
            Compute = "cpu-cluster",
            SourceDirectory = "/elsewhere/prep",
        });

        Assert.Equal(Baseline.Value, renamed.Value);
    }

    [Fact]
    public void DeclarationOrderDoesNotChangeTheFingerprint()
    {
        var source = new Dictionary<string, string> { ["util.py"] = "h-util-1", ["prepare.py"] = "h-script-1" };
        var inputs = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["raw"] = new Dictionary<string, string> { ["b.csv"] = "h-b-1", ["a.csv"] = "h-a-1" },
        };
        var a = Fp(Prepare, Source(), new Dictionary<string, string> { ["x"] = "1", ["y"] = "2" }, Inputs(), HashPaths(), ["clean"]);
        var b = Fp(Prepare, source, new Dictionary<string, string> { ["y"] = "2", ["x"] = "1" }, inputs, HashPaths(), ["clean"]);

        Assert.Equal(a.Value, b.Value);
    }

    [Fact]
    public void SourceFolderLocationDoesNotChangeTheFingerprint()
    {
        using var one = new TempDirectory();
        using var two = new TempDirectory();
        foreach (var dir in new[] { one, two })
        {
            dir.WriteFile("steps/prep/prepare.py", "import sys\nprint(sys.argv)\n");
            dir.WriteFile("steps/prep/lib/util.py", "X = 1\n");
        }
        var hashes = new FileHashCache();
        var snapOne = SourceSnapshot.Take(one["steps/prep"], hashes);
        var snapTwo = SourceSnapshot.Take(two["steps/prep"], hashes);

        var a = Fp(Prepare with { SourceDirectory = one["steps/prep"] }, snapOne.Files, Params(), Inputs(), HashPaths(), ["clean"]);
        var b = Fp(Prepare with { SourceDirectory = two["steps/prep"] }, snapTwo.Files, Params(), Inputs(), HashPaths(), ["clean"]);

        Assert.Equal(snapOne.Id, snapTwo.Id);
        Assert.Equal(a.Value, b.Value);

        two.WriteFile("steps/prep/lib/util.py", "X = 2\n");
        var snapChanged = SourceSnapshot.Take(two["steps/prep"], hashes);
        var c = Fp(Prepare, snapChanged.Files, Params(), Inputs(), HashPaths(), ["clean"]);
        Assert.NotEqual(a.Value, c.Value);
    }

    [Fact]
    public void NoDifferencesFromAnIdenticalFingerprint()
    {
        Assert.Empty(Compute().Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void ParameterChangeIsDescribedWithBothValues()
    {
        var now = Compute(parameters: new() { ["learning_rate"] = "0.2" });

        Assert.Equal(["parameter learning_rate 0.1 → 0.2"], now.Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void ScriptChangeIsDescribedAsTheScript()
    {
        var source = Source();
        source["prepare.py"] = "h-script-2";

        Assert.Equal(["script prepare.py changed"], Compute(source: source).Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void OtherSourceFileChangeIsDescribedAsASourceFile()
    {
        var source = Source();
        source["util.py"] = "h-util-2";
        source["new.py"] = "h-new";

        Assert.Equal(["source file new.py added", "source file util.py changed"], Compute(source: source).Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void InputFileChangeIsDescribedWithTheInputAndTheFile()
    {
        var inputs = Inputs();
        inputs["raw"] = new Dictionary<string, string> { ["a.csv"] = "h-a-2", ["c.csv"] = "h-c-1" };

        var differences = Compute(inputs: inputs).Explain(Baseline, "prepare.py");

        Assert.Equal(["input 'raw' file a.csv changed", "input 'raw' file b.csv removed", "input 'raw' file c.csv added"], differences);
    }

    [Fact]
    public void DifferencesComeMostTellingFirst()
    {
        var source = Source();
        source["prepare.py"] = "h-script-2";
        var now = Compute(
            Prepare with { Environment = "python-3.12", Arguments = Prepare.Arguments + " -v" },
            source: source,
            parameters: new() { ["learning_rate"] = "0.2" },
            hashPaths: new() { ["config/settings.yaml"] = "h-cfg-2" });

        Assert.Equal(
            [
                "script prepare.py changed",
                "arguments changed",
                "parameter learning_rate 0.1 → 0.2",
                "hashed path config/settings.yaml changed",
                "environment python-3.12 changed",
            ],
            now.Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void KindAndScriptNameChangesAreDescribed()
    {
        var now = Compute(Prepare with { ScriptName = "util.py" });

        Assert.Equal(["script prepare.py → util.py"], now.Explain(Baseline, "util.py"));
        Assert.Equal(["step kind PythonScript → Command"], Compute(Prepare with { Kind = StepKind.Command }).Explain(Baseline, "prepare.py"));
    }

    [Fact]
    public void FileGroupsAreOneFieldEachWithTheirFilesKeptApart()
    {
        Assert.Equal("0.1", Baseline.Fields["param:learning_rate"]);
        Assert.Equal(Baseline.Groups["input:raw"].Hash, Baseline.Fields["input:raw"]);
        Assert.Equal("h-a-1", Baseline.Groups["input:raw"].Files["a.csv"]);
        Assert.DoesNotContain(Baseline.Fields.Keys, k => k.Contains("a.csv"));
    }

    [Fact]
    public void ChangedGroupWhoseEarlierFilesAreUnknownIsNamedAsAWhole()
    {
        var inputs = Inputs();
        inputs["raw"] = new Dictionary<string, string> { ["a.csv"] = "h-a-2", ["b.csv"] = "h-b-1" };

        var differences = Compute(inputs: inputs).Differences(Baseline.Fields, _ => null, "prepare.py");

        Assert.Equal(["input 'raw' changed"], differences);
    }
}

internal static class FingerprintExplanations
{
    /// <summary>Differences from an earlier fingerprint whose file manifests are all known, as the run history knows them.</summary>
    public static IReadOnlyList<string> Explain(this StepFingerprint now, StepFingerprint before, string? scriptName) =>
        now.Differences(before.Fields, hash => before.Groups.Values.FirstOrDefault(g => g.Hash == hash)?.Files, scriptName);
}
