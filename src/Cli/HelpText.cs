// HelpText: what `alloc --help` and `alloc <command> --help` print after System.CommandLine's
// own help (description, usage, arguments, options): examples for the command and the exit
// codes (ExitCodes.Help). Installed by replacing the help option's action with one that runs the
// original and then writes these sections.
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace GoAlloc.Cli;

public static class HelpText
{
    public const string RootExamples = """
        Examples:
          alloc                                      replay the bundled sample (= alloc replay)
          alloc replay trace.gz                      replay a trace on both allocators in lock step
          gzip -dc trace.gz | alloc replay -         read the trace from standard input
          alloc replay trace.gz --json > r.json      machine-readable result (docs/alloc-replay.schema.json)
          alloc record -o gofmt.trace.gz             record a Go program's trace (needs Go; see README)
          alloc explore refill-sweep-flush           look for interleaving bugs with Coyote
          alloc reproduce TestResults/coyote/X.trace replay a saved Coyote schedule step by step
          alloc soak --minutes 10 --threads 4        real threads, random workload, Verify every cycle
        Run 'alloc <command> --help' for a command's options.
        """;

    public const string ReplayExamples = """
        Examples:
          alloc replay                               the bundled sample, both allocators in lock step
          alloc replay trace.gz --impl optimized     one allocator, checked against the trace
          gzip -dc trace.gz | alloc replay - -q      from standard input; summary only
          alloc replay trace.gz --json               the result as JSON on stdout (schemaVersion 1)
          alloc replay trace.gz --json-file r.json   tables on stdout, JSON written to r.json
        """;

    public const string RecordExamples = """
        Examples:
          alloc record                               gofmt on go/ast and go/parser -> trace.gz
          alloc record ./myprog -o my.trace.gz --gogc 10 -- -flag value
        """;

    public const string ExploreExamples = """
        Examples:
          alloc explore refill-sweep-flush
          alloc explore spanset-push-pop --impl optimized --strategy prioritization --iterations 5000
          alloc explore refill-sweep-flush --bug RefillForgetsSg3    (the seeded build: finds the bug)
          alloc explore cycle-boundary --json | jq .bugFound          (JSON summary on stdout)
        """;

    public const string SoakExamples = """
        Examples:
          alloc soak --impl both --minutes 10 --threads 4 --seed 42
          alloc soak --impl reference --minutes 1 --threads 2 --cycle-heavy
        (exit 1: a violation, printed with the seed and the operation log's tail)
        """;

    public const string ReproduceExamples = """
        Examples:
          alloc reproduce TestResults/coyote/refill-sweep-flush.reference.RefillForgetsSg3.random.seed17.trace
          (the sidecar <trace>.json must sit next to the trace)
        """;

    /// <summary>Makes every command's help print its examples and the exit codes after the usual sections.</summary>
    public static void Install(RootCommand root, IReadOnlyDictionary<Command, string> examples)
    {
        HelpOption help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is not CommandLineAction original)
            return;
        help.Action = new WithExamples(original, examples);
    }

    /// <summary>
    /// The root's help, written here rather than by System.CommandLine: its command list shows an
    /// optional argument as required ("replay &lt;trace-file&gt;").
    /// </summary>
    public static void WriteRoot(RootCommand root, TextWriter output)
    {
        output.WriteLine("Description:");
        output.WriteLine($"  {root.Description}");
        output.WriteLine();
        output.WriteLine("Usage:");
        output.WriteLine("  alloc [command] [options]");
        output.WriteLine("  alloc                 (no command: replay the bundled sample, as `alloc replay`)");
        output.WriteLine();
        output.WriteLine("Options:");
        var options = root.Options.Where(o => !o.Hidden)
            .Select(o => (Names: string.Join(", ", o.Aliases.Append(o.Name).Where(n => n.StartsWith('-')).OrderBy(n => n.Length)), o.Description ?? "")).ToList();
        int width = options.Max(o => o.Names.Length) + 2;
        foreach (var (names, description) in options)
            output.WriteLine($"  {names.PadRight(width)}{description}");
        output.WriteLine();
        output.WriteLine("Commands:");
        var commands = root.Subcommands.Where(c => !c.Hidden).Select(c => (Usage: Usage(c), c.Description ?? "")).ToList();
        width = commands.Max(c => c.Usage.Length) + 2;
        foreach (var (usage, description) in commands)
            output.WriteLine($"  {usage.PadRight(width)}{description}");
        output.WriteLine();
    }

    /// <summary>"replay [trace-file]", "record [package] [args...]", "explore &lt;scenario&gt;".</summary>
    public static string Usage(Command c)
    {
        var parts = new List<string> { c.Name };
        foreach (Argument a in c.Arguments.Where(a => !a.Hidden))
        {
            string name = a.Arity.MaximumNumberOfValues > 1 ? $"{a.Name}..." : a.Name;
            parts.Add(a.Arity.MinimumNumberOfValues == 0 ? $"[{name}]" : $"<{name}>");
        }
        return string.Join(' ', parts);
    }

    /// <summary>Whether the parse asks for help (then its errors, such as a missing argument, do not matter).</summary>
    public static bool Requested(ParseResult parse) => parse.Action is WithExamples;

    private sealed class WithExamples(CommandLineAction original, IReadOnlyDictionary<Command, string> examples) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            if (parseResult.CommandResult.Command is RootCommand root)
                WriteRoot(root, output);
            else if (original is SynchronousCommandLineAction sync)
                sync.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out string? text))
            {
                output.WriteLine(text);
                output.WriteLine();
            }
            output.WriteLine(ExitCodes.Help);
            return ExitCodes.Ok;
        }
    }
}
