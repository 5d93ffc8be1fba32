// The sweep-pacing model (src/Model/PacingModel.cs, spec/SPEC.md 4.8, INV-PACE-1..3): the pacing
// arithmetic against hand-made stats (each rule caught when broken, nothing reported when kept),
// and both allocators keeping the pacing line through PacingWorkload, checked after every refill
// with hooks and at every stats check without them. The seeded pacing bugs of tests/Concurrency
// (scenario sweep-pacing) show the model catching real slips in both allocators.
using GoAlloc.Concurrency;
using GoAlloc.Model;
using Xunit;

namespace GoAlloc.Tests.Model;

public sealed class PacingModelTests
{
    public static readonly TheoryData<string> Implementations = ["reference", "optimized"];

    private static IHeap Make(string impl, HeapOptions o) =>
        impl == "reference" ? new GoAlloc.Reference.MHeap(o) : new GoAlloc.Optimized.MHeap(o);

    private const long MiB = 1 << 20;

    private static HeapStats Stats(long pagesInUse, long pagesSwept, long heapLive, long heapMarked) => new()
    {
        HeapInuse = pagesInUse * MallocConstants.PageSize,
        PagesInUse = pagesInUse,
        PagesSwept = pagesSwept,
        HeapLive = heapLive,
        HeapMarked = heapMarked,
    };

    private static void Check(PacingModel m, HeapStats s, bool sweepDone, string op) => m.Check(s, sweepDone, staleCachesHoldSpans: false, op);

    /// <summary>A cycle of 100 pages with 1 MiB marked at GOGC 100: trigger 4 MiB, heapDistance 2 MiB.</summary>
    private static PacingModel PacedCycle()
    {
        var m = new PacingModel(seesDrain: true);
        m.CycleStarted(Stats(100, 0, MiB, MiB), 100);
        Assert.Equal(4 * MiB, m.Trigger);
        Assert.Equal(2 * MiB, m.HeapDistance);
        Assert.Equal(100.0 / (2 * MiB), m.PagesPerByte);
        return m;
    }

    [Fact]
    public void INV_PACE_2_SweptOnTheLineIsKept_OnePageBehindIsCaught()
    {
        PacingModel m = PacedCycle();
        long grown = MiB / 2; // a quarter of heapDistance: 25 pages owed
        Check(m, Stats(110, 25, MiB + grown, MiB), sweepDone: false, "on the line");
        var e = Assert.Throws<ModelViolationException>(() => Check(m, Stats(110, 24, MiB + grown, MiB), false, "behind"));
        Assert.Equal(ModelIdentity.PaceCredit, e.Identity);
        Assert.Contains("25 pages were owed", e.Message);
    }

    [Fact]
    public void INV_PACE_2_ALargeAllocationsPagesAreLeftToItsCallerUntilTheNextRefill()
    {
        PacingModel m = PacedCycle();
        m.LargeAllocated(5);
        Check(m, Stats(110, 20, MiB + MiB / 2, MiB), false, "large"); // 25 owed, 5 left to the caller
        m.Refilled();
        var e = Assert.Throws<ModelViolationException>(() => Check(m, Stats(110, 20, MiB + MiB / 2, MiB), false, "refill"));
        Assert.Equal(ModelIdentity.PaceCredit, e.Identity);
    }

    [Fact]
    public void INV_PACE_1_TheTriggerReachedWithPagesUnsweptIsCaught_UnlessSweepIsDone()
    {
        PacingModel m = PacedCycle();
        Check(m, Stats(150, 100, 3 * MiB, MiB), false, "every page of the cycle swept");
        var e = Assert.Throws<ModelViolationException>(() => Check(m, Stats(150, 90, 3 * MiB, MiB), false, "at the trigger"));
        Assert.Equal(ModelIdentity.PaceTrigger, e.Identity);
        Check(m, Stats(150, 90, 3 * MiB, MiB), sweepDone: true, "done");
    }

    [Fact]
    public void INV_PACE_3_PagesSweptBeyondTheCycleOrHeapLiveBelowHeapMarkedIsCaught()
    {
        PacingModel m = PacedCycle();
        Assert.Equal(ModelIdentity.PaceCounters,
            Assert.Throws<ModelViolationException>(() => Check(m, Stats(100, 101, 3 * MiB, MiB), true, "too many")).Identity);
        Assert.Equal(ModelIdentity.PaceCounters,
            Assert.Throws<ModelViolationException>(() => Check(m, Stats(100, -1, 3 * MiB, MiB), true, "negative")).Identity);
        Assert.Equal(ModelIdentity.PaceCounters,
            Assert.Throws<ModelViolationException>(() => Check(m, Stats(100, 0, MiB - 8, MiB), true, "below")).Identity);
    }

    [Fact]
    public void INV_PACE_HeapDistanceHasAFloorOfOnePage()
    {
        var m = new PacingModel(seesDrain: true);
        m.CycleStarted(Stats(10, 0, 5 * MiB, 5 * MiB), 0); // trigger = heap_marked: -1 MiB before the floor
        Assert.Equal(5 * MiB, m.Trigger);
        Assert.Equal(MallocConstants.PageSize, m.HeapDistance);
        var e = Assert.Throws<ModelViolationException>(() => Check(m, Stats(11, 0, 5 * MiB + 8192, 5 * MiB), false, "one refill"));
        Assert.Equal(ModelIdentity.PaceTrigger, e.Identity);
    }

    [Theory]
    [InlineData(-1, 100, 0, false)]  // GOGC off
    [InlineData(100, 100, 100, false)] // nothing left to sweep
    [InlineData(100, 100, 0, true)]  // sweep done
    public void INV_PACE_OffChecksOnlyTheCounters(int gcPercent, long pagesInUse, long pagesSwept, bool sweepDone)
    {
        var m = new PacingModel(seesDrain: true);
        m.CycleStarted(Stats(100, 0, MiB, MiB), 100);
        m.Paced(Stats(pagesInUse, pagesSwept, MiB, MiB), gcPercent, sweepDone);
        Assert.Equal(0, m.PagesPerByte);
        Check(m, Stats(pagesInUse, pagesSwept, 100 * MiB, MiB), false, "no pacing");
        Assert.Equal(0, m.PacedChecks);
    }

    [Fact]
    public void INV_PACE_ADrainedHeapOwesNothingMoreUntilTheNextCycle()
    {
        PacingModel m = PacedCycle();
        m.SweepDrained(); // the rest of the distance sits in a stale P's mcache
        Check(m, Stats(110, 20, 3 * MiB, MiB), false, "drained");
        Assert.Equal(0, m.PacedChecks);
        m.CycleStarted(Stats(100, 0, MiB, MiB), 100);
        Assert.Equal(ModelIdentity.PaceCredit,
            Assert.Throws<ModelViolationException>(() => Check(m, Stats(110, 20, MiB + MiB / 2, MiB), false, "next cycle")).Identity);
    }

    [Fact]
    public void INV_PACE_WithoutTheDrainPointTheCreditRulesWaitForEveryPageToBeReachable()
    {
        var m = new PacingModel(seesDrain: false);
        m.CycleStarted(Stats(100, 0, MiB, MiB), 100);
        HeapStats behind = Stats(110, 20, MiB + MiB / 2, MiB); // 25 owed
        m.Check(behind, false, staleCachesHoldSpans: true, "a stale P caches spans");
        Assert.Equal(ModelIdentity.PaceCredit,
            Assert.Throws<ModelViolationException>(() => m.Check(behind, false, staleCachesHoldSpans: false, "all reachable")).Identity);
        m.Paced(Stats(100, 0, MiB, MiB), 100, sweepDone: false); // a mid-cycle re-pace counts spans never swept this cycle
        m.Check(behind, false, staleCachesHoldSpans: false, "re-paced");
        m.SweepDrained(); // not seen without the trace: no effect on the rules
        m.CycleStarted(Stats(100, 0, MiB, MiB), 100);
        Assert.Throws<ModelViolationException>(() => m.Check(behind, false, staleCachesHoldSpans: false, "next cycle"));
    }

    [Fact]
    public void INV_PACE_3_TheTriggerIsComputedWithoutWrapping()
    {
        // 1 GiB x int.MaxValue x 7 wraps a 64-bit product; the model's trigger is exact, and saturates past 2^63 - 1.
        Assert.Equal((1L << 30) + (long)((Int128)(1L << 30) * int.MaxValue * 7 / 800), PacingModel.TriggerOf(1L << 30, int.MaxValue));
        Assert.Equal(long.MaxValue, PacingModel.TriggerOf(long.MaxValue / 2, int.MaxValue));
        Assert.Equal(4 * MiB, PacingModel.TriggerOf(0, 100));
        Assert.Equal(MiB * 1000 + MiB * 1000 * 7 / 8, PacingModel.TriggerOf(MiB * 1000, 100));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_PACE_BothHeapsKeepThePacingLineAfterEveryRefill(string impl)
    {
        using var heap = new ModelCheckedHeap(o => Make(impl, o), new HeapOptions { Procs = 2, MemProfileRate = 0 });
        PacingWorkload.Run(heap);
        // The line was really in force: dozens of refills checked while proportional sweeping was on.
        Assert.True(heap.Pacing.PacedChecks >= 40, $"{heap.Pacing.PacedChecks} paced checks");
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_PACE_BothHeapsKeepThePacingLineWithNoHooks(string impl)
    {
        using var heap = new ModelCheckedHeap(o => Make(impl, o), new HeapOptions { Procs = 2, MemProfileRate = 0 }, hooks: false);
        PacingWorkload.Run(heap);
        Assert.True(heap.Pacing.PacedChecks >= 40, $"{heap.Pacing.PacedChecks} paced checks");
    }
}
