using PipelineSdk.Core.Compute;

namespace PipelineSdk.Core.Execution;

/// <summary>
/// A DataTransferStep's work: copy every file of its input into its output folder. Downloading a blob input and
/// uploading a blob output are the engine's, as for any step, so this copies between local folders only.
/// </summary>
public static class DataTransfer
{
    public static ProcessOutcome Copy(string source, string destination, string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        long bytes = 0, files = 0;
        using var log = new StreamWriter(logPath);
        try
        {
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(source, file);
                var target = Path.Combine(destination, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                // File.Copy follows links: an input laid out as links is copied as the files they point at.
                File.Copy(file, target);
                bytes += new FileInfo(target).Length;
                files++;
                log.WriteLine($"copied {relative.Replace('\\', '/')}");
            }
        }
        catch (IOException e)
        {
            log.WriteLine(e.Message);
            return new ProcessOutcome(1, [$"copying failed: {e.Message}"]);
        }
        log.WriteLine($"copied {files} files, {bytes} bytes");
        return new ProcessOutcome(0, []);
    }
}
