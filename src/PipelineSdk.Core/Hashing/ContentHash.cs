using System.IO.Hashing;
using System.Text;

namespace PipelineSdk.Core.Hashing;

/// <summary>XxHash128 of files and strings as 32 lowercase hex digits: fast enough to keep up with the page cache.</summary>
public static class ContentHash
{
    private const int BufferSize = 1 << 20;

    public static string OfFile(string path)
    {
        var hasher = new XxHash128();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            int read;
            while ((read = stream.Read(buffer, 0, BufferSize)) > 0) hasher.Append(buffer.AsSpan(0, read));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }

    public static string OfString(string text) => Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes(text)));

    /// <summary>Hash of name/value pairs in ordinal name order, each length-prefixed so no two sets collide by concatenation.</summary>
    public static string OfFields(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var hasher = new XxHash128();
        foreach (var (name, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            AppendPrefixed(hasher, name);
            AppendPrefixed(hasher, value);
        }
        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }

    private static void AppendPrefixed(XxHash128 hasher, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hasher.Append(length);
        hasher.Append(bytes);
    }
}
