// The seeded-bug catalog's race entries (only in the seeded-bug build, -p:SeededBugs=true; the
// entries are in SeededBugCatalog.cs): each is switched on and its scenario explored (StrategyFor)
// with up to three fixed seeds and up to 2,000 iterations each. It must be found, with the failure
// the entry expects, for at least 2 of 3 seeds, its trace saved, and the replay of the trace must
// hit the same failure. The default gate stops at the second seed that finds it (the third seed
// cannot change the verdict); the nightly run (GOALLOC_COYOTE_SEEDS=all) tries all three. The clean
// code then passes the same scenario and strategy (as many iterations as the bug needed, at most
// 300) from Budget.ScenarioSeeds: the first seed, or all three at night. Iterations per seed go to
// the test output and to TestResults/coyote/catalog.txt.
#if SEEDED_BUGS
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Concurrency;

public class SeededBugCatalogTests(ITestOutputHelper output)
{
    public const uint MaxIterations = 2000;

    /// <summary>The exploration strategy per bug. Random finds the protocol bugs; PCT, tried too,
    /// starves the yielding wait loops into the step bound. The FindObject races need a P-less
    /// finder held off while a flush sweeps its span (probabilistic: it keeps running the same
    /// task) or while a whole cycle passes (fair PCT: a low-priority finder waits out the cycle,
    /// and fairness after the priority changes lets clean wait loops end). Random almost never
    /// holds one task off that long.</summary>
    public static string StrategyFor(SeededBug bug) => bug switch
    {
        SeededBug.FindObjectWaitIgnoresCycle => "fair-prioritization",
        SeededBug.FindObjectReadsUnownedSpan => "probabilistic",
        _ => "random",
    };

    /// <summary>The race entries (SeededBugCatalog.Races); the sequential ones are checked single-threaded instead.</summary>
    public static TheoryData<SeededBug, string, string> Catalog() => CatalogRows.Data(SeededBugCatalog.Races);

    [Theory]
    [MemberData(nameof(Catalog))]
    public void SeededBug_IsFoundWithin2000IterationsAndItsTraceReplays(SeededBug bug, string scenario, string impl)
    {
        CatalogEntry entry = SeededBugCatalog.Find(bug, scenario, impl);
        var perSeed = new List<string>();
        int found = 0;
        uint longest = 100;
        int tried = 0;
        foreach (uint seed in Budget.Seeds)
        {
            if (found >= 2 && !Budget.AllSeeds)
            {
                perSeed.Add($"seed {seed}: not run (found for 2 seeds already; the nightly run tries it)");
                continue;
            }
            tried++;
            string name = $"{bug}.{impl}.seed{seed}";
            var spec = new ExploreSpec(scenario, impl, MaxIterations, seed, StrategyFor(bug), bug.ToString());
            ExplorationResult r = CoyoteRunner.Explore(spec, name);
            Assert.True(r.Uncontrolled.Count == 0, "uncontrolled invocations: " + string.Join(", ", r.Uncontrolled));
            if (!r.BugFound)
            {
                perSeed.Add($"seed {seed}: not found in {MaxIterations}");
                continue;
            }
            if (!SeededBugCatalog.IsExpected(entry, r.FirstLine))
            {
                perSeed.Add($"seed {seed}: found at iteration {r.Iterations} a DIFFERENT failure than the entry's \"{entry.Expected}\" ({r.FirstLine}); {CoyoteRunner.ReplayCommand(r.TracePath!)}");
                continue;
            }
            found++;
            longest = Math.Max(longest, (uint)r.Iterations);
            ExplorationResult replay = CoyoteRunner.Reproduce(r.TracePath!, TraceSidecar.Read(r.TracePath!), sink: null);
            Assert.True(replay.BugFound, $"{name}: the saved trace {r.TracePath} did not reproduce the bug; {CoyoteRunner.ReplayCommand(r.TracePath!)}");
            Assert.True(CoyoteRunner.SameFailure(r.BugReport, replay.BugReport), $"{name}: the replay failed differently: {replay.FirstLine} (found: {r.FirstLine})");
            perSeed.Add($"seed {seed}: found at iteration {r.Iterations} ({r.FirstLine}); replay reproduced it");
        }
        string line = $"{bug} / {scenario} / {impl}: found for {found} of {tried} seeds tried ({Budget.Seeds.Length} in all); " + string.Join("; ", perSeed);
        output.WriteLine(line);
        Directory.CreateDirectory(CoyoteRunner.TraceDirectory);
        File.AppendAllText(Path.Combine(CoyoteRunner.TraceDirectory, "catalog.txt"), line + Environment.NewLine);
        // A seed that finds another failure is reported, but only the entry's own failure counts.
        Assert.True(found >= 2, line);

        // The clean code passes the same runs (capped at 300 iterations per seed, the scenario budget).
        foreach (uint seed in Budget.ScenarioSeeds)
        {
            ExplorationResult clean = CoyoteRunner.Explore(new ExploreSpec(scenario, impl, Math.Min(longest, 300), seed, StrategyFor(bug)), $"clean.{scenario}.{impl}.seed{seed}");
            Assert.False(clean.BugFound, $"the clean code failed {scenario}/{impl} seed {seed}: {clean.BugReport}\nreplay: {CoyoteRunner.ReplayCommand(clean.TracePath!)}");
        }
    }
}
#endif
