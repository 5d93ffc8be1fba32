// Every scenario on both allocators, explored by Coyote with the default budget (a single-task
// scenario: one iteration, its only schedule): the clean code must survive every interleaving
// tried, with no uncontrolled concurrency.
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
        // A single-task scenario has one schedule: one iteration explores it all.
        uint iterations = ConcurrencyChoices.SingleTask.Contains(scenario) ? 1 : Budget.Iterations;
        foreach (uint seed in Budget.ScenarioSeeds)
        {
            ExplorationResult r = CoyoteRunner.Explore(new ExploreSpec(scenario, impl, iterations, seed), $"{scenario}.{impl}.seed{seed}");
            Assert.True(r.Uncontrolled.Count == 0, "uncontrolled invocations: " + string.Join(", ", r.Uncontrolled));
            Assert.False(r.BugFound, $"seed {seed}: {r.BugReport}\nreplay: {CoyoteRunner.ReplayCommand(r.TracePath!)}");
        }
    }
}
