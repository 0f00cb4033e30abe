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
        // A dataset's manifest is 100,000 pairs on every no-op build: sort plain arrays and encode into one buffer,
        // no per-pair allocation nor LINQ over key-value structs (whose generic code is jitted, not precompiled).
        var pairs = fields as IReadOnlyCollection<KeyValuePair<string, string>> ?? [.. fields];
        var names = new string[pairs.Count];
        var values = new string[pairs.Count];
        var n = 0;
        foreach (var pair in pairs)
        {
            names[n] = pair.Key;
            values[n++] = pair.Value;
        }
        // Listings arrive sorted: checking is a tenth of sorting.
        for (var i = 1; i < n; i++)
            if (string.CompareOrdinal(names[i - 1], names[i]) > 0)
            {
                Array.Sort(names, values, StringComparer.Ordinal);
                break;
            }
        var hasher = new XxHash128();
        var buffer = new byte[4096];
        var used = 0;
        void Append(string s)
        {
            var length = Encoding.UTF8.GetByteCount(s);
            if (used + 4 + length > buffer.Length)
            {
                hasher.Append(buffer.AsSpan(0, used));
                used = 0;
                if (4 + length > buffer.Length) buffer = new byte[4 + length];
            }
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(used), length);
            used += 4 + Encoding.UTF8.GetBytes(s, buffer.AsSpan(used + 4));
        }
        for (var i = 0; i < n; i++)
        {
            Append(names[i]);
            Append(values[i]);
        }
        hasher.Append(buffer.AsSpan(0, used));
        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }
}
