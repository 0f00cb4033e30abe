using PipelineSdk.Core.Datastores;

namespace PipelineSdk.Core.Tests;

public sealed class BlobStore_Tests
{
    [Fact]
    public void StorageFaultsIncludeTheRetryPolicysAggregateOfTransportErrors()
    {
        Assert.True(BlobStore.IsStorageFault(new Azure.RequestFailedException(404, "gone")));
        Assert.True(BlobStore.IsStorageFault(new AggregateException(
            new Azure.RequestFailedException("Error while copying content to a stream."), new HttpRequestException("Connection refused"))));
        Assert.False(BlobStore.IsStorageFault(new InvalidOperationException("a bug, not the network")));
        Assert.False(BlobStore.IsStorageFault(new AggregateException(new HttpRequestException("refused"), new NullReferenceException())));
    }
}
