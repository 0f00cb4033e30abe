using System.Net.Security;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Compute;

/// <summary>A connection to a Docker engine the way the docker CLI finds one: the target's endpoint, else DOCKER_HOST, else the local socket; TLS from a folder of PEM files.</summary>
public static class DockerEngine
{
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    public static string Endpoint(ComputeTarget target) =>
        target.DockerEndpoint ?? (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : DefaultEndpoint);

    public static DockerClient Connect(ComputeTarget target)
    {
        var certificates = target.DockerCertificates
            ?? (Environment.GetEnvironmentVariable("DOCKER_TLS_VERIFY") is { Length: > 0 } and not "0"
                ? Environment.GetEnvironmentVariable("DOCKER_CERT_PATH") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker")
                : null);
        Credentials? credentials = null;
        if (certificates is not null)
        {
            X509Certificate2 client, authority;
            try
            {
                client = X509Certificate2.CreateFromPemFile(Path.Combine(certificates, "cert.pem"), Path.Combine(certificates, "key.pem"));
                authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(certificates, "ca.pem")));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new ComputeException($"the TLS files of compute target '{target.Name}' in {certificates} cannot be used ({e.Message}). It needs ca.pem, cert.pem and key.pem (PEM), as DOCKER_CERT_PATH holds them.");
            }
            credentials = new CertificateCredentials(client)
            {
                // The engine's certificate must chain to the CA of the folder, not to the machine's trust store.
                ServerCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            };
        }
        return new DockerClientConfiguration(new Uri(Endpoint(target)), credentials, TimeSpan.FromSeconds(100)).CreateClient();
    }

    /// <summary>Who containers run as: the build's own user, so what a step writes belongs to whoever ran the build.</summary>
    public static string CurrentUser => OperatingSystem.IsWindows() ? "" : $"{GetUid()}:{GetGid()}";

    [DllImport("libc", EntryPoint = "getuid")]
    private static extern uint GetUid();

    [DllImport("libc", EntryPoint = "getgid")]
    private static extern uint GetGid();
}
