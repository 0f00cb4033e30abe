using PipelineSdk.Core.Hashing;

namespace PipelineSdk.Core.Tests;

public sealed class ContentHash_Tests
{
    /// <summary>
    /// Pinned with <c>xxhsum -H2</c> over the same bytes (each name and value as a little-endian int32 UTF-8 length
    /// and the UTF-8 bytes, names in ordinal order): a changed encoding would silently invalidate every stored fingerprint.
    /// </summary>
    [Fact]
    public void FieldsHashIsXxHash128OfLengthPrefixedPairsInOrdinalOrder()
    {
        var fields = new Dictionary<string, string> { ["b/x.csv"] = "hash-2", ["a.csv"] = "hash-1", ["é.txt"] = "h3" };

        Assert.Equal("85bac1cbaa52b561129b657dccb54611", ContentHash.OfFields(fields));
    }

    [Fact]
    public void FieldsHashIgnoresTheOrderPairsComeIn()
    {
        var names = Enumerable.Range(0, 5000).Select(i => $"dir{i % 7}/file{i}.csv").ToList();
        var sorted = names.Order(StringComparer.Ordinal).Select(n => KeyValuePair.Create(n, n.Length.ToString())).ToList();
        var shuffled = sorted.OrderBy(p => p.Key.GetHashCode()).ToList();

        Assert.Equal(ContentHash.OfFields(sorted), ContentHash.OfFields(shuffled));
        Assert.NotEqual(ContentHash.OfFields(sorted), ContentHash.OfFields(sorted.Skip(1)));
    }

    [Fact]
    public void FieldsLongerThanTheEncodingBufferHashLikeShortOnes()
    {
        var longValue = new string('x', 10_000);
        var fields = new Dictionary<string, string> { ["a"] = longValue, ["b"] = "short" };

        Assert.NotEqual(ContentHash.OfFields(fields), ContentHash.OfFields(new Dictionary<string, string> { ["a"] = longValue + "y", ["b"] = "short" }));
        Assert.Equal(ContentHash.OfFields(fields), ContentHash.OfFields(new Dictionary<string, string> { ["b"] = "short", ["a"] = longValue }));
    }
}
