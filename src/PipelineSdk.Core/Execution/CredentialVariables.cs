namespace PipelineSdk.Core.Execution;

/// <summary>
/// The step environment policy for secrets: a step never receives a credential the engine knows about (a datastore's
/// connection variable, a cluster's token variable) or one the Azure SDKs and tools would pick up on their own
/// (AZURE_*, managed identity endpoints), since what a step prints lands in its log, the build's log and binlog and
/// the run history. The engine moves a step's data itself, so a step needs none of them.
/// </summary>
internal static class CredentialVariables
{
    private static readonly string[] Prefixes = ["AZURE_", "AZCOPY_", "ARM_CLIENT_"];
    private static readonly string[] Known = ["MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "SLURM_JWT"];

    /// <summary><paramref name="named"/> (the variables the project names) and every variable of this process the policy withholds.</summary>
    public static IEnumerable<string> Withheld(IEnumerable<string> named) =>
        named.Concat(Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(IsCredential)).Distinct(StringComparer.Ordinal);

    public static bool IsCredential(string name) =>
        Prefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)) || Known.Contains(name, StringComparer.OrdinalIgnoreCase);
}
