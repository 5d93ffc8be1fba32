// Proportional sweep switched off (spec/SPEC.md 4.8; Go 1.16 mgc.go gcSetTriggerRatio, the pacing
// part): pacing sets pagesPerByte = 0 when GOGC is off, when nothing is left to sweep by the page
// counts, or when the sweep is done. Off, deductSweepCredit returns at once: a span taken after such
// a pacing pays no credit, so no CreditSweep event is emitted, whatever the page counts say. The
// case that tells "sweep done" apart from the page counts: spans allocated after the sweep finished
// are in use but were never swept this cycle (pagesInUse > pagesSwept), so only the sweep-done test
// keeps the pacer off.
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class SweepPacingOffTests
{
    /// <summary>Counts the CreditSweep events emitted while Recording is set.</summary>
    private sealed class CreditCounter
    {
        public bool Recording;
        public int Credits;
    }

    /// <summary>A one-P heap whose trace events feed counter.</summary>
    private static IHeap Create(string impl, CreditCounter counter)
    {
        var options = new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 0,
            OnTrace = e =>
            {
                if (counter.Recording && e.Kind == HeapTraceKind.CreditSweep)
                    counter.Credits++;
            },
        };
        return impl switch
        {
            "reference" => new GoAlloc.Reference.MHeap(options),
            "optimized" => new GoAlloc.Optimized.MHeap(options),
            _ => throw new ArgumentOutOfRangeException(nameof(impl)),
        };
    }

    /// <summary>Forty 4 KiB objects (fresh spans: each refill deducts sweep credit when pacing is on), counted.</summary>
    private static void AllocRecorded(IHeap heap, CreditCounter counter)
    {
        counter.Recording = true;
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 40; i++)
            p.Alloc(4096);
        p.Release();
        counter.Recording = false;
    }

    /// <summary>
    /// One cycle that keeps 16 MiB of 256-byte objects live, then about 4 MiB of fresh spans and a
    /// re-pacing at GOGC 100: with finishSweep first the sweep is done and pacing stays off; without
    /// it the credit paid for the fresh spans sweeps only part of the 16 MiB, and the same re-pacing
    /// turns proportional sweep on. Returns the CreditSweep events of the 4 KiB allocations made
    /// after the re-pacing.
    /// </summary>
    private static int CreditSweepsAfterRepacing(string impl, bool finishSweepFirst)
    {
        var counter = new CreditCounter();
        using IHeap heap = Create(impl, counter);
        IProcessor p = heap.AcquireP(0);
        var live = new nint[64_000];
        for (int i = 0; i < live.Length; i++)
            live[i] = p.Alloc(256); // 16 MiB in 2,048 full spans, all live after the cycle
        p.Release();
        heap.StartMark();
        foreach (nint a in live)
            heap.Mark(a);
        heap.FinishMark();
        if (finishSweepFirst)
            heap.FinishSweep();

        p = heap.AcquireP(0);
        for (int i = 0; i < 16_000; i++)
            p.Alloc(256); // ~4 MiB in use that this cycle's sweep never counted
        p.Release();
        heap.SetGcPercent(100);
        AllocRecorded(heap, counter);
        heap.Verify();
        return counter.Credits;
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_SweepDone_PacingStaysOffThoughPagesInUseExceedPagesSwept(string impl)
    {
        Assert.Equal(0, CreditSweepsAfterRepacing(impl, finishSweepFirst: true));
    }

    // The control: the same re-pacing while the first cycle's spans are still unswept does pace, so
    // the zero above is the sweep-done rule and not a workload too small to need credit.
    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_SweepNotDone_TheSameRepacingPaysCredit(string impl)
    {
        Assert.True(CreditSweepsAfterRepacing(impl, finishSweepFirst: false) > 0);
    }

    /// <summary>GOGC off: pacing is off whatever is left to sweep, so no span pays credit.</summary>
    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_GcPercentOff_NoCreditWhileSpansAreUnswept(string impl)
    {
        var counter = new CreditCounter();
        using IHeap heap = Create(impl, counter);
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 16_000; i++)
            p.Alloc(256);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        heap.SetGcPercent(-1);
        AllocRecorded(heap, counter);
        Assert.Equal(0, counter.Credits);
        heap.Verify();
    }
}
