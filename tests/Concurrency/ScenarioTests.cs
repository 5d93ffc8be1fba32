// Every scenario on both allocators, explored by Coyote with the default budget: the clean code
// must survive every interleaving tried, with no uncontrolled concurrency.
using Xunit;

namespace GoAlloc.Concurrency;

public class ScenarioTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string s in Scenarios.Names)
        {
            foreach (string impl in new[] { Scenarios.Reference, Scenarios.Optimized })
            {
                if (Scenarios.Applies(s, impl))
                    data.Add(s, impl);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scenario_SurvivesEveryExploredInterleaving(string scenario, string impl)
    {
        foreach (uint seed in Budget.ScenarioSeeds)
        {
            ExplorationResult r = CoyoteRunner.Explore(new ExploreSpec(scenario, impl, Budget.Iterations, seed), $"{scenario}.{impl}.seed{seed}");
            Assert.True(r.Uncontrolled.Count == 0, "uncontrolled invocations: " + string.Join(", ", r.Uncontrolled));
            Assert.False(r.BugFound, $"seed {seed}: {r.BugReport}\nreplay: {CoyoteRunner.ReplayCommand(r.TracePath!)}");
        }
    }
}
