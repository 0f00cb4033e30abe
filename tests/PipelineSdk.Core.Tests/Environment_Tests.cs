using PipelineSdk.Core.Environments;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Tests;

public sealed class Environment_Tests
{
    private static readonly StepEnvironment Sklearn = new("train-env")
    {
        Curated = "sklearn-1.5",
        PipPackages = ["lightgbm==4.5.0"],
        Variables = new Dictionary<string, string> { ["OMP_NUM_THREADS"] = "1" },
        DockerfileLines = ["RUN echo extra"],
    };

    private static ResolvedEnvironment Resolve(StepEnvironment e) => ResolvedEnvironment.Resolve(e.Name, [e])!;

    [Fact]
    public void ItemStartsFromItsCuratedEnvironmentAndAddsItsOwnParts()
    {
        var env = Resolve(Sklearn);

        Assert.Equal("python:3.11-slim", env.BaseImage);
        Assert.Equal(["scikit-learn==1.5.2", "pandas==2.2.3", "numpy==2.1.3", "scipy==1.14.1", "lightgbm==4.5.0"], env.PipPackages);
        Assert.False(env.UserManaged);
        Assert.Equal($"pipelinesdk/train-env:{env.Hash[..16]}", env.Image);
        var dockerfile = env.Dockerfile().Split('\n');
        Assert.Equal("FROM python:3.11-slim", dockerfile[0]);
        Assert.Contains("RUN python3 -m pip install --no-cache-dir scikit-learn==1.5.2 pandas==2.2.3 numpy==2.1.3 scipy==1.14.1 lightgbm==4.5.0", dockerfile);
        Assert.Contains("ENV OMP_NUM_THREADS=\"1\"", dockerfile);
        Assert.Contains("RUN echo extra", dockerfile);
        Assert.Contains(dockerfile, l => l.StartsWith("LABEL ") && l.Contains(env.Hash));
    }

    [Fact]
    public void HashIsOfTheDefinitionNotTheName()
    {
        var renamed = Resolve(Sklearn with { Name = "other-name" });

        Assert.Equal(Resolve(Sklearn).Hash, renamed.Hash);
        Assert.NotEqual(Resolve(Sklearn).Image, renamed.Image);
    }

    [Theory]
    [InlineData("base")]
    [InlineData("pip")]
    [InlineData("conda")]
    [InlineData("variables")]
    [InlineData("dockerfile")]
    [InlineData("usermanaged")]
    public void EveryPartOfTheDefinitionChangesTheHash(string part)
    {
        var plain = new StepEnvironment("e") { BaseImage = "img:1" };
        var changed = part switch
        {
            "base" => plain with { BaseImage = "img:2" },
            "pip" => plain with { PipPackages = ["x"] },
            "conda" => plain with { CondaPackages = ["x"] },
            "variables" => plain with { Variables = new Dictionary<string, string> { ["A"] = "1" } },
            "dockerfile" => plain with { DockerfileLines = ["RUN true"] },
            _ => plain with { UserManagedDependencies = true },
        };

        Assert.NotEqual(Resolve(plain).Hash, Resolve(changed).Hash);
    }

    [Fact]
    public void CuratedNameAloneResolvesAndUserManagedRunsItsImageAsIs()
    {
        var env = ResolvedEnvironment.Resolve("python-3.11", [])!;

        Assert.True(env.UserManaged);
        Assert.Equal("python:3.11-slim", env.Image);
        Assert.Null(ResolvedEnvironment.Resolve("python-2.7", []));
    }

    [Fact]
    public void UserManagedWithoutImageHasNoImage() =>
        Assert.Null(Resolve(new StepEnvironment("host") { UserManagedDependencies = true }).Image);
}

public sealed class ResourceUnits_Tests
{
    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("4G", 4L << 30)]
    [InlineData("2048", 2048L << 20)]
    [InlineData("1.5g", 3L << 29)]
    [InlineData("100GB", 100L << 30)]
    [InlineData("lots", null)]
    [InlineData("-1G", null)]
    [InlineData("", null)]
    public void MemoryIsReadLikeSlurmsMem(string text, long? bytes) => Assert.Equal(bytes, ResourceUnits.MemoryBytes(text));

    [Theory]
    [InlineData("90", 90 * 60)]
    [InlineData("1:30", 90)]
    [InlineData("01:30:00", 5400)]
    [InlineData("2-00", 2 * 86400)]
    [InlineData("1-02:03:04", 86400 + 7384)]
    [InlineData("0", null)]
    [InlineData("soon", null)]
    [InlineData("1:2:3:4", null)]
    public void TimeLimitIsReadLikeSlurmsTime(string text, int? seconds) =>
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, ResourceUnits.Duration(text));

    [Fact]
    public void GpusBecomeGresOrACount()
    {
        Assert.Equal("gpu:2", ResourceUnits.Gres("2"));
        Assert.Equal("gpu:a100:1", ResourceUnits.Gres("gpu:a100:1"));
        Assert.Equal(1, ResourceUnits.GpuCount("gpu:a100:1"));
        Assert.Equal(-1, ResourceUnits.GpuCount("all"));
    }
}
