// ConcurrencyCommands: `alloc explore` and `alloc reproduce`, the command-line face of the Coyote
// scenarios and runner in src/Concurrency (see README "Reproduce a concurrency bug").
//   alloc explore <scenario> [--impl reference|optimized] [--iterations N] [--strategy S] [--seed K] [--bug SeededBug] [--json]
//     Coyote explores the scenario's interleavings on one allocator; progress line; on a bug the
//     trace and its sidecar (<trace>.json) go to TestResults/coyote/ and the replay command is
//     printed. --bug switches a seeded bug on (the seeded build, -p:SeededBugs=true: coyote/seeded).
//   alloc reproduce <trace> [--json]
//     replays the trace deterministically (in the build its sidecar names) and prints the
//     interleaving as numbered allocator steps (which P did what to which span, with sweepgen),
//     then the failure.
// Both validate the command line here (names from ConcurrencyChoices), then hand a
// ConcurrencyRun to the launcher (ConcurrencyProcess.Launch: run the rewritten runner that alloc's
// build put beside it, relay output and exit code). Exit codes: explore 0 no bug / 1 bug found;
// reproduce 0 reproduced / 1 not; 2 usage (bad arguments, a missing, truncated or damaged trace
// (CoyoteTraceFile), a missing or bad sidecar, or one that names another scenario); 3 host failure
// (the runner's copy is missing or not rewritten, the tool crashed or was killed).
using System.CommandLine;
using System.Text.Json;
using GoAlloc.Concurrency;

namespace GoAlloc.Cli;

public sealed class ConcurrencyCommands
{
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly Func<ConcurrencyRun, int> _launch;

    private readonly Argument<string> _scenario = new("scenario")
    {
        Description = "Coyote scenario: " + string.Join(", ", ConcurrencyChoices.Scenarios),
        HelpName = "scenario",
    };
    private readonly Option<string?> _impl = new("--impl")
    {
        Description = "Allocator the scenario runs on (default: reference; spanset-push-pop: optimized)",
        HelpName = "reference|optimized",
    };
    private readonly Option<uint> _iterations = new("--iterations")
    {
        Description = "Iterations (schedules) to explore; Coyote stops at the first bug",
        DefaultValueFactory = _ => ConcurrencyChoices.DefaultIterations,
    };
    private readonly Option<string> _strategy = new("--strategy")
    {
        Description = "Coyote exploration strategy: " + string.Join(", ", ConcurrencyChoices.Strategies),
        HelpName = "strategy",
        DefaultValueFactory = _ => ConcurrencyChoices.DefaultStrategy,
    };
    private readonly Option<uint> _seed = new("--seed")
    {
        Description = "Random seed of the strategy (consecutive seeds are correlated: spread them out)",
        DefaultValueFactory = _ => ConcurrencyChoices.DefaultSeed,
    };
    private readonly Option<string?> _bug = new("--bug")
    {
        Description = "Switch on a seeded bug of src/Allocator/SeededBugs.cs (runs the seeded build): " + string.Join(", ", ConcurrencyChoices.SeededBugs),
        HelpName = "SeededBug",
    };
    private readonly Option<bool> _json = new("--json")
    {
        Description = "Print a JSON summary on stdout (schemaVersion 1: outcome, exitCode, scenario, failure, trace, ...); the text goes to stderr",
    };
    private readonly Option<string?> _swimlane = new("--swimlane")
    {
        Description = "Also draw the interleaving as swim lanes (one per thread; steps with span and sweepgen) into this PNG (explore: of the bug found)",
        HelpName = "file.png",
    };
    private readonly Option<bool> _reproduceJson = new("--json")
    {
        Description = "Print a JSON summary on stdout (schemaVersion 1: outcome, exitCode, reproduced, failure, steps); the text goes to stderr",
    };
    private readonly Argument<string> _trace = new("trace")
    {
        Description = "A Coyote trace written by `alloc explore` or a failing tests/Concurrency test (its sidecar <trace>.json next to it)",
    };

    /// <param name="launch">Runs the concurrency tool (default: ConcurrencyProcess.Launch on output/error; tests record the run instead).</param>
    public ConcurrencyCommands(TextWriter output, TextWriter error, Func<ConcurrencyRun, int>? launch = null)
    {
        _output = output;
        _error = error;
        _launch = launch ?? (run => ConcurrencyProcess.Launch(run, output, error));
        CliValidation.Choices(_scenario, ConcurrencyChoices.Scenarios, () => Explore!);
        CliValidation.Choices(_impl, ConcurrencyChoices.Impls);
        CliValidation.Choices(_strategy, ConcurrencyChoices.Strategies);
        CliValidation.Choices(_bug, ConcurrencyChoices.SeededBugs);
        CliValidation.WholeNumber(_iterations, 1, uint.MaxValue, fallback: ConcurrencyChoices.DefaultIterations);
        CliValidation.WholeNumber(_seed, 0, uint.MaxValue, fallback: ConcurrencyChoices.DefaultSeed);
        CliValidation.NotAnOption(_trace, () => Reproduce!);

        Explore = new Command("explore", "Explore a concurrency scenario's interleavings with Coyote; on a bug, save the trace (TestResults/coyote) to reproduce")
        {
            _scenario, _impl, _iterations, _strategy, _seed, _bug, _json, _swimlane,
        };
        Explore.SetAction(parse => RunExplore(parse.GetValue(_scenario)!, parse.GetValue(_impl), parse.GetValue(_iterations),
            parse.GetValue(_strategy)!, parse.GetValue(_seed), parse.GetValue(_bug), parse.GetValue(_json), parse.GetValue(_swimlane)));

        Reproduce = new Command("reproduce", "Replay a Coyote trace and print the interleaving as allocator steps (which P did what to which span, with sweepgen)")
        {
            _trace, _reproduceJson, _swimlane,
        };
        Reproduce.SetAction(parse => RunReproduce(parse.GetValue(_trace)!, parse.GetValue(_reproduceJson), parse.GetValue(_swimlane)));
    }

    public Command Explore { get; }
    public Command Reproduce { get; }

    /// <summary>The concurrency tool's arguments for an explore run (impl resolved: reference, or optimized for optimized-only scenarios).</summary>
    public static IReadOnlyList<string> ExploreArguments(string scenario, string? impl, uint iterations, string strategy, uint seed, string? bug,
        bool json = false)
    {
        impl ??= ConcurrencyChoices.Applies(scenario, ConcurrencyChoices.Reference) ? ConcurrencyChoices.Reference : ConcurrencyChoices.Optimized;
        List<string> args = ["explore", scenario, "--impl", impl, "--iterations", $"{iterations}", "--strategy", strategy, "--seed", $"{seed}"];
        if (bug != null)
            args.AddRange(["--bug", bug]);
        if (json)
            args.Add("--json");
        return args;
    }

    private int RunExplore(string scenario, string? impl, uint iterations, string strategy, uint seed, string? bug, bool json, string? swimlane = null)
    {
        // Checked here, not in a command validator: in System.CommandLine 2.0.0 a command validator
        // that reads an argument's value hides that argument's own validation error.
        if (impl != null && !ConcurrencyChoices.Applies(scenario, impl))
            return UsageError("explore", $"{scenario} exists for the optimized allocator only (--impl optimized)");
        if (swimlane != null && PlotFile.Check(swimlane) is { } plotProblem)
            return UsageError("explore", $"--swimlane {plotProblem}");
        var run = new ConcurrencyRun(Seeded: bug != null, ExploreArguments(scenario, impl, iterations, strategy, seed, bug, json));
        return swimlane == null ? _launch(run) : new SwimLaneRecorder(swimlane, _output, _error, _launch).Explore(run);
    }

    private int RunReproduce(string trace, bool json, string? swimlane = null)
    {
        string path = Path.GetFullPath(trace);
        if (!File.Exists(path))
            return UsageError("reproduce", $"trace file not found: {trace}");
        if (CoyoteTraceFile.StepCount(path, out string damage) == null)
            return UsageError("reproduce", damage);
        if (!TryReadBuild(path + ".json", out bool seeded, out string problem))
            return UsageError("reproduce", problem);
        if (swimlane != null && PlotFile.Check(swimlane) is { } plotProblem)
            return UsageError("reproduce", $"--swimlane {plotProblem}");
        var run = new ConcurrencyRun(seeded, json ? ["reproduce", path, "--json"] : ["reproduce", path]);
        return swimlane == null ? _launch(run) : new SwimLaneRecorder(swimlane, _output, _error, _launch).Reproduce(run);
    }

    /// <summary>
    /// Reads the sidecar's "build" ("seeded" or "clean"): a trace replays in the build that found it
    /// (a seeded bug exists only in the seeded build). False with a message if the sidecar is
    /// missing or is not one.
    /// </summary>
    public static bool TryReadBuild(string sidecarPath, out bool seeded, out string problem)
    {
        seeded = false;
        if (!File.Exists(sidecarPath))
        {
            problem = $"no sidecar {sidecarPath} next to the trace: it says which scenario, allocator, seeded bug and build the schedule " +
                "belongs to (explore and tests/Concurrency write it with every trace; keep it with the .trace file)";
            return false;
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(sidecarPath));
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("build", out JsonElement build)
                && build.ValueKind == JsonValueKind.String
                && build.GetString() is "seeded" or "clean")
            {
                seeded = build.GetString() == "seeded";
                problem = "";
                return true;
            }
            problem = $"{sidecarPath} has no \"build\": \"seeded\" or \"clean\"";
            return false;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            problem = $"cannot read the sidecar {sidecarPath}: {e.Message}";
            return false;
        }
    }

    private int UsageError(string command, string message)
    {
        _error.WriteLine($"alloc {command}: {message}");
        return ExitCodes.Usage;
    }
}
