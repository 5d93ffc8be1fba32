// The real-thread stress suite: each allocator under StressWorkload (2, 4 and 8 threads each with
// its own P, the background sweeper, a FindObject / ReadStats reader, stop-the-world cycles with
// Verify and pattern checks every cycle) for its share of GOALLOC_STRESS_SECONDS. A violation
// fails the test with the seed and the tail of the operation log.
using GoAlloc.Cli;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Stress.Tests;

public sealed class RealThreadStressTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Runs()
    {
        var data = new TheoryData<string, int>();
        foreach (string impl in HeapFactories.AllNames)
        {
            foreach (int threads in StressBudget.ThreadCounts)
                data.Add(impl, threads);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void RealThreads_NoViolationWithinTheBudget(string impl, int threads)
    {
        var options = new StressOptions
        {
            Threads = threads,
            Seed = StressBudget.Seed + (ulong)threads,
            Duration = StressBudget.PerRun,
        };
        StressResult result = StressWorkload.Run(impl, HeapFactories.Available[impl], options);
        output.WriteLine(result.Summary);
        Assert.True(result.Passed, result.Violation?.ToString());
        Assert.True(result.Cycles >= 1, "not one GC cycle completed");
        Assert.True(result.FindObjectChecks > 0 && result.PatternChecks > 0, "the checks never ran");
    }
}
