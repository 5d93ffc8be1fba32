// Program: the `alloc` command line (the project's main job). `alloc` alone is `alloc replay` on
// the bundled sample trace; subcommands are System.CommandLine commands, each in its own file:
// replay (ReplayCommand), record (RecordCommand), explore and reproduce (ConcurrencyCommands: the
// Coyote suite), soak (SoakCommand: the real-thread stress workload), and the hidden oom-probe
// (Reliability/OomProbeCommand: the out-of-memory tests' child process). Output goes through a
// Spectre console made on the current Console.Out (so a test can redirect it); when that is not a terminal Spectre writes no ANSI and the width is fixed at
// RedirectedWidth columns (a pipe or a file has no width: nothing wraps differently per reader).
// Failing cleanly: a command-line error is one line per problem (CommandLineErrors: unknown
// options and values with "did you mean", no .NET type names), exit 2; an exception that escapes
// a command is one line, exit 3 (out of memory is a host failure, not a finding; anything else is
// an internal error), with the stack trace only under --verbose. Exit codes: ExitCodes.
using System.CommandLine;
using System.CommandLine.Help;
using GoAlloc.Replay;
using Spectre.Console;

namespace GoAlloc.Cli;

public static class Program
{
    /// <summary>Console width when the output is not a terminal (a file or a pipe has no width).</summary>
    public const int RedirectedWidth = 100;

    public static int Main(string[] args)
    {
        Termination.Install();
        return Run(args, Console.Out, Console.Error);
    }

    /// <summary>
    /// Main on the given writers. launch runs the concurrency tool (default: ConcurrencyProcess.Launch,
    /// the rewritten runner beside alloc.dll; tests record the run); stdin is what a trace path "-" reads (default: the
    /// process's standard input); factories are the allocators (default: HeapFactories.Available).
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<ConcurrencyRun, int>? launch = null,
        Func<Stream>? stdin = null, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null)
    {
        IAnsiConsole console = CreateConsole(stdout);
        var verbose = new Option<bool>("--verbose")
        {
            Description = "On an error, print the exception's stack trace too",
            Recursive = true,
        };
        var replay = new ReplayCommand(console, stderr, factories) { Stdin = stdin ?? Console.OpenStandardInput, Stdout = stdout };
        var concurrency = new ConcurrencyCommands(stdout, stderr, launch);
        var record = new RecordCommand(stderr);
        var soak = new SoakCommand(console, stderr);
        var oomProbe = new Reliability.OomProbeCommand(stdout, stderr);
        var root = new RootCommand("alloc: replays Go allocation traces on the Go 1.16 allocator ports (reference and optimized) and checks " +
            "every GC cycle; explores and reproduces interleavings of their concurrent protocols with Coyote. " +
            $"`alloc` with no command replays the bundled sample trace ({SampleTrace.FileName}), like `alloc replay`.")
        {
            replay.Command,
            record.Command,
            concurrency.Explore,
            concurrency.Reproduce,
            soak.Command,
            oomProbe.Command,
            verbose,
        };
        root.SetAction(_ => replay.Run(ReplaySettings.Default));
        HelpText.Install(root, new Dictionary<Command, string>
        {
            [root] = HelpText.RootExamples,
            [replay.Command] = HelpText.ReplayExamples,
            [record.Command] = HelpText.RecordExamples,
            [concurrency.Explore] = HelpText.ExploreExamples,
            [concurrency.Reproduce] = HelpText.ReproduceExamples,
            [soak.Command] = HelpText.SoakExamples,
        });

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !HelpText.Requested(parse))
        {
            foreach (string line in CommandLineErrors.Describe(parse))
                stderr.WriteLine(line);
            return ExitCodes.Usage;
        }
        bool isVerbose = parse.GetValue(verbose);
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Termination handles Ctrl-C and SIGTERM
            });
        }
        catch (Exception e)
        {
            return Fail(e, CommandLineErrors.CommandPath(parse), isVerbose, stderr);
        }
    }

    /// <summary>An exception that escaped a command: one line (the stack trace under --verbose); exit 3.</summary>
    public static int Fail(Exception e, string command, bool verbose, TextWriter stderr)
    {
        Exception inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
        string what = inner switch
        {
            OutOfMemoryException => $"host failure: out of memory ({OneLine(inner.Message)}); not a finding about the allocator: " +
                "free memory or replay a smaller trace",
            InsufficientExecutionStackException or StackOverflowException => $"host failure: out of stack ({OneLine(inner.Message)})",
            IOException or UnauthorizedAccessException => $"host failure: {OneLine(inner.Message)}",
            _ => $"internal error: {OneLine(inner.Message)} (a bug in alloc; --verbose prints the stack trace)",
        };
        stderr.WriteLine($"{command}: {what}");
        if (verbose)
            stderr.WriteLine(inner.ToString());
        return ExitCodes.HostFailure;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    private static IAnsiConsole CreateConsole(TextWriter stdout)
    {
        var output = new AnsiConsoleOutput(stdout);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
        if (!output.IsTerminal)
            console.Profile.Width = RedirectedWidth;
        return console;
    }
}
