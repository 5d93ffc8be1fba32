// PacingModel: the proportional-sweep arithmetic of spec/SPEC.md 4.8 (mgc.go gcPaceSweeper,
// mgcsweep.go deductSweepCredit), written from the spec and checked against a heap's stats. It
// sees only HeapStats snapshots, the GOGC the caller set and whether the heap reports sweep done;
// it knows nothing of spans or sets.
//   - Paced (after FinishMark and SetGcPercent, where the heap re-paces): the model computes the
//     line the heap must keep to: pagesPerByte = distance / heapDistance, the heap_live and
//     pagesSwept bases, the trigger, and the pages the cycle has to sweep.
//   - Check (after every call; ModelCheckedHeap calls it after every refill and large allocation):
//       INV-PACE-1  once heap_live has grown by heapDistance since the basis (it reached the next
//                   trigger less the 1 MiB margin), every page of the cycle has been swept, unless
//                   the heap reports sweep done;
//       INV-PACE-2  the credit for a span is paid before the span is taken: pagesSwept - basis >=
//                   floor(pagesPerByte x (heap_live - liveBasis)) - slack, where slack is the pages
//                   of a large allocation whose caller sweeps them itself (callerSweepPages; the
//                   next refill's credit covers them with no slack);
//       INV-PACE-3  counters that cannot wrap: 0 <= pagesSwept <= the pages in use when the cycle
//                   began; heap_marked <= heap_live (heap_live is reset to heap_marked at FinishMark
//                   and a flush gives back only what this cycle's refills added).
// A heap whose sweepers found every unswept set empty (drained) cannot sweep further until a P
// that cached spans before the cycle flushes them: then the credit rules wait for the next cycle.
// The model knows it drained when it sees the trace event (SeesDrain); without it, it checks the
// credit rules only where every page of the distance is reachable: no stale P caches spans and
// the pacing is FinishMark's (a mid-cycle re-pace counts spans allocated since, never swept).
// Both sides compute pagesPerByte with the same double division and the product with the same
// double multiplication, so the check is exact: INV-PACE-1 is INV-PACE-2 seen at the trigger, and
// one page of its margin is the double rounding of distance / heapDistance x heapDistance.
// The trigger is computed exactly (128-bit), so a heap whose 64-bit trigger wrapped is caught.
namespace GoAlloc.Model;

public sealed class PacingModel(bool seesDrain)
{
    /// <summary>The caller reports the heap's drained point (SweepDrained); else the credit rules run only where every page is reachable.</summary>
    public bool SeesDrain { get; } = seesDrain;
    /// <summary>The heap's sweepers found every unswept set empty in this cycle.</summary>
    public bool Drained { get; private set; }
    /// <summary>Re-paced (SetGcPercent) since the cycle began.</summary>
    public bool RepacedInCycle { get; private set; }

    /// <summary>pagesPerByte of the last pacing (0: proportional sweeping off).</summary>
    public double PagesPerByte { get; private set; }
    /// <summary>heap_live when the sweep was last paced.</summary>
    public long LiveBasis { get; private set; }
    /// <summary>pagesSwept when the sweep was last paced.</summary>
    public long SweptBasis { get; private set; }
    /// <summary>Pages to sweep when the sweep was last paced (pagesInUse - pagesSwept).</summary>
    public long Distance { get; private set; }
    /// <summary>Bytes of heap_live growth over which Distance pages must be swept.</summary>
    public long HeapDistance { get; private set; }
    /// <summary>The next GC trigger of the last pacing (heap_marked x (1 + 7/8 x GOGC/100), at least 4 MiB).</summary>
    public long Trigger { get; private set; }
    /// <summary>Pages in use when the cycle began (FinishMark): no more than these can be swept in it.</summary>
    public long CyclePages { get; private set; }
    /// <summary>Pages a large allocation left to its caller (callerSweepPages) since the last refill.</summary>
    public long SlackPages { get; private set; }
    /// <summary>Checks run while proportional sweeping was on (the others have nothing to check but the counters).</summary>
    public long PacedChecks { get; private set; }

    /// <summary>FinishMark: the cycle begins (pagesSwept was reset) and the sweep is paced.</summary>
    public void CycleStarted(HeapStats s, int gcPercent)
    {
        CyclePages = s.PagesInUse;
        Drained = false;
        RepacedInCycle = false;
        Pace(s, gcPercent, sweepDone: false);
    }

    /// <summary>The heap's sweepers found every unswept set empty (for the rest of the cycle).</summary>
    public void SweepDrained() => Drained = true;

    /// <summary>The heap re-paced the sweep mid-cycle (SetGcPercent) and reports these stats after it.</summary>
    public void Paced(HeapStats s, int gcPercent, bool sweepDone)
    {
        RepacedInCycle = true;
        Pace(s, gcPercent, sweepDone);
    }

    private void Pace(HeapStats s, int gcPercent, bool sweepDone)
    {
        SlackPages = 0;
        long pagesInUse = s.HeapInuse / MallocConstants.PageSize;
        Distance = pagesInUse - s.PagesSwept;
        LiveBasis = s.HeapLive;
        SweptBasis = s.PagesSwept;
        Trigger = TriggerOf(s.HeapMarked, gcPercent);
        if (gcPercent < 0 || Distance <= 0 || sweepDone)
        {
            PagesPerByte = 0;
            HeapDistance = 0;
            return;
        }
        long heapDistance = Trigger - s.HeapLive - (1L << 20);
        HeapDistance = Math.Max(heapDistance, MallocConstants.PageSize);
        PagesPerByte = (double)Distance / HeapDistance;
    }

    /// <summary>max(4 MiB, marked + marked x GOGC x 7 / 800), computed without wrapping (saturates at long.MaxValue).</summary>
    public static long TriggerOf(long heapMarked, int gcPercent)
    {
        if (gcPercent < 0)
            return long.MaxValue;
        Int128 t = heapMarked + (Int128)heapMarked * gcPercent * 7 / 800;
        return (long)Int128.Clamp(t, MallocConstants.HeapMinimum, long.MaxValue);
    }

    /// <summary>A large allocation of npages: its caller sweeps those pages itself (Go's mheap.reclaim), so its credit is short by them.</summary>
    public void LargeAllocated(long npages) => SlackPages = Math.Max(SlackPages, npages);

    /// <summary>A refill paid the credit for everything before it, large allocations included.</summary>
    public void Refilled() => SlackPages = 0;

    /// <summary>Checks INV-PACE-3, then INV-PACE-1 / INV-PACE-2, against the stats after a call.</summary>
    /// <param name="s">The heap's stats after the call.</param>
    /// <param name="sweepDone">The heap reports sweep done.</param>
    /// <param name="staleCachesHoldSpans">Some P flushed before the cycle began still caches spans (HeapModel.StaleCachesHoldSpans).</param>
    /// <param name="op">The call, for the report.</param>
    public void Check(HeapStats s, bool sweepDone, bool staleCachesHoldSpans, string op)
    {
        if (s.PagesSwept < 0 || s.PagesSwept > CyclePages)
            throw new ModelViolationException(ModelIdentity.PaceCounters, $"after {op}: pagesSwept {s.PagesSwept}, but the cycle began with {CyclePages} pages in use");
        if (s.HeapLive < s.HeapMarked)
            throw new ModelViolationException(ModelIdentity.PaceCounters, $"after {op}: heap_live {s.HeapLive} is below heap_marked {s.HeapMarked}: a flush gave back more than this cycle's refills added");
        if (PagesPerByte == 0 || sweepDone)
            return;
        if (SeesDrain ? Drained : staleCachesHoldSpans || RepacedInCycle)
            return; // the heap may have swept every page its sweepers can reach
        PacedChecks++;
        long grown = Math.Max(0, s.HeapLive - LiveBasis);
        long swept = s.PagesSwept - SweptBasis;
        // No more than the distance can be owed: a heap that swept it all has drained its unswept
        // sets (sweepone says -1), though a P not yet flushed may keep sweep from done.
        long owed = Math.Min((long)(PagesPerByte * grown), Distance) - SlackPages;
        if (grown >= HeapDistance && swept < Distance - 1 - SlackPages)
            throw new ModelViolationException(ModelIdentity.PaceTrigger, $"after {op}: heap_live grew {grown} bytes since the pacing (heapDistance {HeapDistance}, trigger {Trigger}), but only {swept} of the cycle's {Distance} pages are swept and sweep is not done");
        if (swept < owed)
            throw new ModelViolationException(ModelIdentity.PaceCredit, $"after {op}: {swept} pages swept since the pacing, but heap_live grew {grown} bytes at {PagesPerByte:G6} pages per byte: {owed} pages were owed{(SlackPages > 0 ? $" ({SlackPages} left to a large allocation)" : "")}");
    }
}
