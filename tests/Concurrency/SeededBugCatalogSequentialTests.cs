// The single-threaded half of the seeded-bug catalog (seeded build only): each scenario runs on
// one thread (Scenarios.Sequential: task bodies in program order, no background sweeper) under
// Coyote, one iteration. A race entry must pass there (its bug needs an interleaving, so finding
// it says something about exploration); a sequential entry must fail there with its expected
// check (it is a plain bug that any single run catches: listed apart and said so in the README).
// The clean code passes every scenario single-threaded. Results go to the test output and to
// TestResults/coyote/catalog-sequential.txt.
#if SEEDED_BUGS
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Concurrency;

public class SeededBugCatalogSequentialTests(ITestOutputHelper output)
{
    public static TheoryData<SeededBug, string, string> Races() => CatalogRows.Data(SeededBugCatalog.Races);

    public static TheoryData<SeededBug, string, string> Sequential() => CatalogRows.Data(SeededBugCatalog.Sequential);

    private static ExplorationResult RunSingleThreaded(CatalogEntry e, string? bug)
    {
        var spec = new ExploreSpec(e.Scenario, e.Impl, 1, Budget.Seeds[0], "random", bug, Sequential: true);
        ExplorationResult r = CoyoteRunner.Explore(spec, $"{e.Bug}.{e.Impl}.sequential{(bug == null ? ".clean" : "")}");
        Assert.True(r.Uncontrolled.Count == 0, "uncontrolled invocations: " + string.Join(", ", r.Uncontrolled));
        return r;
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Directory.CreateDirectory(CoyoteRunner.TraceDirectory);
        File.AppendAllText(Path.Combine(CoyoteRunner.TraceDirectory, "catalog-sequential.txt"), line + Environment.NewLine);
    }

    [Theory]
    [MemberData(nameof(Races))]
    public void RaceEntry_PassesSingleThreaded(SeededBug bug, string scenario, string impl)
    {
        CatalogEntry e = SeededBugCatalog.Find(bug, scenario, impl);
        ExplorationResult r = RunSingleThreaded(e, bug.ToString());
        Report($"{e}: race entry; single-threaded run {(r.BugFound ? "FAILED: " + r.FirstLine : "passed")}");
        Assert.False(r.BugFound, $"{e} fails without any interleaving, so it belongs in the sequential catalog: {r.FirstLine}");
    }

    [Theory]
    [MemberData(nameof(Sequential))]
    public void SequentialEntry_FailsSingleThreadedWithItsCheck(SeededBug bug, string scenario, string impl)
    {
        CatalogEntry e = SeededBugCatalog.Find(bug, scenario, impl);
        ExplorationResult r = RunSingleThreaded(e, bug.ToString());
        Report($"{e}: sequential entry; single-threaded run {(r.BugFound ? "caught it: " + r.FirstLine : "passed (NOT caught)")}");
        Assert.True(r.BugFound, $"{e}: a single-threaded run no longer catches it (a race entry now?)");
        Assert.True(SeededBugCatalog.IsExpected(e, r.FirstLine), $"{e}: expected a failure containing \"{e.Expected}\", got: {r.FirstLine}");
        ExplorationResult clean = RunSingleThreaded(e, null);
        Assert.False(clean.BugFound, $"the clean code fails {scenario}/{impl} single-threaded: {clean.FirstLine}");
    }

    [Theory]
    [MemberData(nameof(ScenarioTests.Cases), MemberType = typeof(ScenarioTests))]
    public void CleanScenario_PassesSingleThreaded(string scenario, string impl)
    {
        var spec = new ExploreSpec(scenario, impl, 1, Budget.Seeds[0], Sequential: true);
        ExplorationResult r = CoyoteRunner.Explore(spec, $"clean.{scenario}.{impl}.sequential");
        Assert.False(r.BugFound, $"{scenario}/{impl} single-threaded: {r.FirstLine}");
    }
}
#endif
