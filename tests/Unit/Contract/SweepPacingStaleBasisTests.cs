// Proportional sweep off with a stale basis (spec/SPEC.md 4.8; Go 1.16 mgcsweep.go
// deductSweepCredit): pacing off (pagesPerByte = 0, here GOGC off) leaves the bases of the last
// pacing that was on as they were, and pagesSwept restarts from 0 at every FinishMark. So the debt
// formula, if it ran, would read pagesSwept - pagesSweptBasis below zero and sweep to "catch up".
// deductSweepCredit returns at once at ratio 0, before reading any basis: a span taken with pacing
// off pays no credit (no CreditSweep event), whatever an earlier cycle left behind.
// Run against the Reference and the Optimized.
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class SweepPacingStaleBasisTests
{
    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_GcPercentOff_NoCreditFromABasisLeftByAnEarlierCycle(string impl)
    {
        int credits = 0;
        bool recording = false;
        var options = new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 0,
            OnTrace = e =>
            {
                if (recording && e.Kind == HeapTraceKind.CreditSweep)
                    credits++;
            },
        };
        using IHeap heap = impl == "reference" ? new GoAlloc.Reference.MHeap(options) : new GoAlloc.Optimized.MHeap(options);

        // Cycle 1, GOGC 100: 1,000 spans of dead 256-byte objects; ten swept, then a re-pacing
        // sets pagesSweptBasis to 10 and GOGC off keeps it there.
        AllocSmall(heap);
        heap.StartMark();
        heap.FinishMark();
        for (int i = 0; i < 10; i++)
            Assert.Equal(1, heap.SweepOne());
        heap.SetGcPercent(100);
        heap.SetGcPercent(-1);
        heap.FinishSweep();

        // Cycle 2, GOGC off: pagesSwept is 0 again, below the stale basis, with spans unswept.
        AllocSmall(heap);
        heap.StartMark();
        heap.FinishMark();

        recording = true;
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 40; i++)
            p.Alloc(4096); // fresh spans of a class cycle 1 never used: nothing of its own to sweep
        p.Release();
        recording = false;

        Assert.Equal(0, credits);
        heap.Verify();
    }

    private static void AllocSmall(IHeap heap)
    {
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 16_000; i++)
            p.Alloc(256); // 1,000 one-page spans of class 256
        p.Release();
    }
}
