// CoyoteRunner: runs one scenario under Coyote's in-process TestingEngine, the way every [Fact] of
// this suite does: a fixed seed, strategy and iteration budget; telemetry off; uncontrolled
// invocations fail the run; on a bug the reproducible trace is saved to
// TestResults/coyote/<name>.trace and the failure message names the command that replays it.
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

namespace GoAlloc.Concurrency;

public sealed record ExplorationResult(string Name, bool BugFound, string? BugReport, int Iterations, string? TracePath, IReadOnlyList<string> Uncontrolled, int MaxSteps = 0)
{
    /// <summary>1-based iteration of the first bug (Coyote stops at the first bug).</summary>
    public int IterationsToBug => BugFound ? Iterations : 0;
}

public static class CoyoteRunner
{
    static CoyoteRunner() => Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");

    /// <summary>Where traces go: TestResults/coyote under the repository root (or the working directory).</summary>
    public static string TraceDirectory
    {
        get
        {
            string dir = AppContext.BaseDirectory;
            for (DirectoryInfo? d = new(dir); d != null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Allocator.sln")))
                    return Path.Combine(d.FullName, "TestResults", "coyote");
            }
            return Path.Combine(Directory.GetCurrentDirectory(), "TestResults", "coyote");
        }
    }

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

    public static ExplorationResult Explore(string name, Func<Task> test, uint iterations, uint seed, string strategy = "random", string? scenario = null) =>
        Run(name, test, Configure(iterations, seed, strategy, scenario));

    public static ExplorationResult Run(string name, Func<Task> test, Configuration config)
    {
        using var engine = TestingEngine.Create(config, test);
        engine.Run();
        TestReport report = engine.TestReport;
        var uncontrolled = report.UncontrolledInvocations.ToList();
        bool bug = report.NumOfFoundBugs > 0;
        string? tracePath = null;
        if (bug)
        {
            Directory.CreateDirectory(TraceDirectory);
            tracePath = Path.Combine(TraceDirectory, name + ".trace");
            File.WriteAllText(tracePath, engine.ReproducibleTrace);
        }
        return new ExplorationResult(name, bug, bug ? string.Join("\n", report.BugReports) : null,
            report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths, tracePath, uncontrolled,
            Math.Max(report.MaxExploredFairSteps, report.MaxExploredUnfairSteps));
    }

    /// <summary>Replays a saved trace: the same schedule, deterministically.</summary>
    public static ExplorationResult Replay(string name, Func<Task> test, string tracePath) =>
        Run(name + ".replay", test, Configuration.Create().WithTelemetryEnabled(false).WithMaxSchedulingSteps(20_000)
            .WithFailureOnMaxStepsBoundEnabled().WithReproducibleTrace(File.ReadAllText(tracePath)));

    public static string ReplayCommand(string tracePath) => $"dotnet run --project src/Cli -c Release -- reproduce \"{tracePath}\"";
}
