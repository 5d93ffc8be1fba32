// MCache: a P's cache of spans, one per span class, plus the tiny block and the P's allocation
// counters (mirrors runtime/mcache.go). flushGen records the sweepgen the cache was last flushed
// for: a cache whose flushGen is behind must releaseAll before the next allocation
// (prepareForSweep, INV-CACHE-1). Differs from Go (an mcache needs no lock: only its P uses it):
// touched only under the heap lock, by the P's holder or by the heap flushing an idle P.
namespace GoAlloc.Reference;

internal sealed class MCache
{
    private readonly MHeap _heap;
    private readonly P _p;

    /// <summary>The cached span per span class, or null (Go's &amp;emptymspan).</summary>
    public readonly MSpan?[] Alloc = new MSpan?[MallocConstants.NumSpanClasses];
    /// <summary>The current tiny block (0 if none) and the offset of its first free byte.</summary>
    public nint Tiny;
    public long TinyOffset;

    // Allocation counters; ReadStats sums them.
    public readonly long[] NSmallAlloc = new long[SizeClasses.NumSizeClasses];
    public long TinyAllocs;
    public long LargeAllocs;
    public long LargeAllocBytes;
    public long Samples;

    public long NextSample;
    public MemProfileSampler Sampler;

    /// <summary>The sweepgen this cache was last flushed for (sg, or sg-2 while stale).</summary>
    public uint FlushGen;

    public MCache(MHeap heap, P p)
    {
        _heap = heap;
        _p = p;
        FlushGen = heap.SweepGen;
        Sampler = new MemProfileSampler(heap.Options.SampleSeed, p.Id);
        NextSample = Sampler.NextSample(heap.Options.MemProfileRate);
    }

    /// <summary>nextFree: the next free object of span class spc, refilling from the mcentral when the span is full.</summary>
    public (nint Addr, MSpan Span) NextFree(int spc)
    {
        MSpan? s = Alloc[spc];
        int freeIndex = s?.NextFreeIndex() ?? -1;
        if (s == null || freeIndex == s.NElems)
        {
            if (s != null && s.AllocCount != s.NElems)
                throw new HeapInvariantException("INV-SPAN-3", $"mcache.nextFree: allocCount != nelems with no free index: {s}");
            Refill(spc);
            s = Alloc[spc]!;
            freeIndex = s.NextFreeIndex();
        }
        if (freeIndex >= s.NElems)
            throw new HeapInvariantException("INV-SPAN-4", $"mcache.nextFree: freeIndex is not valid: {s}");
        s.AllocCount++;
        NSmallAlloc[s.SizeClass]++;
        return (s.ObjectAddress(freeIndex), s);
    }

    /// <summary>refill: gives back the (full) cached span of class spc and caches one with free space.</summary>
    public void Refill(int spc)
    {
        uint sg = _heap.SweepGen;
        MSpan? s = Alloc[spc];
        if (s != null)
        {
            if (s.AllocCount != s.NElems)
                throw new HeapInvariantException("INV-CACHE-1", $"refill of span with free space remaining: {s}");
            if (s.SweepGen != sg + 3)
                throw new HeapInvariantException("INV-SWEEP-1", $"bad sweepgen in refill: {s} at sweepgen {sg}");
            Alloc[spc] = null;
            _heap.Central[spc].UncacheSpan(s);
        }
        s = _heap.Central[spc].CacheSpan(_p);
        uint cachedFrom = s.SweepGen;
        // Cached: no sweeper may touch it in the next sweep phase until it is uncached.
        s.SweepGen = sg + 3;
        if (_heap.Tracing)
            _heap.Trace(HeapTraceKind.Refill, s, cachedFrom, s.SweepGen);
        // heap_live counts the whole span as if every free slot will be used; releaseAll undoes the rest.
        _heap.Stats.HeapLive += (s.NElems - s.AllocCount) * s.ElemSize;
        Alloc[spc] = s;
    }

    /// <summary>allocLarge: a span of its own for an object of size bytes (> 32 KiB).</summary>
    public MSpan AllocLarge(long size, bool needzero, bool noscan)
    {
        long npages = (size + MallocConstants.PageMask) >> MallocConstants.PageShift;
        _heap.DeductSweepCredit(npages * MallocConstants.PageSize, npages);
        HookFaults.ThrowPending(); // a hook threw while paying the sweep credit: nothing allocated yet
        int spc = GoAlloc.SpanClass.Make(0, noscan);
        MSpan s = _heap.Alloc(checked((int)npages), spc, needzero, _p);
        LargeAllocs++;
        LargeAllocBytes += s.ElemSize;
        _heap.Stats.HeapLive += s.ElemSize;
        s.Limit = s.StartAddr + (nint)size;
        s.FreeIndex = 1;
        s.AllocCount = 1;
        // The large span lives in the full swept set so the sweeper finds it next cycle.
        _heap.Central[spc].FullSwept(_heap.SweepGen).Push(s);
        return s;
    }

    /// <summary>releaseAll: returns every cached span to its mcentral and drops the tiny block.</summary>
    public void ReleaseAll()
    {
        uint sg = _heap.SweepGen;
        for (int i = 0; i < Alloc.Length; i++)
        {
            MSpan? s = Alloc[i];
            if (s == null)
                continue;
            int n = s.NElems - s.AllocCount;
            // refill counted the free slots in heap_live; undo that unless the span is stale
            // (heap_live was recomputed at FinishMark after it was cached).
            if (s.SweepGen != sg + 1)
                _heap.Stats.HeapLive -= n * s.ElemSize;
            Alloc[i] = null;
            _heap.Central[i].UncacheSpan(s);
        }
        Tiny = 0;
        TinyOffset = 0;
    }

    /// <summary>
    /// prepareForSweep: if a sweep cycle began since this cache was flushed, flush it now (its
    /// spans are stale, sg+1, and are swept as they are uncached). Until then sweep is not done.
    /// </summary>
    public void PrepareForSweep()
    {
        uint sg = _heap.SweepGen;
        uint flushGen = FlushGen;
        if (flushGen == sg)
            return;
        if (flushGen != sg - 2)
            throw new HeapInvariantException("INV-SWEEP-4", $"bad flushGen {flushGen} in prepareForSweep; sweepgen {sg}");
        if (_heap.Tracing)
            _heap.Trace(HeapTraceKind.PrepareForSweep, null, flushGen, sg);
        ReleaseAll();
        FlushGen = sg;
    }
}
