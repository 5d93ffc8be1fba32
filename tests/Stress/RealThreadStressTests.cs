// The real-thread stress suite: each allocator under StressWorkload (2, 4 and 8 threads each with
// its own P, the background sweeper, a FindObject / ReadStats reader, stop-the-world cycles with
// Verify and pattern checks every cycle) for its share of GOALLOC_STRESS_SECONDS. A violation
// fails the test with the seed and the tail of the operation log.
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Stress.Tests;

public sealed class RealThreadStressTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, bool> Runs()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (string impl in HeapFactories.AllNames)
        {
            foreach (int threads in StressBudget.ThreadCounts)
            {
                data.Add(impl, threads, false);
                data.Add(impl, threads, true);
            }
        }
        return data;
    }

    /// <summary>
    /// cycleHeavy: StressOptions.CycleHeavy (64 operations per epoch: thousands of cycle boundaries,
    /// each flushing stale mcaches while P-less FindObject calls read them; the profile that found
    /// issue #20's FindObject report on the Reference before ad3df40 in under a minute).
    /// </summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void RealThreads_NoViolationWithinTheBudget(string impl, int threads, bool cycleHeavy)
    {
        var options = new StressOptions
        {
            Threads = threads,
            Seed = StressBudget.Seed + (ulong)threads,
            Duration = StressBudget.PerRun,
        };
        if (cycleHeavy)
            options = options.CycleHeavy();
        StressResult result = StressWorkload.Run(impl, HeapFactories.Available[impl], options);
        output.WriteLine(result.Summary);
        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.True(result.Cycles >= 1, "not one GC cycle completed");
        Assert.True(result.FindObjectChecks > 0 && result.PatternChecks > 0, "the checks never ran");
    }
}
