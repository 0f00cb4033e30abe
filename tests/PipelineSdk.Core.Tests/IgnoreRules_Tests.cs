using PipelineSdk.Core.Hashing;
using PipelineSdk.Core.Snapshots;

namespace PipelineSdk.Core.Tests;

public sealed class IgnoreRules_Tests
{
    private static IgnoreRules Rules(params string[] lines) => new(lines);

    [Fact]
    public void AmlignoreWinsOverGitignore()
    {
        using var dir = new TempDirectory();
        dir.WriteFile(".gitignore", "*.csv\n");
        dir.WriteFile(".amlignore", "*.log\n");

        var (rules, file) = IgnoreRules.For(dir.Path);

        Assert.Equal(".amlignore", file);
        Assert.True(rules.IsIgnored("run.log", false));
        Assert.False(rules.IsIgnored("data.csv", false));
    }

    [Fact]
    public void GitignoreIsUsedWithoutAmlignore()
    {
        using var dir = new TempDirectory();
        dir.WriteFile(".gitignore", "*.csv\n");

        var (rules, file) = IgnoreRules.For(dir.Path);

        Assert.Equal(".gitignore", file);
        Assert.True(rules.IsIgnored("data.csv", false));
        Assert.False(rules.IsIgnored("run.log", false));
    }

    [Fact]
    public void NoIgnoreFileKeepsOrdinaryFiles()
    {
        using var dir = new TempDirectory();

        var (rules, file) = IgnoreRules.For(dir.Path);

        Assert.Null(file);
        Assert.False(rules.IsIgnored("train.py", false));
        Assert.False(rules.IsIgnored("data/a.csv", false));
    }

    [Fact]
    public void CommentsAndBlankLinesAreNotPatterns()
    {
        var rules = Rules("# train.py", "", "   ", "\\#notes.txt");

        Assert.False(rules.IsIgnored("train.py", false));
        Assert.False(rules.IsIgnored("# train.py", false));
        Assert.True(rules.IsIgnored("#notes.txt", false));
    }

    [Fact]
    public void NegationReincludesAndTheLastMatchingRuleWins()
    {
        var rules = Rules("*.csv", "!keep.csv");

        Assert.True(rules.IsIgnored("drop.csv", false));
        Assert.False(rules.IsIgnored("keep.csv", false));
        Assert.False(rules.IsIgnored("sub/keep.csv", false));

        var reversed = Rules("!keep.csv", "*.csv");
        Assert.True(reversed.IsIgnored("keep.csv", false));
    }

    [Fact]
    public void TrailingSlashMatchesDirectoriesOnly()
    {
        var rules = Rules("cache/");

        Assert.True(rules.IsIgnored("cache", isDirectory: true));
        Assert.True(rules.IsIgnored("src/cache", isDirectory: true));
        Assert.False(rules.IsIgnored("cache", isDirectory: false));
    }

    [Fact]
    public void PatternWithoutSlashMatchesAtAnyDepth()
    {
        var rules = Rules("secret.txt");

        Assert.True(rules.IsIgnored("secret.txt", false));
        Assert.True(rules.IsIgnored("a/b/secret.txt", false));
        Assert.False(rules.IsIgnored("a/secret.txt.bak", false));
    }

    [Fact]
    public void LeadingSlashAnchorsToTheSourceDirectory()
    {
        var rules = Rules("/data");

        Assert.True(rules.IsIgnored("data", true));
        Assert.False(rules.IsIgnored("steps/data", true));
    }

    [Fact]
    public void SlashInTheMiddleAnchorsToo()
    {
        var rules = Rules("models/tmp");

        Assert.True(rules.IsIgnored("models/tmp", true));
        Assert.False(rules.IsIgnored("old/models/tmp", true));
    }

    [Fact]
    public void SingleStarDoesNotCrossSlashes()
    {
        var rules = Rules("logs/*.txt");

        Assert.True(rules.IsIgnored("logs/a.txt", false));
        Assert.False(rules.IsIgnored("logs/deep/a.txt", false));
    }

    [Fact]
    public void LeadingDoubleStarMatchesInAnyFolder()
    {
        var rules = Rules("**/build");

        Assert.True(rules.IsIgnored("build", true));
        Assert.True(rules.IsIgnored("a/b/build", true));
        Assert.False(rules.IsIgnored("a/builder", true));
    }

    [Fact]
    public void DoubleStarInTheMiddleMatchesZeroOrMoreFolders()
    {
        var rules = Rules("a/**/z.bin");

        Assert.True(rules.IsIgnored("a/z.bin", false));
        Assert.True(rules.IsIgnored("a/b/z.bin", false));
        Assert.True(rules.IsIgnored("a/b/c/z.bin", false));
        Assert.False(rules.IsIgnored("x/a/b/z.bin", false));
    }

    [Fact]
    public void TrailingDoubleStarMatchesEverythingInside()
    {
        var rules = Rules("out/**");

        Assert.True(rules.IsIgnored("out/a", false));
        Assert.True(rules.IsIgnored("out/a/b/c.txt", false));
        Assert.False(rules.IsIgnored("output/a", false));
    }

    [Fact]
    public void QuestionMarkMatchesOneCharacterButNotASlash()
    {
        var rules = Rules("run?.log");

        Assert.True(rules.IsIgnored("run1.log", false));
        Assert.False(rules.IsIgnored("run12.log", false));
        Assert.False(rules.IsIgnored("run.log", false));
        Assert.False(Rules("a?b").IsIgnored("a/b", false));
    }

    [Fact]
    public void BracketsMatchACharacterSet()
    {
        var rules = Rules("part-[0-2].csv", "x[!a].txt");

        Assert.True(rules.IsIgnored("part-1.csv", false));
        Assert.False(rules.IsIgnored("part-7.csv", false));
        Assert.True(rules.IsIgnored("xb.txt", false));
        Assert.False(rules.IsIgnored("xa.txt", false));
    }

    [Fact]
    public void DotsAndOtherRegexCharactersAreLiteral()
    {
        var rules = Rules("a.b+(c)");

        Assert.True(rules.IsIgnored("a.b+(c)", false));
        Assert.False(rules.IsIgnored("aXb+(c)", false));
    }

    [Fact]
    public void PycacheAndPycAreAlwaysIgnored()
    {
        var rules = Rules();

        Assert.True(rules.IsIgnored("__pycache__", isDirectory: true));
        Assert.True(rules.IsIgnored("pkg/__pycache__", isDirectory: true));
        Assert.True(rules.IsIgnored("train.pyc", false));
        Assert.True(rules.IsIgnored("pkg/util.pyc", false));
        Assert.False(rules.IsIgnored("train.py", false));
    }

    [Fact]
    public void PycacheIsIgnoredEvenWithAnAmlignoreThatSaysNothingOfIt()
    {
        using var dir = new TempDirectory();
        dir.WriteFile(".amlignore", "*.tmp\n");
        dir.WriteFile("train.py", "print(1)\n");
        dir.WriteFile("scratch.tmp", "x");
        dir.WriteFile("__pycache__/train.cpython-312.pyc", "bytecode");
        dir.WriteFile("lib/helper.py", "x = 1\n");
        dir.WriteFile("lib/helper.pyc", "bytecode");
        dir.WriteFile(".git/HEAD", "ref: refs/heads/main\n");

        var snapshot = SourceSnapshot.Take(dir.Path, new FileHashCache());

        Assert.Equal(["lib/helper.py", "train.py"], snapshot.Files.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ProjectStateFoldersAreIgnoredOnlyAtTheTop()
    {
        var rules = Rules();

        Assert.True(rules.IsIgnored("obj", true));
        Assert.True(rules.IsIgnored("bin", true));
        Assert.True(rules.IsIgnored(".mlworkspace", true));
        Assert.False(rules.IsIgnored("src/obj", true));
        Assert.False(rules.IsIgnored("obj", false));
    }

    [Fact]
    public void SnapshotLeavesOutWhatTheIgnoreFileSaysIncludingWholeFolders()
    {
        using var dir = new TempDirectory();
        dir.WriteFile(".gitignore", "data/\n*.log\n!important.log\n");
        dir.WriteFile("train.py", "print(1)\n");
        dir.WriteFile("data/big.csv", "1,2\n");
        dir.WriteFile("run.log", "x");
        dir.WriteFile("important.log", "y");

        var snapshot = SourceSnapshot.Take(dir.Path, new FileHashCache());

        Assert.Equal(["important.log", "train.py"], snapshot.Files.Keys.Order(StringComparer.Ordinal));
    }
}
