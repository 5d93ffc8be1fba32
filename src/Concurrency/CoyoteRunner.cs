// CoyoteRunner: runs one scenario under Coyote's in-process TestingEngine, the way every [Fact] of
// tests/Concurrency and `alloc explore` (Program) do: a fixed seed, strategy and iteration budget; telemetry off;
// uncontrolled invocations fail the run; the seeded bug of the run (seeded build only) switched on
// for its duration. On a bug the reproducible trace is saved to TestResults/coyote/<name>.trace
// with a sidecar <name>.trace.json (TraceSidecar: scenario, allocator, strategy, seed, bug, build),
// and the failure message names the command that replays it (`alloc reproduce <trace>`, which
// reads the sidecar). Both files are written whole or not at all (WriteWhole: temp + rename).
// NotRewritten says whether Coyote's IL rewrite reached the assemblies under test in this process.
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Coyote;
using Microsoft.Coyote.Logging;
using Microsoft.Coyote.SystematicTesting;

namespace GoAlloc.Concurrency;

public sealed record ExplorationResult(string Name, bool BugFound, string? BugReport, int Iterations, string? TracePath, IReadOnlyList<string> Uncontrolled, int MaxSteps = 0)
{
    /// <summary>1-based iteration of the first bug (Coyote stops at the first bug).</summary>
    public int IterationsToBug => BugFound ? Iterations : 0;

    /// <summary>The first line of the bug report (what a replay must hit again).</summary>
    public string? FirstLine => CoyoteRunner.FirstLine(BugReport);
}

/// <summary>
/// One exploration: a scenario on an allocator, with a strategy, seed and budget, and a seeded bug
/// (seeded build) or none; Sequential runs the scenario single-threaded (Scenarios.Sequential).
/// </summary>
public sealed record ExploreSpec(string Scenario, string Impl, uint Iterations, uint Seed, string Strategy = "random", string? Bug = null, bool Sequential = false)
{
    /// <summary>The trace's file name (without .trace): scenario.impl[.bug].strategy.seedK[.sequential].</summary>
    public string DefaultName => $"{Scenario}.{Impl}{(Bug == null ? "" : "." + Bug)}.{Strategy}.seed{Seed}{(Sequential ? ".sequential" : "")}";
}

public static class CoyoteRunner
{
    static CoyoteRunner() => Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");

    /// <summary>The repository root (the folder holding Allocator.sln above this assembly), or null.</summary>
    public static string? RepoRoot
    {
        get
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Allocator.sln")))
                    return d.FullName;
            }
            return null;
        }
    }

    /// <summary>Where traces go: TestResults/coyote under the repository root (or the working directory).</summary>
    public static string TraceDirectory => Path.Combine(RepoRoot ?? Directory.GetCurrentDirectory(), "TestResults", "coyote");

    /// <summary>The engine configuration for a run; hitting the step bound is a bug (a livelock).</summary>
    public static Configuration Configure(uint iterations, uint seed, string strategy, string? scenario = null, uint maxSteps = 20_000)
    {
        Configuration c = Configuration.Create()
            .WithTestingIterations(iterations)
            .WithRandomGeneratorSeed(seed)
            .WithMaxSchedulingSteps(maxSteps)
            .WithTelemetryEnabled(false)
            .WithPartiallyControlledConcurrencyAllowed(false);
        // Every scenario terminates in a few thousand steps; reaching the bound means something
        // spins forever (a popper on a slot nobody will write, a FinishSweep on a P that never flushes).
        c = c.WithFailureOnMaxStepsBoundEnabled();
        return strategy switch
        {
            "random" => c.WithRandomStrategy(),
            "probabilistic" => c.WithProbabilisticStrategy(),
            "prioritization" or "pct" => c.WithPrioritizationStrategy(false, 10),
            "fair-prioritization" => c.WithPrioritizationStrategy(true, 10),
            "delay-bounding" => c.WithDelayBoundingStrategy(false, 10),
            "q-learning" => c.WithQLearningStrategy(),
            "portfolio" => c, // the engine's default
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy,
                "random, probabilistic, prioritization, fair-prioritization, delay-bounding, q-learning or portfolio"),
        };
    }

    /// <summary>
    /// Explores spec (its seeded bug switched on for the run); on a bug writes the trace and its
    /// sidecar. progress (iterations done, bugs found) is called after every iteration; with it
    /// the engine's own console log is silenced.
    /// </summary>
    public static ExplorationResult Explore(ExploreSpec spec, string? name = null, Action<uint, int>? progress = null)
    {
        using (SeededBugScope.Enter(spec.Bug))
        using (SequentialScope.Enter(spec.Sequential))
        {
            ExplorationResult r = Run(name ?? spec.DefaultName, Scenarios.Get(spec.Scenario, spec.Impl),
                Configure(spec.Iterations, spec.Seed, spec.Strategy, spec.Scenario), progress);
            if (r.TracePath != null)
                TraceSidecar.For(spec, r).Write(r.TracePath);
            return r;
        }
    }

    /// <summary>
    /// Runs the engine; quiet (implied by progress) silences its console log (the test output keeps
    /// it otherwise); saveTrace: write TestResults/coyote/name.trace on a bug.
    /// </summary>
    public static ExplorationResult Run(string name, Func<Task> test, Configuration config, Action<uint, int>? progress = null, bool quiet = false, bool saveTrace = true)
    {
        using var engine = TestingEngine.Create(config, test);
        if (quiet || progress != null)
            engine.SetLogger(new TextWriterLogger(TextWriter.Null, VerbosityLevel.None));
        if (progress != null)
            engine.RegisterEndIterationCallBack(i => progress(i + 1, engine.TestReport.NumOfFoundBugs));
        engine.Run();
        TestReport report = engine.TestReport;
        var uncontrolled = report.UncontrolledInvocations.ToList();
        bool bug = report.NumOfFoundBugs > 0;
        string? tracePath = null;
        if (bug && saveTrace)
        {
            Directory.CreateDirectory(TraceDirectory);
            tracePath = Path.Combine(TraceDirectory, name + ".trace");
            WriteWhole(tracePath, engine.ReproducibleTrace);
        }
        return new ExplorationResult(name, bug, bug ? string.Join("\n", report.BugReports) : null,
            report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths, tracePath, uncontrolled,
            Math.Max(report.MaxExploredFairSteps, report.MaxExploredUnfairSteps));
    }

    /// <summary>Replays a saved trace: the same schedule, deterministically (no new trace is written).</summary>
    public static ExplorationResult Replay(string name, Func<Task> test, string tracePath, bool quiet = false) =>
        Run(name + ".replay", test, Configuration.Create().WithTelemetryEnabled(false).WithMaxSchedulingSteps(20_000)
            .WithFailureOnMaxStepsBoundEnabled().WithReproducibleTrace(File.ReadAllText(tracePath)), quiet: quiet, saveTrace: false);

    /// <summary>
    /// Replays a trace written by Explore, as its sidecar describes it (scenario, allocator, seeded
    /// bug), with sink receiving every allocator step of the replayed iteration.
    /// </summary>
    public static ExplorationResult Reproduce(string tracePath, TraceSidecar meta, Action<HeapTraceEvent>? sink)
    {
        using (SeededBugScope.Enter(meta.Bug))
        using (SequentialScope.Enter(meta.Sequential))
        {
            Scenarios.TraceSink = sink;
            try
            {
                return Replay(Path.GetFileNameWithoutExtension(tracePath), Scenarios.Get(meta.Scenario, meta.Impl), tracePath, quiet: true);
            }
            finally
            {
                Scenarios.TraceSink = null;
            }
        }
    }

    /// <summary>
    /// Writes a file complete or not at all (a temporary name, then a rename), so a run stopped
    /// mid-write (Ctrl-C, SIGTERM from `alloc explore`) leaves no half trace for reproduce.
    /// </summary>
    public static void WriteWhole(string path, string text)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The command that replays a trace: through the repository's src/Cli, or the installed `alloc` outside a repository.</summary>
    public static string ReplayCommand(string tracePath) =>
        RepoRoot != null ? $"dotnet run --project src/Cli -c Release -- reproduce \"{tracePath}\"" : $"alloc reproduce \"{tracePath}\"";

    /// <summary>
    /// The first assembly under test (the shared surface, both allocators, the scenarios) that
    /// `coyote rewrite` has not rewritten, or null when all are: Coyote controls locks,
    /// Interlocked/Volatile, tasks and threads only in rewritten code.
    /// </summary>
    public static string? NotRewritten() =>
        new[] { typeof(IHeap), typeof(GoAlloc.Reference.MHeap), typeof(GoAlloc.Optimized.MHeap), typeof(CoyoteRunner) }
            .Select(t => t.Assembly)
            .FirstOrDefault(a => !a.GetCustomAttributes().Any(x => x.GetType().FullName == "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute"))
            ?.GetName().Name;

    public static string? FirstLine(string? report) => report?.Split('\n')[0].Trim();

    /// <summary>
    /// Whether two bug reports (or their first lines) name the same failure: the first lines, with
    /// what a replay may not repeat masked: managed thread ids (a replay runs on new threads: "P1
    /// is held by thread 13", then 22) and addresses (a heap left by a failed run in the same
    /// process keeps its arena, so the next heap's arena is at the next hint).
    /// </summary>
    public static bool SameFailure(string? a, string? b) => Mask(FirstLine(a)) == Mask(FirstLine(b));

    private static string? Mask(string? line) =>
        line == null ? null : Regex.Replace(Regex.Replace(line, @"thread \d+", "thread #"), "0x[0-9a-fA-F]+", "0x#");

    /// <summary>True in the seeded-bug build (SEEDED_BUGS: the catalog of src/Allocator/SeededBugs.cs is compiled in).</summary>
    public static bool SeededBuild =>
#if SEEDED_BUGS
        true;
#else
        false;
#endif
}

/// <summary>Switches a seeded bug on (by SeededBug name) until disposed; null = the clean protocol.</summary>
public readonly struct SeededBugScope : IDisposable
{
    private readonly bool _set;

    private SeededBugScope(bool set) => _set = set;

    /// <summary>Switches bug on; throws if the name is unknown or this is not the seeded build.</summary>
    public static SeededBugScope Enter(string? bug)
    {
        if (bug == null)
            return default;
#if SEEDED_BUGS
        if (!Enum.TryParse(bug, out SeededBug b) || b == SeededBug.None)
            throw new ArgumentOutOfRangeException(nameof(bug), bug, "not a SeededBug");
        SeededBugs.Active = b;
        return new SeededBugScope(true);
#else
        throw new InvalidOperationException($"seeded bug {bug} needs the seeded build (-p:SeededBugs=true: alloc's coyote/seeded, or dotnet test tests/Concurrency -c Release -p:SeededBugs=true)");
#endif
    }

    public void Dispose()
    {
        if (!_set)
            return;
#if SEEDED_BUGS
        SeededBugs.Active = SeededBug.None;
#endif
    }
}

/// <summary>Runs the scenarios single-threaded (Scenarios.Sequential) until disposed.</summary>
public readonly struct SequentialScope : IDisposable
{
    private readonly bool _set;

    private SequentialScope(bool set) => _set = set;

    public static SequentialScope Enter(bool sequential)
    {
        if (!sequential)
            return default;
        Scenarios.Sequential = true;
        return new SequentialScope(true);
    }

    public void Dispose()
    {
        if (_set)
            Scenarios.Sequential = false;
    }
}
