#if SEEDED_BUGS
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Concurrency;

public class CatalogProbe(ITestOutputHelper output)
{
    [Fact]
    public void Probe()
    {
        var lines = new List<string>();
        foreach (object[] row in SeededBugCatalogTests.Catalog())
        {
            var bug = (SeededBug)row[0];
            string? only = Environment.GetEnvironmentVariable("PROBE_ONLY");
            if (only != null && !only.Split(',').Contains(bug.ToString()))
                continue;
            string scenario = (string)row[1], impl = (string)row[2];
            SeededBugs.Active = bug;
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var res = new List<string>();
            foreach (uint seed in Budget.Seeds)
            {
                ExplorationResult r = CoyoteRunner.Run($"probe.{bug}.{impl}.{seed}", Scenarios.Get(scenario, impl), CoyoteRunner.Configure(uint.Parse(Environment.GetEnvironmentVariable("PROBE_ITERS") ?? "100"), seed, Environment.GetEnvironmentVariable("PROBE_STRATEGY") ?? SeededBugCatalogTests.StrategyFor(bug), scenario));
                res.Add((r.BugFound ? r.Iterations.ToString() : "-") + "/steps" + r.MaxSteps);
            }
            SeededBugs.Active = SeededBug.None;
            lines.Add($"{bug} {impl}: {string.Join(" ", res)} ({sw.ElapsedMilliseconds} ms)");
            File.WriteAllLines("/tmp/probe.txt", lines);
        }
        output.WriteLine(string.Join("\n", lines));
    }
}
#endif
