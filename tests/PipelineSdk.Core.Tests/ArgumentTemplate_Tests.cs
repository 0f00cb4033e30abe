using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Tests;

public sealed class ArgumentTemplate_Tests
{
    [Fact]
    public void WhitespaceSeparatesWords()
    {
        var words = ArgumentTemplate.SplitWords("  --data  in.csv\t--epochs\n3 ");

        Assert.Equal(["--data", "in.csv", "--epochs", "3"], words);
    }

    [Fact]
    public void EmptyTextHasNoWords()
    {
        Assert.Empty(ArgumentTemplate.SplitWords(""));
        Assert.Empty(ArgumentTemplate.SplitWords("   \t "));
    }

    [Fact]
    public void DoubleQuotesKeepSpacesInOneWord()
    {
        var words = ArgumentTemplate.SplitWords("--title \"my model v2\" --x");

        Assert.Equal(["--title", "my model v2", "--x"], words);
    }

    [Fact]
    public void SingleQuotesKeepSpacesAndBackslashesLiterally()
    {
        var words = ArgumentTemplate.SplitWords(@"sh -c 'echo a\nb > out.txt'");

        Assert.Equal(["sh", "-c", @"echo a\nb > out.txt"], words);
    }

    [Fact]
    public void QuotesJoinWithAdjacentTextIntoOneWord()
    {
        var words = ArgumentTemplate.SplitWords("--name=\"a b\"'c d'e");

        Assert.Equal(["--name=a bc de"], words);
    }

    [Fact]
    public void EmptyQuotesAreAnEmptyWord()
    {
        var words = ArgumentTemplate.SplitWords("a \"\" ''  b");

        Assert.Equal(["a", "", "", "b"], words);
    }

    [Fact]
    public void BackslashEscapesOutsideQuotes()
    {
        var words = ArgumentTemplate.SplitWords(@"my\ file.txt \'x\' \\");

        Assert.Equal(["my file.txt", "'x'", @"\"], words);
    }

    [Fact]
    public void BackslashInDoubleQuotesEscapesOnlyQuoteAndBackslash()
    {
        var words = ArgumentTemplate.SplitWords(@"""say \""hi\"" \\ \n""");

        Assert.Equal([@"say ""hi"" \ \n"], words);
    }

    [Theory]
    [InlineData("--title \"unclosed")]
    [InlineData("sh -c 'echo hi")]
    [InlineData("\"a\" 'b")]
    public void UnterminatedQuoteThrowsFormatException(string text)
    {
        var e = Assert.Throws<FormatException>(() => ArgumentTemplate.SplitWords(text));

        Assert.Contains("unterminated", e.Message);
        Assert.Contains(text, e.Message);
    }

    [Fact]
    public void ReferencesAreExtractedWithTheirKindInOrder()
    {
        var refs = ArgumentTemplate.References("--raw {input:raw_data} --lr {param:learning_rate} --out {output:model-v1.2} {input:raw_data}").ToList();

        Assert.Equal(
            [
                new Reference(ReferenceKind.Input, "raw_data"),
                new Reference(ReferenceKind.Param, "learning_rate"),
                new Reference(ReferenceKind.Output, "model-v1.2"),
                new Reference(ReferenceKind.Input, "raw_data"),
            ],
            refs);
    }

    [Theory]
    [InlineData("{inputs:x}")]
    [InlineData("{input:}")]
    [InlineData("{input:1x}")]
    [InlineData("{ input:x }")]
    [InlineData("{INPUT:x}")]
    [InlineData("$(input:x)")]
    public void TextThatIsNotAReferenceIsNotExtracted(string template)
    {
        Assert.Empty(ArgumentTemplate.References(template));
    }

    [Fact]
    public void ReferencesInsideQuotesAreStillReferences()
    {
        var refs = ArgumentTemplate.References("sh -c 'cp \"{input:a}\" {output:b}/'").ToList();

        Assert.Equal([new Reference(ReferenceKind.Input, "a"), new Reference(ReferenceKind.Output, "b")], refs);
    }

    [Fact]
    public void ExpansionKeepsASubstitutedPathWithSpacesAsOneArgument()
    {
        var argv = ArgumentTemplate.Expand("--data {input:raw} --out {output:model}", r => r.Kind == ReferenceKind.Input ? "/tmp/my data/raw files" : "/tmp/out dir");

        Assert.Equal(["--data", "/tmp/my data/raw files", "--out", "/tmp/out dir"], argv);
    }

    [Fact]
    public void ExpansionSubstitutesInsideAWord()
    {
        var argv = ArgumentTemplate.Expand("--lr={param:learning_rate} {output:o}/model.json", r => r.Kind == ReferenceKind.Param ? "0.1" : "/x y");

        Assert.Equal(["--lr=0.1", "/x y/model.json"], argv);
    }

    [Fact]
    public void ExpansionDoesNotReexpandSubstitutedText()
    {
        var argv = ArgumentTemplate.Expand("{param:a}", r => r.Name == "a" ? "{param:b}" : "B");

        Assert.Equal(["{param:b}"], argv);
    }

    [Fact]
    public void ExpansionPassesEachReferenceToTheResolver()
    {
        var seen = new List<Reference>();
        ArgumentTemplate.Expand("{input:a} '{output:b}' x{param:c}", r => { seen.Add(r); return "v"; });

        Assert.Equal([new Reference(ReferenceKind.Input, "a"), new Reference(ReferenceKind.Output, "b"), new Reference(ReferenceKind.Param, "c")], seen);
    }
}
