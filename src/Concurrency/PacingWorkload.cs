// PacingWorkload: one single-threaded workload that puts the proportional sweep (spec/SPEC.md 4.8)
// through every case the pacing model (src/Model/PacingModel.cs, INV-PACE-1..3) checks, for a
// ModelCheckedHeap to run: cycles that leave many 1 KiB spans unswept, then allocation of a size
// class no unswept span has (so only the sweep credit sweeps, never cacheSpan), a cycle with no
// growth since the last one (the pacing distance is then exactly the pages in use), a P that holds
// a partly used span across FinishMark (its stale flush), large objects (the caller's own pages),
// and SetGcPercent(0) with more than 3 MiB marked (heapDistance below one page: the 8 KiB floor).
// The workload of the Coyote scenario sweep-pacing (Scenarios.Pacing.cs), whose seeded pacing bugs
// it must expose; also run by tests/Unit (PacingModelTests, on both heaps).
namespace GoAlloc.Concurrency;

public static class PacingWorkload
{
    /// <summary>Size of the objects that fill the heap: eight per one-page span.</summary>
    public const long FillSize = 1024;

    /// <summary>Runs the workload on P 0 of heap (procs >= 1, GOGC 100, no background sweeper).</summary>
    public static void Run(IHeap heap)
    {
        var fill = new List<nint>();
        var large = new List<nint>();

        // 96 one-page spans of 1 KiB objects; one P keeps a partly used span cached across the cycle.
        Alloc(heap, fill, 768 + 3, FillSize);
        Cycle(heap, fill, keepEvery: 4, large);

        // 16 KiB objects (one per two-page span, a class no unswept span has): every allocation
        // refills, and only the sweep credit sweeps the 1 KiB spans.
        var b = new List<nint>();
        Alloc(heap, b, 24, 16384);
        // Large objects: their caller's pages are the only credit not paid before the span.
        Alloc(heap, large, 2, 40_000);

        // Two cycles with no allocation between them: the second is paced with pagesInUse no more
        // than the pages the first swept (a distance that a pacing before the pagesSwept reset
        // would take for "nothing to sweep").
        Cycle(heap, fill, keepEvery: 2, large);
        Cycle(heap, fill, keepEvery: 2, large);
        var c = new List<nint>();
        Alloc(heap, c, 24, 8192); // another class no unswept span has

        // More than 3 MiB marked, then GOGC 0: the trigger is heap_marked itself, heapDistance is
        // negative before the 8 KiB floor, so every page must be swept by the first refill.
        Alloc(heap, large, 4, 1 << 20);
        Alloc(heap, fill, 64, FillSize);
        Cycle(heap, fill, keepEvery: 1, large);
        heap.SetGcPercent(0);
        var d = new List<nint>();
        Alloc(heap, d, 8, 4096);
        heap.SetGcPercent(100);
        heap.FinishSweep();
        heap.Verify();
    }

    private static void Alloc(IHeap heap, List<nint> into, int n, long size)
    {
        IProcessor p = heap.AcquireP(0);
        try
        {
            for (int i = 0; i < n; i++)
                into.Add(p.Alloc(size));
        }
        finally
        {
            p.Release();
        }
    }

    /// <summary>A GC cycle that keeps every keepEvery-th object of fill (and drops the rest from it) and every large object.</summary>
    private static void Cycle(IHeap heap, List<nint> fill, int keepEvery, List<nint> large)
    {
        heap.StartMark();
        var kept = new List<nint>();
        for (int i = 0; i < fill.Count; i += keepEvery)
            kept.Add(fill[i]);
        foreach (nint x in kept.Concat(large))
        {
            if (!heap.Mark(x))
                throw new InvalidOperationException($"PacingWorkload: the live object 0x{x:x} could not be marked");
        }
        heap.FinishMark();
        fill.Clear();
        fill.AddRange(kept);
    }
}
