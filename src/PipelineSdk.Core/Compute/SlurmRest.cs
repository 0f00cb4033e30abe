using System.Text.Json;
using System.Text.Json.Nodes;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>
/// Slurm through slurmrestd (API v0.0.38) with JWT authentication. The token is read from the target's TokenFile, else
/// from the environment variable TokenVariable (default SLURM_JWT), at each request; it goes in a header and nowhere else.
/// </summary>
public sealed class SlurmRest(string endpoint, ComputeTarget target) : ISlurmScheduler
{
    public const string DefaultTokenVariable = "SLURM_JWT";
    private const string Api = "slurm/v0.0.38";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly Uri _base = new(endpoint.TrimEnd('/') + "/");

    public string Describe => $"slurmrestd at {endpoint}";

    public async Task CheckAsync(string? partition, CancellationToken cancel)
    {
        await SendAsync(HttpMethod.Get, $"{Api}/ping", null, cancel);
        if (partition is null) return;
        var found = await SendAsync(HttpMethod.Get, $"{Api}/partitions", null, cancel, throwOnErrors: false);
        var names = found["partitions"]?.AsArray().Select(p => p?["name"]?.GetValue<string>()).OfType<string>().ToList() ?? [];
        if (!names.Contains(partition))
            throw new ComputeException($"{Describe} has no partition '{partition}' (it has: {string.Join(", ", names)}). Fix Partition on the compute target.");
    }

    public async Task<string> SubmitAsync(SlurmJob job, CancellationToken cancel)
    {
        var properties = new JsonObject
        {
            ["name"] = job.Name,
            ["comment"] = job.Comment,
            ["current_working_directory"] = job.WorkingDirectory,
            ["standard_output"] = job.OutputFile,
            ["standard_error"] = job.ErrorFile,
            ["environment"] = new JsonObject(job.Environment.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value))),
        };
        if (job.Partition is not null) properties["partition"] = job.Partition;
        var r = job.Resources;
        if (r.Cpus is { } cpus) properties["cpus_per_task"] = (int)Math.Ceiling(cpus);
        if (r.Memory is { } memory) properties["memory_per_node"] = ResourceUnits.MemoryMegabytes(memory);
        if (r.Gpus is { } gpus) properties["tres_per_node"] = $"gres:{ResourceUnits.Gres(gpus)}";
        if (r.TimeLimit is { } time) properties["time_limit"] = (int)Math.Ceiling(ResourceUnits.Duration(time)!.Value.TotalMinutes);
        var body = new JsonObject { ["script"] = job.Script, ["job"] = properties };
        var response = await SendAsync(HttpMethod.Post, $"{Api}/job/submit", body, cancel, rejection: "rejected the job");
        return response["job_id"]?.ToString() ?? throw new ComputeException($"{Describe} answered the submission without a job id.");
    }

    public async Task<SlurmJobState> StateAsync(string jobId, CancellationToken cancel)
    {
        var response = await SendAsync(HttpMethod.Get, $"{Api}/job/{jobId}", null, cancel, rejection: $"lost job {jobId}");
        var job = response["jobs"]?.AsArray().FirstOrDefault() ?? throw new ComputeException($"{Describe} lost job {jobId}.");
        // The API reports the raw wait status: exit code in the high byte, signal in the low bits.
        var status = job["exit_code"]?.GetValue<int>() ?? 0;
        var nodes = job["nodes"]?.GetValue<string>();
        var reason = job["state_reason"]?.GetValue<string>();
        return new SlurmJobState(
            job["job_state"]?.GetValue<string>() ?? "UNKNOWN", (status >> 8) & 0xff, status & 0x7f,
            string.IsNullOrEmpty(nodes) ? null : nodes, reason is null or "None" ? null : reason);
    }

    public async Task CancelAsync(string jobId)
    {
        try { await SendAsync(HttpMethod.Delete, $"{Api}/job/{jobId}", null, CancellationToken.None, throwOnErrors: false); }
        catch (ComputeException) { } // the build is being cancelled anyway; the job's time limit ends it
    }

    public async Task CancelByCommentAsync(string comment)
    {
        try
        {
            var jobs = await SendAsync(HttpMethod.Get, $"{Api}/jobs", null, CancellationToken.None, throwOnErrors: false);
            foreach (var job in jobs["jobs"]?.AsArray() ?? [])
                if (job?["comment"]?.GetValue<string>() == comment && job["job_state"]?.GetValue<string>() is "PENDING" or "RUNNING")
                    await CancelAsync(job["job_id"]!.ToString());
        }
        catch (ComputeException) { } // best effort: a cluster that cannot be reached is left alone
    }

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancel, bool throwOnErrors = true, string rejection = "refused the request")
    {
        using var request = new HttpRequestMessage(method, new Uri(_base, path));
        // slurmrestd answers a second request on a kept-alive connection with a malformed response: one connection per request.
        request.Headers.ConnectionClose = true;
        request.Headers.Add("X-SLURM-USER-NAME", target.UserName ?? Environment.UserName);
        request.Headers.Add("X-SLURM-USER-TOKEN", Token());
        // A string body has a Content-Length; slurmrestd cannot read a chunked one.
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString());
            // Exactly this media type: slurmrestd reads no body whose type carries a charset.
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }
        HttpResponseMessage response;
        try
        {
            response = await Http.SendAsync(request, cancel);
        }
        catch (HttpRequestException e)
        {
            throw new ComputeException($"{Describe} is unreachable ({e.Message}). Start slurmrestd, or fix RestEndpoint on compute target '{target.Name}'.");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancel);
            JsonNode? json = null;
            try { json = JsonNode.Parse(text); } catch (JsonException) { }
            var errors = json?["errors"]?.AsArray().Select(e => e?["error"]?.GetValue<string>() ?? e?["description"]?.GetValue<string>()).OfType<string>().Where(e => e.Length > 0).ToList() ?? [];
            if (response.StatusCode is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
                throw new ComputeException($"{Describe} refused the token for user '{target.UserName ?? Environment.UserName}' ({(int)response.StatusCode}). Renew it (scontrol token) and set it in {TokenSource}.");
            if (json is null || (throwOnErrors && (!response.IsSuccessStatusCode || errors.Count > 0)))
                throw new ComputeException($"{Describe} {rejection}: {(errors.Count > 0 ? string.Join("; ", errors) : $"HTTP {(int)response.StatusCode} {text.Split('\n')[0]}")}");
            return json;
        }
    }

    private string TokenSource => target.TokenFile ?? $"the environment variable {target.TokenVariable ?? DefaultTokenVariable}";

    private string Token()
    {
        var token = target.TokenFile is { } file
            ? File.Exists(file) ? File.ReadAllText(file).Trim() : throw new ComputeException($"the Slurm token file {file} does not exist. Write a token there (scontrol token) or fix TokenFile.")
            : Environment.GetEnvironmentVariable(target.TokenVariable ?? DefaultTokenVariable)?.Trim()
              ?? throw new ComputeException($"no Slurm token: set {TokenSource} (scontrol token username=... prints one).");
        return token.StartsWith("SLURM_JWT=", StringComparison.Ordinal) ? token["SLURM_JWT=".Length..] : token;
    }
}
