using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Tests;

public sealed class Names_Tests
{
    [Theory]
    [InlineData("prep")]
    [InlineData("train_v2.1-final")]
    [InlineData("_private")]
    [InlineData("résultat")]
    [InlineData("模型")]
    public void UsableNames(string name) => Assert.Null(Names.Problem(name));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("..", "'..'")]
    [InlineData("a..b", "'..'")]
    [InlineData("x/../src", "path separator")]
    [InlineData("a\\b", "path separator")]
    [InlineData("/abs", "path separator")]
    [InlineData("my step", "letters, digits")]
    [InlineData("1st", "letters, digits")]
    [InlineData("a\u0000b", "control character")]
    [InlineData("a\tb", "control character")]
    public void UnusableNamesSayWhy(string name, string why) => Assert.Contains(why, Names.Problem(name));

    [Fact]
    public void TheLimitIsInBytes()
    {
        Assert.Null(Names.Problem(new string('a', Names.MaxBytes)));
        Assert.Contains("longer than", Names.Problem(new string('a', Names.MaxBytes + 1)));
        Assert.Contains("longer than", Names.Problem(new string('é', Names.MaxBytes / 2 + 1)));
    }

    [Fact]
    public void DisplayEscapesControlCharactersAndCutsLongNames()
    {
        Assert.Equal("a\\u0000b", Names.Display("a\0b"));
        Assert.EndsWith("… (5000 characters)", Names.Display(new string('p', 5000)));
    }

    [Theory]
    [InlineData("{input:}", "{input:}")]
    [InlineData("echo {param:x", "{param:x")]
    [InlineData("cat {Input:raw}", "{Input:raw}")]
    [InlineData("cat {input: raw}", "{input: raw}")]
    [InlineData("cat {inputs:raw}", "{inputs:raw}")]
    [InlineData("cat {output:a/b}", "{output:a/b}")]
    public void MalformedReferencesAreFound(string template, string found) => Assert.Equal([found], ArgumentTemplate.Malformed(template));

    [Theory]
    [InlineData("cat {input:raw} > {output:résultat}/x {param:lr}")]
    [InlineData("python -c 'print({\"a\": 1})' --fmt {epoch:02d}")]
    public void ReferencesAndOtherBracesAreNotMalformed(string template) => Assert.Empty(ArgumentTemplate.Malformed(template));
}

public sealed class Suggestions_Tests
{
    [Theory]
    [InlineData("Argument", "Arguments")]
    [InlineData("AlowReuse", "AllowReuse")]
    [InlineData("sourcedirectory", "SourceDirectory")]
    [InlineData("PythonScriptSteps", "PythonScriptStep")]
    public void ATypoSuggestsTheWordItMeant(string typo, string meant) =>
        Assert.Equal(meant, Suggestions.Closest(typo, ["Arguments", "AllowReuse", "SourceDirectory", "PythonScriptStep", "Compute", "Command"]));

    [Theory]
    [InlineData("Description")]
    [InlineData("Foo")]
    public void AWordOfItsOwnSuggestsNothing(string word) =>
        Assert.Null(Suggestions.Closest(word, ["Arguments", "AllowReuse", "SourceDirectory", "Compute", "Command"]));
}
