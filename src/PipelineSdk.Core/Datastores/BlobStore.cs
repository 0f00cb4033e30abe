using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using PipelineSdk.Core.Model;

namespace PipelineSdk.Core.Datastores;

/// <summary>A blob's content is not what its listing said: it changed in between. A storage fault (an IOException), so the step reading it fails.</summary>
public sealed class BlobChangedException(string message) : IOException(message);

/// <summary>Raised when a blob datastore cannot be used; the message names the datastore and how to fix it, never the secret.</summary>
public sealed class DatastoreException(string message) : Exception(message);

/// <summary>
/// An Azure Blob container used as a datastore (Azure.Storage.Blobs). The connection string comes from the
/// environment variable the datastore names, so it never passes through MSBuild properties, logs, binlogs, the run
/// history or snapshots. Blobs written by PipelineSdk carry their XxHash128 as metadata, so an output's content is
/// checked by listing, without downloading it.
/// </summary>
public sealed class BlobStore
{
    public const string DefaultConnectionVariable = "AZURE_STORAGE_CONNECTION_STRING";
    private const string HashMetadata = "pipelinesdkhash";
    private const string Md5Prefix = "md5:";
    private const string EtagPrefix = "etag:";

    private readonly BlobContainerClient _container;

    private BlobStore(string name, BlobContainerClient container)
    {
        Name = name;
        _container = container;
    }

    public string Name { get; }

    /// <summary>Connects and checks the container exists, so a bad key, endpoint or name fails before any step runs.</summary>
    public static BlobStore Connect(Datastore datastore)
    {
        var variable = datastore.ConnectionVariable ?? DefaultConnectionVariable;
        var connection = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(connection))
            throw new DatastoreException($"Datastore '{datastore.Name}' takes its connection string from the environment variable {variable}, which is not set. Set it (for Azurite: UseDevelopmentStorage=true).");
        try
        {
            var options = new BlobClientOptions();
            // A datastore that does not answer should fail the build in seconds, not after the SDK's long default retries.
            options.Retry.MaxRetries = 2;
            options.Retry.NetworkTimeout = TimeSpan.FromSeconds(20);
            var container = new BlobContainerClient(connection, datastore.Container, options);
            if (!container.Exists().Value)
                throw new DatastoreException($"Datastore '{datastore.Name}': container '{datastore.Container}' does not exist at {container.Uri.GetLeftPart(UriPartial.Authority)}. Create it or fix Container.");
            return new BlobStore(datastore.Name, container);
        }
        catch (Exception e) when (IsStorageFault(e) || e is FormatException or ArgumentException)
        {
            // The SDK's messages name the account and the failure; they never carry the key.
            throw new DatastoreException($"Datastore '{datastore.Name}' (container '{datastore.Container}') cannot be used: {FirstLine(e.Message)}. Check {variable} and the endpoint.");
        }
    }

    /// <summary>
    /// Blobs under <paramref name="prefix"/> (relative name → content id): our own hash when PipelineSdk wrote the blob,
    /// else the service's MD5, else its ETag — so changed data in the container is seen without downloading anything.
    /// </summary>
    public IReadOnlyDictionary<string, string> List(string prefix)
    {
        var start = prefix.Trim('/') is { Length: > 0 } p ? p + "/" : "";
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var blob in _container.GetBlobs(BlobTraits.Metadata, BlobStates.None, start, CancellationToken.None))
        {
            var id = blob.Metadata.TryGetValue(HashMetadata, out var ours) ? ours
                : blob.Properties.ContentHash is { Length: > 0 } md5 ? Md5Prefix + Convert.ToHexStringLower(md5)
                : EtagPrefix + blob.Properties.ETag?.ToString().Trim('"');
            files[blob.Name[start.Length..]] = id;
        }
        return files;
    }

    /// <summary>Where blobs under a prefix live, without credentials (for Direct inputs).</summary>
    public string UriOf(string prefix) => $"{_container.Uri.AbsoluteUri.TrimEnd('/')}/{prefix.Trim('/')}";

    /// <summary>
    /// Downloads a blob as it was listed (<paramref name="contentId"/>, from <see cref="List"/>): the bytes are checked
    /// against the listed hash, or fetched on the listed ETag only, before they get the local name. A blob changed since
    /// its listing fails with <see cref="BlobChangedException"/>, so no cache entry is ever named after content it
    /// does not hold; a download cut short leaves no file behind.
    /// </summary>
    public void Download(string blobName, string contentId, string localPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(localPath)!);
        var temporary = $"{localPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            var options = new BlobDownloadToOptions();
            if (contentId.StartsWith(EtagPrefix, StringComparison.Ordinal))
                options.Conditions = new BlobRequestConditions { IfMatch = new ETag($"\"{contentId[EtagPrefix.Length..]}\"") };
            try { _container.GetBlobClient(blobName).DownloadTo(temporary, options); }
            catch (RequestFailedException e) when (e.Status is 412 or 404) { throw Changed(blobName); }
            if (!contentId.StartsWith(EtagPrefix, StringComparison.Ordinal) && ContentIdOf(temporary, contentId) != contentId) throw Changed(blobName);
            File.Move(temporary, localPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private BlobChangedException Changed(string blobName) =>
        new($"blob '{blobName}' in datastore '{Name}' changed after the build listed it, so its bytes are not the ones the step's fingerprint holds. Build again to read the new content.");

    /// <summary>The content id a downloaded file has in the listing's terms: our hash, or the service's MD5.</summary>
    private static string ContentIdOf(string file, string listedId)
    {
        if (!listedId.StartsWith(Md5Prefix, StringComparison.Ordinal)) return Hashing.ContentHash.OfFile(file);
        using var stream = File.OpenRead(file);
        return Md5Prefix + Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(stream));
    }

    /// <summary>Uploads every file of a folder under <paramref name="prefix"/> (chunked by the SDK for large files), each with its hash as metadata.</summary>
    public void Upload(string folder, string prefix, IReadOnlyDictionary<string, string> hashes)
    {
        foreach (var (relative, hash) in hashes)
        {
            var blob = _container.GetBlobClient($"{prefix.Trim('/')}/{relative}");
            blob.Upload(Path.Combine(folder, relative), new BlobUploadOptions { Metadata = new Dictionary<string, string> { [HashMetadata] = hash } });
        }
    }

    /// <summary>Deletes every blob under <paramref name="prefix"/> (a discarded output).</summary>
    public void Delete(string prefix)
    {
        // Never the whole container: a discarded output always has a folder of its own.
        if (prefix.Trim('/') is "" or ".") throw new FileSystem.UnsafeDeleteException($"PipelineSdk refused to delete every blob of datastore '{Name}' (prefix '{prefix}'). Nothing was deleted; please report it.");
        foreach (var blob in _container.GetBlobs(BlobTraits.None, BlobStates.None, prefix.Trim('/') + "/", CancellationToken.None))
            _container.DeleteBlobIfExists(blob.Name);
    }

    public void DeleteBlob(string name) => _container.DeleteBlobIfExists(name);

    /// <summary>The blobs under a prefix and their sizes (full names).</summary>
    public IEnumerable<(string Name, long Bytes)> Sizes(string prefix) =>
        _container.GetBlobs(BlobTraits.None, BlobStates.None, prefix.Trim('/') + "/", CancellationToken.None).Select(b => (b.Name, b.Properties.ContentLength ?? 0));

    /// <summary>
    /// What a storage call throws when the service or the network fails it after the SDK's retries: the request's
    /// own failure, or the retry policy's AggregateException over transport errors.
    /// </summary>
    public static bool IsStorageFault(Exception e) =>
        e is RequestFailedException or System.Net.Http.HttpRequestException or IOException
        || (e is AggregateException a && a.InnerExceptions.All(IsStorageFault));

    /// <summary>A small text blob, or null when there is none.</summary>
    public string? ReadText(string name)
    {
        try
        {
            return _container.GetBlobClient(name).DownloadContent().Value.Content.ToString();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public void WriteText(string name, string text) =>
        _container.GetBlobClient(name).Upload(BinaryData.FromString(text), overwrite: true);

    private static string FirstLine(string text) => text.Split('\n')[0].Trim().TrimEnd('.');
}
