using System.Runtime.InteropServices;

namespace PipelineSdk.Core.Hashing;

/// <summary>What the stat cache compares: size, modification time in nanoseconds and inode.</summary>
public readonly partial record struct FileStat(long Size, long MTimeNs, long Inode)
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>One statx call on Linux (nanosecond mtime and inode); elsewhere what .NET exposes.</summary>
    public static FileStat Of(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            Span<byte> buffer = stackalloc byte[256];
            if (statx(AtFdCwd, path, 0, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) == 0)
            {
                var inode = MemoryMarshal.Read<long>(buffer[32..]);
                var size = MemoryMarshal.Read<long>(buffer[40..]);
                var seconds = MemoryMarshal.Read<long>(buffer[112..]);
                var nanos = MemoryMarshal.Read<uint>(buffer[120..]);
                return new FileStat(size, seconds * 1_000_000_000 + nanos, inode);
            }
            throw new IOException($"cannot stat '{path}' (errno {Marshal.GetLastPInvokeError()})");
        }
        var info = new FileInfo(path);
        return new FileStat(info.Length, (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100, 0);
    }

    // Generated marshalling encodes the path on the stack: a no-op build stats every input file, and the runtime's
    // marshalling allocated and freed native memory for each one.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}
