// Go 1.16's per-P span-record cache in the Optimized (mheap.go tryAllocMSpan / allocMSpanLocked;
// MCache.SpanCache): an empty cache is refilled with half its 128 entries under the heap lock, and
// every later small-object span served by the page cache takes its record from the P without the
// lock (the HaveSpan path), committing its pages there: heap_inuse and heap_released stay exact.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class SpanRecordCacheTests
{
    private const int Spc16 = 2 << 1;         // 16-byte scan objects: size class 2
    private const int ObjectsPerSpan16 = 512; // one 8 KiB page

    [Fact]
    public void TryAllocMSpan_EmptyCacheRefilledToHalfThenOneRecordPerSpan()
    {
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        var p = (P)heap.AcquireP(0);
        MCache* c = p.MCache;
        Assert.Equal(0, c->SpanCacheLen);

        p.Alloc(16);
        // allocMSpanLocked found the cache empty: 64 records, the top one used.
        Assert.Equal(MCache.SpanCacheEntries / 2 - 1, c->SpanCacheLen);
        Assert.Equal((nint)c->SpanCache[c->SpanCacheLen], (nint)c->Span(Spc16));

        for (int i = 0; i < ObjectsPerSpan16; i++)
            p.Alloc(16);
        // The refill's span came from the page cache with the P's next record (tryAllocMSpan).
        Assert.Equal(MCache.SpanCacheEntries / 2 - 2, c->SpanCacheLen);
        Assert.Equal((nint)c->SpanCache[c->SpanCacheLen], (nint)c->Span(Spc16));

        // A large object's span takes the P's record too, but sets up under the lock (Go's rule).
        nint big = p.Alloc(5 * MallocConstants.PageSize);
        Assert.Equal(MCache.SpanCacheEntries / 2 - 3, c->SpanCacheLen);
        Assert.Equal((nint)c->SpanCache[c->SpanCacheLen], (nint)heap.SpanOf(big));
        heap.Verify();
    }

    [Fact]
    public void TryAllocMSpan_ScavengedPagesCommittedWithoutTheLock()
    {
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        var p = (P)heap.AcquireP(0);
        p.Alloc(16);
        HeapStats first = heap.ReadStats();
        Assert.Equal(MallocConstants.PageSize, first.HeapInuse);

        // The second span comes from the same page cache, whose fresh pages count as released.
        for (int i = 0; i < ObjectsPerSpan16; i++)
            p.Alloc(16);
        HeapStats second = heap.ReadStats();
        Assert.Equal(2 * MallocConstants.PageSize, second.HeapInuse);
        Assert.Equal(first.HeapReleased - MallocConstants.PageSize, second.HeapReleased);
        heap.Verify();

        // After a cycle that frees both spans and a scavenge of every free page, three more spans
        // from the page cache's remaining (fresh, so released) pages: one page each leaves heap_released.
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
        heap.Scavenge(long.MaxValue);
        long released = heap.ReadStats().HeapReleased;
        p = (P)heap.AcquireP(0);
        for (int i = 0; i < 2 * ObjectsPerSpan16 + 1; i++)
            p.Alloc(16);
        HeapStats third = heap.ReadStats();
        Assert.Equal(3 * MallocConstants.PageSize, third.HeapInuse);
        Assert.Equal(released - 3 * MallocConstants.PageSize, third.HeapReleased);
        heap.Verify();
    }
}
