using System.Security.Cryptography;

namespace PipelineSdk.Testing;

/// <summary>The ways a run history file gets damaged (shared by the test projects), and its hash to show it was left as it was.</summary>
internal static class HistoryDamage
{
    public const string Truncated = "truncated";
    public const string Garbage = "garbage";
    public const string BadHeader = "bad-header";
    public const string Empty = "empty";

    public static void Apply(string database, string damage)
    {
        var bytes = File.ReadAllBytes(database);
        switch (damage)
        {
            case Truncated:
                bytes = bytes[..(bytes.Length / 2)];
                break;
            case Garbage:
                new Random(11).NextBytes(bytes);
                break;
            case BadHeader:
                Array.Fill(bytes, (byte)0xA5, 0, 16);
                break;
            case Empty:
                bytes = [];
                break;
            default:
                throw new ArgumentException($"unknown damage '{damage}'", nameof(damage));
        }
        File.WriteAllBytes(database, bytes);
    }

    public static string Sha256(string file) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>Whether a write-ahead log beside the database holds anything (a run written into it would be applied later).</summary>
    public static bool WalHoldsFrames(string database) => new FileInfo(database + "-wal") is { Exists: true, Length: > 0 };
}
