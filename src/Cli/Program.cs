// Program: the `alloc` command line (the project's main job). `alloc` alone is `alloc replay` on
// the bundled sample trace; subcommands are System.CommandLine commands, each in its own file:
// replay (ReplayCommand), explore and reproduce (ConcurrencyCommands: the Coyote suite), soak
// (SoakCommand: the real-thread stress workload).
// Output goes through a Spectre console made on the current Console.Out (so a test can redirect
// it); when that is not a terminal Spectre writes no ANSI, and tables get a fixed wide width.
// Exit codes: ExitCodes.
using System.CommandLine;
using Spectre.Console;

namespace GoAlloc.Cli;

public static class ExitCodes
{
    /// <summary>Every check passed.</summary>
    public const int Ok = 0;
    /// <summary>A disagreement with the trace, a Verify failure, or implementations that differ.</summary>
    public const int Disagreement = 1;
    /// <summary>Bad command line, missing trace, or an implementation that is not built.</summary>
    public const int Usage = 2;
}

public static class Program
{
    /// <summary>Table width when the output is not a terminal (a file or a pipe has no width).</summary>
    private const int RedirectedWidth = 200;

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Main on the given writers; launch runs the concurrency tool (default: build and run tests/Concurrency; tests record the run).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Func<ConcurrencyRun, int>? launch = null)
    {
        IAnsiConsole console = CreateConsole(stdout);
        var replay = new ReplayCommand(console, stderr);
        var concurrency = new ConcurrencyCommands(stdout, stderr, launch);
        var record = new RecordCommand(stderr);
        var soak = new SoakCommand(console, stderr);
        var root = new RootCommand("alloc: replays Go allocation traces on the Go 1.16 allocator ports and checks every GC cycle; " +
            "explores and reproduces interleavings of its concurrent protocols with Coyote")
        {
            replay.Command,
            record.Command,
            concurrency.Explore,
            concurrency.Reproduce,
            soak.Command,
        };
        root.SetAction(_ => replay.Run(ReplaySettings.Default));

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                stderr.WriteLine($"alloc: {e.Message}");
            stderr.WriteLine("Run 'alloc --help' for usage.");
            return ExitCodes.Usage;
        }
        return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    private static IAnsiConsole CreateConsole(TextWriter stdout)
    {
        var output = new AnsiConsoleOutput(stdout);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = output });
        if (!output.IsTerminal)
            console.Profile.Width = RedirectedWidth;
        return console;
    }
}
