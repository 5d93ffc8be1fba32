// Program: the Coyote runner, what `alloc explore` / `alloc reproduce` run as a child process from
// the Coyote-rewritten copies src/Cli's build makes of this project (coyote/clean and
// coyote/seeded beside alloc.dll: src/Concurrency/Coyote.targets); tests/Concurrency runs it
// in-process. Unrewritten, it refuses to explore or replay (Coyote would control nothing).
//   explore <scenario> [--impl reference|optimized] [--iterations N] [--strategy S] [--seed K] [--bug SeededBug]
//     explores one scenario under Coyote (CoyoteRunner.Explore), printing a progress line every
//     tenth of the budget; on a bug writes the trace and its sidecar and prints the replay command.
//     --bug switches a seeded bug on (the seeded build only: -p:SeededBugs=true, coyote/seeded).
//   reproduce <trace>
//     replays the trace as its sidecar describes it (scenario, allocator, seeded bug) with a trace
//     sink on the heap, and prints the recorded interleaving as numbered allocator steps
//     (Interleaving), then the failure.
// --json: the text goes to stderr and a JSON summary (schemaVersion 1: outcome, exitCode, the
// scenario, allocator, bug and build; explore: iterations, bugFound, failure, trace, sidecar;
// reproduce: scheduleSteps, allocatorSteps, reproduced, failure) to stdout.
// Exit codes (as `alloc`): explore 0 no bug found, 1 a bug found (or uncontrolled concurrency);
// reproduce 0 the failure reproduced, 1 it did not; 2 a usage error (bad arguments, missing trace
// or sidecar, a truncated or damaged trace, a sidecar whose scenario the schedule does not fit, a
// seeded trace in the clean build: the command to run instead is printed); 3 this copy is not
// rewritten for Coyote (`alloc` reports it as a host failure).
using System.Collections.Concurrent;
using System.Globalization;

namespace GoAlloc.Concurrency;

public static class Program
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int NotRewritten = 3;

    public const string UsageText = """
        usage:
          explore <scenario> [--impl reference|optimized] [--iterations N] [--strategy S] [--seed K] [--bug SeededBug] [--json]
          reproduce <trace> [--json]
        """;

    private static readonly System.Text.Json.JsonSerializerOptions s_indented = new() { WriteIndented = true };

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole program with its output on the given writers (tests run it in-process).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            (args.Length == 0 ? error : output).WriteLine(UsageText);
            return args.Length == 0 ? Usage : Ok;
        }
        // --json (anywhere): the text goes to stderr and one JSON summary (JsonSchemaVersion) to stdout.
        Dictionary<string, object?>? summary = args.Contains(JsonFlag) ? [] : null;
        args = [.. args.Where(a => a != JsonFlag)];
        TextWriter text = summary != null ? error : output;
        if (args[0] is "explore" or "reproduce" && CoyoteRunner.NotRewritten() is { } plain)
        {
            error.WriteLine($"{args[0]}: {plain} is not rewritten for Coyote, which would then control none of its locks, " +
                "atomics or tasks: run `alloc explore` / `alloc reproduce` (src/Cli's build makes the rewritten copies) or tests/Concurrency");
            return NotRewritten;
        }
        try
        {
            int code = args[0] switch
            {
                "explore" => Explore(ParseExplore(args.AsSpan(1)), text, error, summary),
                "reproduce" when args.Length == 2 && !args[1].StartsWith('-') => Reproduce(args[1], text, error, summary),
                "reproduce" => throw new UsageException("reproduce takes one argument: the trace file"),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
            if (summary != null && code is Ok or Failed)
            {
                var document = new Dictionary<string, object?>
                {
                    ["schemaVersion"] = JsonSchemaVersion,
                    ["tool"] = $"alloc {args[0]}",
                    ["outcome"] = code == Ok ? "ok" : "finding",
                    ["exitCode"] = code,
                };
                foreach (var (k, v) in summary)
                    document[k] = v;
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(document, s_indented));
            }
            return code;
        }
        catch (UsageException e)
        {
            error.WriteLine($"{args[0]}: {e.Message}");
            error.WriteLine(UsageText);
            return Usage;
        }
    }

    /// <summary>The flag that asks for a JSON summary on stdout (the text goes to stderr).</summary>
    public const string JsonFlag = "--json";

    /// <summary>Version of the --json summary's fields (README "Reproduce a concurrency bug"); bumped when one is removed or changes meaning.</summary>
    public const int JsonSchemaVersion = 1;

    /// <summary>A bad command line: Run prints it with the usage and exits 2.</summary>
    public sealed class UsageException(string message) : Exception(message);

    // ---------------------------------------------------------------- explore

    /// <summary>Parses the explore arguments (after the command word); UsageException on anything wrong.</summary>
    public static ExploreSpec ParseExplore(ReadOnlySpan<string> args)
    {
        string? scenario = null, impl = null, strategy = null, bug = null;
        uint iterations = ConcurrencyChoices.DefaultIterations, seed = ConcurrencyChoices.DefaultSeed;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                if (scenario != null)
                    throw new UsageException($"unexpected argument '{a}' (one scenario only)");
                scenario = a;
                continue;
            }
            string name = a, value;
            int eq = a.IndexOf('=');
            if (eq > 0)
            {
                name = a[..eq];
                value = a[(eq + 1)..];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"{a} needs a value");
            }
            switch (name)
            {
                case "--impl":
                    impl = value;
                    break;
                case "--strategy":
                    strategy = value;
                    break;
                case "--bug":
                    bug = value;
                    break;
                case "--iterations":
                    iterations = ParseCount(name, value, min: 1);
                    break;
                case "--seed":
                    seed = ParseCount(name, value, min: 0);
                    break;
                default:
                    throw new UsageException($"unknown option '{name}'");
            }
        }
        if (scenario == null)
            throw new UsageException("which scenario? one of " + string.Join(", ", ConcurrencyChoices.Scenarios));
        if (!ConcurrencyChoices.Scenarios.Contains(scenario))
            throw new UsageException($"unknown scenario '{scenario}': one of " + string.Join(", ", ConcurrencyChoices.Scenarios));
        impl ??= ConcurrencyChoices.Applies(scenario, ConcurrencyChoices.Reference) ? ConcurrencyChoices.Reference : ConcurrencyChoices.Optimized;
        if (!ConcurrencyChoices.Impls.Contains(impl))
            throw new UsageException($"--impl must be reference or optimized, not '{impl}'");
        if (!ConcurrencyChoices.Applies(scenario, impl))
            throw new UsageException($"{scenario} exists for the optimized allocator only");
        strategy ??= ConcurrencyChoices.DefaultStrategy;
        if (!ConcurrencyChoices.Strategies.Contains(strategy))
            throw new UsageException($"unknown strategy '{strategy}': one of " + string.Join(", ", ConcurrencyChoices.Strategies));
        if (bug != null && !ConcurrencyChoices.SeededBugs.Contains(bug))
            throw new UsageException($"unknown seeded bug '{bug}': one of " + string.Join(", ", ConcurrencyChoices.SeededBugs));
        return new ExploreSpec(scenario, impl, iterations, seed, strategy, bug);
    }

    private static uint ParseCount(string option, string value, uint min)
    {
        if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) || n < min)
            throw new UsageException($"{option} must be an integer >= {min}, not '{value}'");
        return n;
    }

    private static int Explore(ExploreSpec spec, TextWriter output, TextWriter error, Dictionary<string, object?>? summary = null)
    {
        if (spec.Bug != null && !CoyoteRunner.SeededBuild)
        {
            error.WriteLine($"explore: --bug {spec.Bug} needs the seeded build, which compiles the bug catalog in. Run instead:");
            error.WriteLine($"  dotnet run --project src/Cli -c Release -- explore {ExploreArgs(spec)}");
            error.WriteLine($"  (or, after building src/Cli: dotnet {SeededDll} explore {ExploreArgs(spec)})");
            return Usage;
        }
        output.WriteLine($"explore {spec.Scenario} on {spec.Impl}: strategy {spec.Strategy}, seed {spec.Seed}, up to {spec.Iterations:N0} iterations, " +
            (spec.Bug == null ? "no seeded bug" : $"seeded bug {spec.Bug}") + $" ({TraceSidecar.CurrentBuild} build)");
        uint step = Math.Max(1, spec.Iterations / 10), lastShown = 0;
        void Progress(uint done, int bugs)
        {
            if (done % step == 0 || bugs > 0)
            {
                output.WriteLine($"  iterations {done:N0}/{spec.Iterations:N0}, bugs found {bugs}");
                lastShown = done;
            }
        }
        ExplorationResult r = CoyoteRunner.Explore(spec, progress: Progress);
        if (summary != null)
        {
            summary["scenario"] = spec.Scenario;
            summary["impl"] = spec.Impl;
            summary["strategy"] = spec.Strategy;
            summary["seed"] = spec.Seed;
            summary["iterationBudget"] = spec.Iterations;
            summary["bug"] = spec.Bug;
            summary["build"] = TraceSidecar.CurrentBuild;
            summary["iterations"] = r.Iterations;
            summary["bugFound"] = r.BugFound;
            summary["iterationsToBug"] = r.BugFound ? r.IterationsToBug : null;
            summary["failure"] = r.FirstLine;
            summary["trace"] = r.TracePath;
            summary["sidecar"] = r.TracePath == null ? null : TraceSidecar.PathFor(r.TracePath);
            summary["uncontrolled"] = r.Uncontrolled.ToArray();
        }
        if (lastShown != (uint)r.Iterations)
            output.WriteLine($"  iterations {r.Iterations:N0}/{spec.Iterations:N0}, bugs found {(r.BugFound ? 1 : 0)}");
        if (r.Uncontrolled.Count > 0)
        {
            output.WriteLine("UNCONTROLLED concurrency (the exploration does not cover it): " + string.Join(", ", r.Uncontrolled));
            return Failed;
        }
        if (!r.BugFound)
        {
            output.WriteLine($"no bug found in {r.Iterations:N0} iterations");
            return Ok;
        }
        output.WriteLine($"BUG found at iteration {r.IterationsToBug:N0}: {r.FirstLine}");
        output.WriteLine($"trace:     {r.TracePath}");
        output.WriteLine($"sidecar:   {TraceSidecar.PathFor(r.TracePath!)}");
        output.WriteLine($"reproduce: {CoyoteRunner.ReplayCommand(r.TracePath!)}");
        return Failed;
    }

    private static string ExploreArgs(ExploreSpec s) =>
        $"{s.Scenario} --impl {s.Impl} --iterations {s.Iterations} --strategy {s.Strategy} --seed {s.Seed}" + (s.Bug == null ? "" : $" --bug {s.Bug}");

    /// <summary>The rewritten seeded copy of this program that src/Cli's Release build makes.</summary>
    private const string SeededDll = "src/Cli/bin/Release/net10.0/coyote/seeded/GoAlloc.Concurrency.dll";

    // ---------------------------------------------------------------- reproduce

    private static int Reproduce(string tracePath, TextWriter output, TextWriter error, Dictionary<string, object?>? summary = null)
    {
        if (!File.Exists(tracePath))
            throw new UsageException($"trace file not found: {tracePath}");
        TraceSidecar meta;
        try
        {
            meta = TraceSidecar.Read(tracePath);
        }
        catch (FileNotFoundException)
        {
            throw new UsageException($"no sidecar {TraceSidecar.PathFor(tracePath)} next to the trace: it says which scenario, allocator and seeded bug the " +
                "schedule belongs to (CoyoteRunner writes it with every trace; copy it along with the .trace file)");
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
        if (!ConcurrencyChoices.Scenarios.Contains(meta.Scenario) || !ConcurrencyChoices.Applies(meta.Scenario, meta.Impl)
            || (meta.Bug != null && !ConcurrencyChoices.SeededBugs.Contains(meta.Bug)))
            throw new UsageException($"the sidecar names an unknown scenario, allocator or bug: {meta.Scenario} / {meta.Impl} / {meta.Bug}");
        if (meta.Build == TraceSidecar.SeededBuild && !CoyoteRunner.SeededBuild)
        {
            error.WriteLine($"reproduce: {tracePath} was found in the seeded build" + (meta.Bug == null ? "" : $" (seeded bug {meta.Bug})") +
                "; this is the clean build, which does not contain the bug catalog. Run instead:");
            error.WriteLine($"  dotnet run --project src/Cli -c Release -- reproduce \"{tracePath}\"");
            error.WriteLine($"  (or, after building src/Cli: dotnet {SeededDll} reproduce \"{tracePath}\")");
            return Usage;
        }

        output.WriteLine($"reproduce {tracePath}");
        output.WriteLine($"  scenario {meta.Scenario} on {meta.Impl}, " + (meta.Bug == null ? "no seeded bug" : $"seeded bug {meta.Bug}") +
            $" ({meta.Build} build); found with strategy {meta.Strategy}, seed {meta.Seed}, at iteration {meta.FoundAtIteration:N0}");
        if (meta.Failure != null)
            output.WriteLine($"  recorded failure: {meta.Failure}");

        if (CoyoteTraceFile.StepCount(tracePath, out string damage) is not { } steps)
            throw new UsageException(damage);
        var events = new ConcurrentQueue<HeapTraceEvent>();
        ExplorationResult r;
        try
        {
            r = CoyoteRunner.Reproduce(tracePath, meta, events.Enqueue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The engine rejects a schedule it cannot parse or follow: bad input, not a crash.
            throw new UsageException($"Coyote cannot replay {tracePath}: {e.Message.ReplaceLineEndings(" ")}");
        }
        if (!r.BugFound && r.MaxSteps != steps)
        {
            // The schedule diverged: the trace belongs to another scenario, allocator or bug than the sidecar says.
            throw new UsageException($"the trace's schedule ({steps} steps) does not fit {meta.Scenario} on {meta.Impl}" +
                (meta.Bug == null ? "" : $" with {meta.Bug}") + $" (the replay diverged after {r.MaxSteps}): the sidecar does not belong to " +
                "this trace, or the code changed since it was found");
        }

        bool reproduced = r.BugFound && (meta.Failure == null || CoyoteRunner.SameFailure(r.BugReport, meta.Failure));
        if (summary != null)
        {
            summary["trace"] = tracePath;
            summary["scenario"] = meta.Scenario;
            summary["impl"] = meta.Impl;
            summary["bug"] = meta.Bug;
            summary["build"] = meta.Build;
            summary["scheduleSteps"] = steps;
            summary["allocatorSteps"] = events.Count;
            summary["reproduced"] = reproduced;
            summary["recordedFailure"] = meta.Failure;
            summary["failure"] = CoyoteRunner.FirstLine(r.BugReport);
        }
        output.WriteLine();
        output.WriteLine(events.IsEmpty
            ? "interleaving: no allocator steps (the scenario has no heap, e.g. spanset-push-pop)"
            : $"interleaving: {events.Count} allocator steps of the replayed schedule");
        if (!events.IsEmpty)
            output.WriteLine($"  ({Interleaving.Legend})");
        int n = 0;
        foreach (HeapTraceEvent e in events)
            output.WriteLine(Interleaving.Line(++n, e));
        output.WriteLine();
        if (!r.BugFound)
        {
            output.WriteLine("NOT REPRODUCED: the replay ran to completion without a failure (is the code the one that found the trace?)");
            return Failed;
        }
        output.WriteLine("failure:");
        foreach (string line in r.BugReport!.Split('\n'))
            output.WriteLine("  " + line.TrimEnd());
        if (meta.Failure != null && !CoyoteRunner.SameFailure(r.BugReport, meta.Failure))
        {
            output.WriteLine($"NOT REPRODUCED: the replay failed differently; recorded: {meta.Failure}");
            return Failed;
        }
        output.WriteLine("REPRODUCED: the replay hit the recorded failure");
        return Ok;
    }
}
