using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Environments;

/// <summary>
/// The curated environments (Azure ML's <c>AzureML-...</c> ones): a step names one in Environment, or an Environment
/// item starts from one with Curated="...". Their base images come from Docker Hub; where no registry is reachable,
/// tag a local image with the same name.
/// </summary>
public static class EnvironmentCatalog
{
    public static readonly IReadOnlyDictionary<string, StepEnvironment> Curated = new Dictionary<string, StepEnvironment>(StringComparer.OrdinalIgnoreCase)
    {
        ["python-3.11"] = new("python-3.11") { BaseImage = "python:3.11-slim", UserManagedDependencies = true },
        ["python-3.12"] = new("python-3.12") { BaseImage = "python:3.12-slim", UserManagedDependencies = true },
        ["sklearn-1.5"] = new("sklearn-1.5")
        {
            BaseImage = "python:3.11-slim",
            PipPackages = ["scikit-learn==1.5.2", "pandas==2.2.3", "numpy==2.1.3", "scipy==1.14.1"],
        },
        ["pytorch-2.5-cpu"] = new("pytorch-2.5-cpu")
        {
            BaseImage = "python:3.11-slim",
            PipPackages = ["--index-url https://download.pytorch.org/whl/cpu", "torch==2.5.1", "torchvision==0.20.1"],
        },
    };
}
