using System.Diagnostics;
using System.Net.Sockets;
using Azure.Storage.Blobs;

namespace PipelineSdk.EndToEnd.Tests;

/// <summary>
/// A real Azurite blob server on 127.0.0.1:10000: the one .ci/run started, or one this fixture starts (and stops at
/// exit) from PIPELINESDK_AZURITE, else from the npm package that .ci/run also installs, installing it first when
/// npm is there — so `dotnet test PipelineSdk.sln` works on a fresh clone as the README says.
/// </summary>
public static class AzuriteServer
{
    public const string ConnectionString = "UseDevelopmentStorage=true";
    private static readonly Lazy<bool> Started = new(Start);

    /// <summary>A new, empty container on the server.</summary>
    public static BlobContainerClient NewContainer()
    {
        _ = Started.Value;
        var container = new BlobContainerClient(ConnectionString, $"c{Guid.NewGuid():N}"[..20]);
        container.Create();
        return container;
    }

    private static bool Start()
    {
        if (Listening()) return true;
        var azurite = Environment.GetEnvironmentVariable("PIPELINESDK_AZURITE") ?? Installed();
        var location = Directory.CreateTempSubdirectory("pipelinesdk-azurite-").FullName;
        // A watchdog shell owns the server and stops it when this test process is gone, however the test host ends. The
        // server logs every request to a file: into a pipe of this process it would die of EPIPE once the Process object
        // holding the pipe's other end was collected.
        var log = Path.Combine(location, "azurite.log");
        var start = new ProcessStartInfo("sh");
        foreach (var a in new[] { "-c", $"\"$0\" \"$@\" > '{log}' 2>&1 & server=$!; while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; kill $server",
                     azurite, "--blobHost", "127.0.0.1", "--blobPort", "10000", "--location", location, "--skipApiVersionCheck", "--loose", "--disableTelemetry" })
            start.ArgumentList.Add(a);
        using var watchdog = Process.Start(start)!;
        for (var i = 0; i < 100 && !Listening(); i++) Thread.Sleep(100);
        return Listening() ? true : throw new InvalidOperationException($"Azurite did not start: {(File.Exists(log) ? File.ReadAllText(log) : "")}");
    }

    /// <summary>azurite-blob from the cache folder .ci/run uses, installed there with npm if need be (about a minute, once).</summary>
    private static string Installed()
    {
        var tools = Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "pipelinesdk-ci");
        var azurite = Path.Combine(tools, "node_modules", ".bin", "azurite-blob");
        if (File.Exists(azurite)) return azurite;
        var start = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "install", "--silent", "--no-audit", "--no-fund", "--prefix", tools, "azurite@3.35.0" }) start.ArgumentList.Add(a);
        try
        {
            using var npm = Process.Start(start)!;
            var errors = npm.StandardError.ReadToEndAsync();
            npm.StandardOutput.ReadToEnd();
            npm.WaitForExit();
            if (npm.ExitCode != 0) throw new InvalidOperationException($"npm install azurite@3.35.0 failed: {errors.Result}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("No Azurite on 127.0.0.1:10000 and no npm to install it: start one (see .ci/run) or set PIPELINESDK_AZURITE to an azurite-blob executable.");
        }
        return azurite;
    }

    private static bool Listening()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", 10000);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
