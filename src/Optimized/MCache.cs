// MCache: a P's span cache in native memory (mirrors runtime/mcache.go). One cached span per span
// class (never null: an empty sentinel span makes nextFreeFast fail into refill), the tiny block,
// the page cache and the P's counters. Only the thread holding the P touches it - no lock, no
// atomics on the fast path. Small-object counts are taken in bulk at refill and corrected at
// releaseAll (Go 1.16's smallAllocCount), so allocation itself counts nothing.
// flushGen: the sweepgen the cache was last flushed for; prepareForSweep flushes a stale cache
// before its P allocates again (INV-CACHE-1). SpanCache is Go's p.mspancache: span records taken
// from the heap's fixalloc in batches under the heap lock, so that allocSpan can set up a span
// from the page cache without taking the lock.
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MCache
{
    /// <summary>Capacity of SpanCache (Go's len(p.mspancache.buf)); an empty cache is refilled to half of it.</summary>
    public const int SpanCacheEntries = 128;

    public nint Tiny;
    public long TinyOffset;
    public long TinyAllocs;
    public long NextSample;
    public long LargeAllocs;
    public long LargeAllocBytes;
    public long Samples;
    public uint FlushGen;
    public MemProfileSampler Sampler;
    public PageCache PCache;
    /// <summary>Records in SpanCache; taken from the top (MHeap.TryAllocMSpan, MHeap.AllocMSpanLocked).</summary>
    public int SpanCacheLen;
    /// <summary>Free MSpan records owned by this P (zeroed by the fixalloc that handed them out).</summary>
    public fixed long SpanCache[SpanCacheEntries];
    /// <summary>MSpan* per span class; the heap's empty span when nothing is cached.</summary>
    public fixed long Alloc[MallocConstants.NumSpanClasses];
    /// <summary>Objects counted as allocated per size class: free slots of every span at refill, minus the unused at releaseAll.</summary>
    public fixed long SmallAllocCount[SizeClasses.NumSizeClasses];

    public MSpan* Span(int spc) => (MSpan*)Alloc[spc];

    /// <summary>nextFree: slow path of allocation: the next free slot, refilling when the cached span is full.</summary>
    public nint NextFree(MHeap heap, int spc, int pid)
    {
        MSpan* s = (MSpan*)Alloc[spc];
        int freeIndex = s->NextFreeIndex();
        if (freeIndex == s->NElems)
        {
            if (s->AllocCount != s->NElems)
                ThrowHelper.Corrupt("INV-SPAN-3", $"mcache.nextFree: allocCount != nelems with no free index: {s->ToString()}");
            Refill(heap, spc, pid);
            s = (MSpan*)Alloc[spc];
            freeIndex = s->NextFreeIndex();
        }
        if (freeIndex >= s->NElems)
            ThrowHelper.Corrupt("INV-SPAN-4", $"mcache.nextFree: freeIndex is not valid: {s->ToString()}");
        s->AllocCount++;
        return s->StartAddr + (nint)(freeIndex * s->ElemSize);
    }

    /// <summary>refill: returns the full cached span of class spc and caches one with free space.</summary>
    public void Refill(MHeap heap, int spc, int pid)
    {
        using var acting = MHeap.ActingFor(pid); // the P its sweeps and events are for
        uint sg = heap.SweepGen;
        MSpan* s = (MSpan*)Alloc[spc];
        if (s != heap.EmptySpan)
        {
            if (s->AllocCount != s->NElems)
                ThrowHelper.Corrupt("INV-CACHE-1", $"refill of span with free space remaining: {s->ToString()}");
            if (Volatile.Read(ref s->SweepGen) != sg + 3)
                ThrowHelper.Corrupt("INV-SWEEP-1", $"bad sweepgen in refill: {s->ToString()} at sweepgen {sg}");
            Alloc[spc] = (long)heap.EmptySpan;
            heap.Central[spc].UncacheSpan(s);
        }
        s = heap.Central[spc].CacheSpan(pid);
        uint cachedFrom = heap.Tracing ? s->SweepGen : 0; // plain read: trace only
        // Cached: sweepers must leave it alone in the next sweep phase until it is uncached.
        if (!Seeded.RefillForgetsSg3())
            Volatile.Write(ref s->SweepGen, sg + 3);
        if (heap.Tracing)
            heap.Trace(HeapTraceKind.Refill, s, cachedFrom, s->SweepGen);
        int free = s->NElems - s->AllocCount;
        SmallAllocCount[s->SizeClass] += free;
        // heap_live counts the whole span as if every free slot will be used; releaseAll undoes the rest.
        Interlocked.Add(ref heap.Stats.HeapLive.Value, free * s->ElemSize);
        Alloc[spc] = (long)s;
    }

    /// <summary>releaseAll: every cached span back to its mcentral; the tiny block is dropped.</summary>
    public void ReleaseAll(MHeap heap)
    {
        uint sg = heap.SweepGen;
        for (int i = 0; i < MallocConstants.NumSpanClasses; i++)
        {
            MSpan* s = (MSpan*)Alloc[i];
            if (s == heap.EmptySpan)
                continue;
            int n = s->NElems - s->AllocCount;
            SmallAllocCount[s->SizeClass] -= n;
            // Undo refill's heap_live assumption, unless the span is stale (heap_live was reset
            // at FinishMark after it was cached).
            bool stale = Volatile.Read(ref s->SweepGen) == sg + 1;
            Seeded.StaleReleaseSubtractsHeapLive(ref stale);
            if (!stale)
                Interlocked.Add(ref heap.Stats.HeapLive.Value, -n * s->ElemSize);
            Alloc[i] = (long)heap.EmptySpan;
            heap.Central[i].UncacheSpan(s);
        }
        Tiny = 0;
        TinyOffset = 0;
    }

    /// <summary>prepareForSweep: flush if a sweep cycle began since the last flush; then this P stops counting as a pending sweeper.</summary>
    public void PrepareForSweep(MHeap heap)
    {
        uint sg = heap.SweepGen;
        uint flushGen = Volatile.Read(ref FlushGen);
        if (flushGen == sg)
            return;
        if (flushGen != sg - 2)
            ThrowHelper.Corrupt("INV-SWEEP-4", $"bad flushGen {flushGen} in prepareForSweep; sweepgen {sg}");
        if (heap.Tracing)
            heap.Trace(HeapTraceKind.PrepareForSweep, null, flushGen, sg);
        Seeded.DeregisterBeforeStaleSweep(heap);
        ReleaseAll(heap);
        // Publishes that this cache holds nothing of the previous cycle.
        Volatile.Write(ref FlushGen, sg);
        if (!Seeded.DeregisteredBeforeStaleSweep())
            heap.ActiveSweepEnd();
    }
}
