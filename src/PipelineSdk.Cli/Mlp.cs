using System.CommandLine;
using PipelineSdk.Cli.Commands;

namespace PipelineSdk.Cli;

/// <summary>The command tree and the one place errors become a line on stderr and an exit code.</summary>
internal static class Mlp
{
    public static int Run(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine would print every error and the whole help; one line that says where help is reads better in a script's log.
            var command = string.Join(' ', CommandPath(parsed.CommandResult));
            if (UnknownCommand(parsed) is { } unknown)
            {
                var known = string.Join(", ", parsed.CommandResult.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
                Console.Error.WriteLine($"mlp: unknown command '{string.Join(' ', CommandPath(parsed.CommandResult).Skip(1).Append(unknown))}' (commands: {known}; see '{command} --help')");
                return ExitCodes.Usage;
            }
            var message = System.Text.RegularExpressions.Regex.Replace(parsed.Errors[0].Message, @"\s*\n\s*", " ");
            Console.Error.WriteLine($"mlp: {message} (see '{command} --help')");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    public static RootCommand Build()
    {
        var workspace = new WorkspaceOption();
        var root = new RootCommand("mlp: the runs, logs, metrics, datasets and DAG of PipelineSdk pipelines (.mlproj), read from the workspace's run history.");
        root.Options.Add(workspace.Option);
        root.Subcommands.Add(RunsCommand.Create(workspace));
        root.Subcommands.Add(LogsCommand.Create(workspace));
        root.Subcommands.Add(MetricsCommand.Create(workspace));
        root.Subcommands.Add(DagCommand.Create(workspace));
        root.Subcommands.Add(DatasetsCommand.Create(workspace));
        root.Subcommands.Add(GcCommand.Create(workspace));
        return root;
    }

    /// <summary>Runs a command's body, turning the errors it may meet into one line on stderr and an exit code.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (MlpException e)
        {
            return Fail(e.Message, e.ExitCode);
        }
        catch (DiagnosticsException e)
        {
            foreach (var line in e.Lines) Console.Error.WriteLine(line);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            return Fail(e.Message, ExitCodes.Failure);
        }
        catch (Exception e)
        {
            // A bug: still one line, with what it was, so a report can quote it.
            return Fail($"unexpected {e.GetType().Name}: {e.Message}", ExitCodes.Failure);
        }
    }

    public static int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine($"mlp: {message}");
        return exitCode;
    }

    /// <summary>
    /// The word given where a command group (mlp, mlp runs) wants one of its commands; System.CommandLine's first error
    /// would only say that a command is required, without naming the word.
    /// </summary>
    private static string? UnknownCommand(ParseResult parsed) =>
        parsed.CommandResult.Command.Subcommands.Count > 0 && parsed.UnmatchedTokens.Count > 0 ? parsed.UnmatchedTokens[0] : null;

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
    {
        var names = new Stack<string>();
        for (var r = result; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Parent is null ? "mlp" : r.Command.Name);
        return names;
    }
}
