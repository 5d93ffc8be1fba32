// SweepPacing: the proportional-sweep arithmetic both allocators pace with (mirrors mgc.go's
// gcPaceSweeper with Go's initial trigger ratio; spec/SPEC.md 4.8). One fact, so it lives here
// once; each heap keeps its own ordering of the reads and writes around it (the bases before the
// ratio, pagesSweptBasis last). The heap model (src/Model/PacingModel.cs) computes the same line
// independently, from the spec, and checks the heaps against it.
// Differs from Go: Go's trigger controller is replaced by its initial ratio, 7/8 of GOGC, and the
// trigger is computed exactly (Go's float64 never wraps; a 64-bit product of heap_marked x GOGC
// would, from 1 GiB marked at GOGC = int.MaxValue).
namespace GoAlloc;

internal static class SweepPacing
{
    /// <summary>The next GC trigger: max(4 MiB, marked + marked x GOGC x 7 / 800), saturating at long.MaxValue.</summary>
    public static long Trigger(long heapMarked, int gcPercent)
    {
        Int128 trigger = heapMarked + (Int128)heapMarked * gcPercent * 7 / 800;
        return (long)Int128.Clamp(trigger, MallocConstants.HeapMinimum, long.MaxValue);
    }

    /// <summary>
    /// Pages to sweep per byte of heap_live growth, so that the pages in use and not yet swept are
    /// swept by the time heap_live reaches the trigger less 1 MiB (at least one page of growth away).
    /// 0 (proportional sweeping off) when GOGC is negative or nothing is left to sweep; the caller
    /// also turns it off when its sweep is done.
    /// </summary>
    public static double PagesPerByte(long pagesInUse, long pagesSwept, long heapLive, long heapMarked, int gcPercent)
    {
        long distancePages = pagesInUse - pagesSwept;
        if (gcPercent < 0 || distancePages <= 0)
            return 0;
        long heapDistance = Trigger(heapMarked, gcPercent) - heapLive - (1L << 20);
        if (heapDistance < MallocConstants.PageSize)
            if (!Seeded.HeapDistanceNotClamped())
                heapDistance = MallocConstants.PageSize;
        return (double)distancePages / heapDistance;
    }
}
