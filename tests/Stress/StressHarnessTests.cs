// The stress harness catches what it claims to: a live object whose bytes change, and live objects
// the heap frees (here: a cycle that does not mark one worker's objects), each reported with the
// seed and the operation log tail; a clean short run reports its counts.
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Stress.Tests;

public sealed class StressHarnessTests
{
    private static StressOptions Short(int threads = 2) => new()
    {
        Threads = threads,
        Seed = 7,
        Duration = TimeSpan.FromMinutes(10),
        MaxCycles = 4,
        OpsPerEpoch = 600,
        MaxLivePerThread = 400,
    };

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void ShortRun_CompletesItsCyclesCleanAndCountsItsWork(string impl)
    {
        StressResult r = StressWorkload.Run(impl, HeapFactories.Available[impl], Short());
        Assert.True(r.Passed, r.Violation?.ToString());
        Assert.Equal(4, r.Cycles);
        // Every epoch runs OpsPerEpoch operations per worker: a sweep and a mark epoch per cycle, plus the last sweep epoch.
        Assert.Equal(2L * 600 * (2 * 4 + 1), r.Operations);
        Assert.True(r.MaxHeapSys >= 64L << 20);
    }

    [Fact]
    public void CorruptedObject_IsReportedWithSeedAndLogTail()
    {
        StressResult r = StressWorkload.Run(HeapFactories.Reference, HeapFactories.Available[HeapFactories.Reference],
            Short() with { CorruptAtCycle = 2 });
        Assert.NotNull(r.Violation);
        string text = r.Violation!.ToString();
        Assert.Contains("lost its pattern at the cycle's check", text);
        Assert.Contains("seed 7", text);
        Assert.Contains("CORRUPTED one byte", text);
        Assert.Equal(2, r.Violation.Cycle);
    }

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void UnmarkedLiveObjects_AreCaughtOnceSwept(string impl)
    {
        StressResult r = StressWorkload.Run(impl, HeapFactories.Available[impl], Short() with { SkipMarkAtCycle = 1 });
        Assert.NotNull(r.Violation);
        string text = r.Violation!.ToString();
        // Caught by a FindObject (not allocated / not found) or by a pattern check of reused memory.
        Assert.Matches("FindObject|lost its pattern|not zero", r.Violation.Message);
        Assert.Contains("seed 7", text);
        Assert.True(r.Violation.Cycle >= 2, $"caught before the unmarked cycle ended: {text}");
    }
}
