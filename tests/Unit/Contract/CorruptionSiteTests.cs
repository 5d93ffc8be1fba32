// Each internal corruption check of the mcache / mcentral / sweep protocol (issue #14 item 3,
// spec/SPEC.md's INV ids), reached on both implementations through a heap whose metadata a test
// corrupted: the check must throw HeapInvariantException naming its invariant, with the message
// that says which step found what (Go's throw strings). A mutant that weakens a check or swaps its
// id fails here. The page-allocator, activeSweep and spanSet checks have their own tests
// (CorruptionExceptionTests, the component tests).
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed unsafe class CorruptionSiteTests
{
    public static readonly TheoryData<string> Implementations = ["reference", "optimized"];

    private const int SizeClass = 5; // 48-byte objects, 170 per span
    private static readonly int Spc = SpanClass.Make(SizeClass, noscan: false);
    private static long Size => SizeClasses.ClassToSize[SizeClass];

    /// <summary>One span's metadata, as either implementation keeps it.</summary>
    private abstract class SpanRef
    {
        public abstract int AllocCount { get; set; }
        public abstract int FreeIndex { get; set; }
        public abstract int NElems { get; }
        public abstract uint SweepGen { get; set; }
        /// <summary>Empties the fast path's view of free slots (the Optimized allocCache).</summary>
        public abstract void ClearAllocCache();
        public abstract void SetEveryAllocBit();
    }

    private sealed class ReferenceSpan(GoAlloc.Reference.MSpan s) : SpanRef
    {
        public override int AllocCount { get => s.AllocCount; set => s.AllocCount = value; }
        public override int FreeIndex { get => s.FreeIndex; set => s.FreeIndex = value; }
        public override int NElems => s.NElems;
        public override uint SweepGen { get => s.SweepGen; set => s.SweepGen = value; }
        public override void ClearAllocCache() { }
        public override void SetEveryAllocBit() => new Span<byte>(s.AllocBits, (s.NElems + 7) / 8).Fill(0xff);
        public GoAlloc.Reference.MSpan Span => s;
    }

    private sealed class OptimizedSpan(GoAlloc.Optimized.MSpan* s) : SpanRef
    {
        public override int AllocCount { get => s->AllocCount; set => s->AllocCount = value; }
        public override int FreeIndex { get => s->FreeIndex; set => s->FreeIndex = value; }
        public override int NElems => s->NElems;
        public override uint SweepGen { get => s->SweepGen; set => s->SweepGen = value; }
        public override void ClearAllocCache() => s->AllocCache = 0;
        public override void SetEveryAllocBit() => new Span<byte>(s->AllocBits, (s->NElems + 7) / 8).Fill(0xff);
        public GoAlloc.Optimized.MSpan* Span => s;
    }

    /// <summary>A one-P heap with P 0 held, and the internals a corruption test reaches into.</summary>
    private abstract class Site : IDisposable
    {
        public abstract IHeap Heap { get; }
        public IProcessor P { get; protected set; } = null!;
        public abstract uint Sg { get; }
        public abstract SpanRef Cached(int spc);
        public abstract void Refill(int spc);
        public abstract void SweepSpan(SpanRef s);
        public abstract void SetFlushGen(uint flushGen);
        public void Dispose() => Heap.Dispose();

        public static Site Make(string impl) => impl == "reference" ? new ReferenceSite() : new OptimizedSite();
    }

    private sealed class ReferenceSite : Site
    {
        private readonly GoAlloc.Reference.MHeap _heap = new(new HeapOptions { Procs = 1 });
        public ReferenceSite() => P = _heap.AcquireP(0);
        public override IHeap Heap => _heap;
        public override uint Sg => _heap.SweepGen;
        public override SpanRef Cached(int spc) => new ReferenceSpan(_heap.AllP[0].MCache.Alloc[spc]!);
        public override void Refill(int spc) => _heap.AllP[0].MCache.Refill(spc);
        public override void SweepSpan(SpanRef s) => _heap.SweepSpan(((ReferenceSpan)s).Span, preserve: false);
        public override void SetFlushGen(uint flushGen) => _heap.AllP[0].MCache.FlushGen = flushGen;
    }

    private sealed class OptimizedSite : Site
    {
        private readonly GoAlloc.Optimized.MHeap _heap = new(new HeapOptions { Procs = 1 });
        public OptimizedSite() => P = _heap.AcquireP(0);
        public override IHeap Heap => _heap;
        public override uint Sg => _heap.SweepGen;
        public override SpanRef Cached(int spc) => new OptimizedSpan(_heap.AllP[0].MCache->Span(spc));
        public override void Refill(int spc) => _heap.AllP[0].MCache->Refill(_heap, spc, 0);
        public override void SweepSpan(SpanRef s) => _heap.SweepSpan(((OptimizedSpan)s).Span, preserve: false);
        public override void SetFlushGen(uint flushGen) => _heap.AllP[0].MCache->FlushGen = flushGen;
    }

    private static void Corrupt(string id, string message, Action call)
    {
        var e = Assert.Throws<HeapInvariantException>(call);
        Assert.Equal(id, e.InvariantId);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Three objects of the class allocated; the span still cached.</summary>
    private static (Site Site, SpanRef Span) WithCachedSpan(string impl)
    {
        Site site = Site.Make(impl);
        for (int i = 0; i < 3; i++)
            site.P.Alloc(Size);
        return (site, site.Cached(Spc));
    }

    /// <summary>Three objects of the class allocated, then the span given back: it waits in the partial swept set.</summary>
    private static (Site Site, SpanRef Span) WithPartialSweptSpan(string impl)
    {
        (Site site, SpanRef span) = WithCachedSpan(impl);
        site.P.Flush();
        return (site, span);
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_3_NextFree_FullByIndexButNotByCount(string impl)
    {
        (Site site, SpanRef s) = WithCachedSpan(impl);
        using (site)
        {
            s.FreeIndex = s.NElems;
            s.ClearAllocCache();
            Corrupt("INV-SPAN-3", "mcache.nextFree: allocCount != nelems with no free index", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_4_NextFree_RefilledSpanHasNoFreeSlot(string impl)
    {
        // The span that refill takes counts free slots, but its alloc bits say none is free.
        (Site site, SpanRef s) = WithPartialSweptSpan(impl);
        using (site)
        {
            s.SetEveryAllocBit();
            Corrupt("INV-SPAN-4", "mcache.nextFree: freeIndex is not valid", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_CACHE_1_Refill_OfASpanWithFreeSpace(string impl)
    {
        (Site site, _) = WithCachedSpan(impl);
        using (site)
            Corrupt("INV-CACHE-1", "refill of span with free space remaining", () => site.Refill(Spc));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SWEEP_1_Refill_CachedSpanLostItsCachedSweepgen(string impl)
    {
        (Site site, SpanRef s) = WithCachedSpan(impl);
        using (site)
        {
            // Full, as refill expects, but no longer marked cached (sg+3).
            s.AllocCount = s.NElems;
            s.FreeIndex = s.NElems;
            s.ClearAllocCache();
            s.SweepGen = site.Sg;
            Corrupt("INV-SWEEP-1", "bad sweepgen in refill", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SWEEP_4_PrepareForSweep_FlushGenNeitherSgNorSgMinus2(string impl)
    {
        Site site = Site.Make(impl);
        using (site)
        {
            site.P.Release();
            site.SetFlushGen(site.Sg - 4);
            Corrupt("INV-SWEEP-4", "bad flushGen", () => site.Heap.AcquireP(0));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SWEEP_2_CacheSpan_SweptSetHoldsAnUnsweptSpan(string impl)
    {
        (Site site, SpanRef s) = WithPartialSweptSpan(impl);
        using (site)
        {
            s.SweepGen = site.Sg - 2;
            Corrupt("INV-SWEEP-2", "mcentral.cacheSpan", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_3_CacheSpan_PartialSetHoldsAFullSpan(string impl)
    {
        (Site site, SpanRef s) = WithPartialSweptSpan(impl);
        using (site)
        {
            s.AllocCount = s.NElems;
            Corrupt("INV-SPAN-3", "mcentral.cacheSpan: span has no free objects", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_3_CacheSpan_PartialSetHoldsASpanFullByIndex(string impl)
    {
        (Site site, SpanRef s) = WithPartialSweptSpan(impl);
        using (site)
        {
            s.FreeIndex = s.NElems;
            Corrupt("INV-SPAN-3", "mcentral.cacheSpan: span has no free objects", () => site.P.Alloc(Size));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_3_UncacheSpan_OfASpanWithNothingAllocated(string impl)
    {
        (Site site, SpanRef s) = WithCachedSpan(impl);
        using (site)
        {
            s.AllocCount = 0;
            Corrupt("INV-SPAN-3", "uncaching span but allocCount == 0", site.P.Flush);
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SWEEP_1_Sweep_OfASpanNotOwnedBySweeper(string impl)
    {
        // Swept this cycle (sg), not acquired for sweeping (sg-1).
        (Site site, SpanRef s) = WithPartialSweptSpan(impl);
        using (site)
        {
            Assert.Equal(site.Sg, s.SweepGen);
            Corrupt("INV-SWEEP-1", "mspan.sweep: bad span state", () => site.SweepSpan(s));
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void INV_SPAN_3_Sweep_MoreObjectsMarkedThanAllocated(string impl)
    {
        Site site = Site.Make(impl);
        using (site)
        {
            var objs = new List<nint>();
            for (int i = 0; i < 3; i++)
                objs.Add(site.P.Alloc(Size));
            SpanRef s = site.Cached(Spc);
            site.P.Flush();
            site.P.Release();
            site.Heap.StartMark();
            foreach (nint o in objs)
                Assert.True(site.Heap.Mark(o));
            site.Heap.FinishMark();
            s.AllocCount = 1;
            Corrupt("INV-SPAN-3", "mspan.sweep: sweep increased allocation count", site.Heap.FinishSweep);
        }
    }

    /// <summary>
    /// Optimized only: the next chunk of the arena, not yet grown, already reads as all in use (its
    /// bitmap lies in a chunk block mapped for the first chunk), so the page allocator finds no room
    /// after the heap grew into it. The Reference creates a chunk's record in the grow itself, so
    /// no test can corrupt it before that grow.
    /// </summary>
    [Fact]
    public void INV_PAGE_1_AllocSpan_GrewButTheGrownChunkIsNotFree()
    {
        using var heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        nint first = p.Alloc(Size);
        long next = GoAlloc.Optimized.PageAlloc.ChunkIndex(first) + 1;
        GoAlloc.Optimized.PallocData* chunk = heap.Pages.TryChunkOf(next);
        Assert.True(chunk != null, "the next chunk's bitmap is not mapped yet");
        chunk->Alloc.AllocAll();
        // A whole chunk of pages: the first chunk cannot hold it, so the heap grows by one chunk.
        Corrupt("INV-PAGE-1", "mheap.allocSpan: grew heap, but no adequate free space found",
            () => p.Alloc(MallocConstants.PallocChunkBytes));
    }
}
