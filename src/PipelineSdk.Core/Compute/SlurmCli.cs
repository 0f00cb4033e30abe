using System.Globalization;
using System.Text.RegularExpressions;

namespace PipelineSdk.Core.Compute;

/// <summary>Slurm through the commands of this machine (sbatch, scontrol, scancel), for clusters without slurmrestd.</summary>
public sealed partial class SlurmCli : ISlurmScheduler
{
    public string Describe => Environment.GetEnvironmentVariable("SLURM_CONF") is { Length: > 0 } conf ? $"the Slurm cluster of {conf}" : "the Slurm cluster";

    public async Task CheckAsync(string? partition, CancellationToken cancel)
    {
        var ping = await CommandLine.RunAsync("scontrol", ["ping"], cancel);
        if (ping.ExitCode != 0 || !ping.Output.Contains("UP"))
            throw new ComputeException($"{Describe} is unreachable ({First(ping.Error, ping.Output)}). Start slurmctld, or set RestEndpoint to a slurmrestd.");
        if (partition is null) return;
        var shown = await CommandLine.RunAsync("scontrol", ["show", "partition", partition, "-o"], cancel);
        if (shown.ExitCode != 0 || !shown.Output.Contains($"PartitionName={partition} "))
        {
            var all = await CommandLine.RunAsync("sinfo", ["-h", "-o", "%R"], cancel);
            throw new ComputeException($"{Describe} has no partition '{partition}' (it has: {string.Join(", ", all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct())}). Fix Partition on the compute target.");
        }
    }

    public async Task<string> SubmitAsync(SlurmJob job, CancellationToken cancel)
    {
        var args = new List<string>
        {
            "--parsable", $"--job-name={job.Name}", $"--comment={job.Comment}", $"--chdir={job.WorkingDirectory}", $"--output={job.OutputFile}", $"--error={job.ErrorFile}",
            // The job gets the variables PipelineSdk gives it, never the build's own (which may hold secrets).
            "--export=NONE",
        };
        if (job.Partition is not null) args.Add($"--partition={job.Partition}");
        args.AddRange(SlurmResources.Options(job.Resources));
        args.Add(job.ScriptPath);
        var submitted = await CommandLine.RunAsync("sbatch", args, cancel);
        if (submitted.ExitCode != 0)
            throw new ComputeException($"{Describe} rejected the job: {string.Join("; ", submitted.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Replace("sbatch: error: ", "")))}");
        return submitted.Output.Split(';')[0];
    }

    public async Task<SlurmJobState> StateAsync(string jobId, CancellationToken cancel)
    {
        var shown = await CommandLine.RunAsync("scontrol", ["show", "job", jobId, "-o"], cancel);
        if (shown.ExitCode != 0) throw new ComputeException($"{Describe} lost job {jobId}: {First(shown.Error, shown.Output)}");
        string? Field(string name) => Regex.Match(shown.Output, $@"(?:^|\s){name}=(\S*)") is { Success: true } m ? m.Groups[1].Value : null;
        var exit = ExitCodeField().Match(Field("ExitCode") ?? "0:0");
        var nodes = Field("NodeList");
        return new SlurmJobState(
            Field("JobState") ?? "UNKNOWN",
            int.Parse(exit.Groups[1].Value, CultureInfo.InvariantCulture),
            int.Parse(exit.Groups[2].Value, CultureInfo.InvariantCulture),
            nodes is null or "(null)" ? null : nodes,
            Field("Reason") is { } reason && reason != "None" ? reason : null);
    }

    public Task CancelAsync(string jobId) => CommandLine.RunAsync("scancel", [jobId]);

    public async Task CancelByCommentAsync(string comment)
    {
        var queued = await CommandLine.RunAsync("squeue", ["--noheader", "--format=%i|%k"]);
        foreach (var id in queued.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).Where(f => f.Length == 2 && f[1] == comment).Select(f => f[0]))
            await CancelAsync(id);
    }

    private static string First(string a, string b) => (a.Length > 0 ? a : b).Split('\n')[0].Trim();

    [GeneratedRegex(@"^(\d+):(\d+)$")]
    private static partial Regex ExitCodeField();
}

/// <summary>A step's resources in Slurm's terms.</summary>
public static class SlurmResources
{
    public static IEnumerable<string> Options(Model.StepResources r)
    {
        if (r.Cpus is { } cpus) yield return $"--cpus-per-task={(int)Math.Ceiling(cpus)}";
        if (r.Memory is { } memory) yield return $"--mem={Model.ResourceUnits.MemoryMegabytes(memory)}M";
        if (r.Gpus is { } gpus) yield return $"--gres={Model.ResourceUnits.Gres(gpus)}";
        if (r.TimeLimit is { } time) yield return $"--time={(int)Math.Ceiling(Model.ResourceUnits.Duration(time)!.Value.TotalMinutes)}";
    }
}
