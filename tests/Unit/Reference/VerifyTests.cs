// Verify must fail, naming the right INV id, when the Reference heap's state is corrupted: one test
// per invariant family, each breaking exactly one rule of spec/SPEC.md through the internals.
using GoAlloc.Reference;
using Xunit;

namespace GoAlloc.Tests.Reference;

public unsafe class VerifyTests
{
    /// <summary>A heap with cached spans, swept-set spans, a large span, a tiny block and free pages.</summary>
    private static (MHeap Heap, List<nint> Objs) Populated()
    {
        var heap = new MHeap(new HeapOptions { Procs = 2 });
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 3000; i++)
            objs.Add(p.Alloc(16 + i % 300));
        objs.Add(p.Alloc(200_000));
        objs.Add(p.Alloc(3, noscan: true));
        p.Release();
        IProcessor q = heap.AcquireP(1);
        objs.Add(q.Alloc(64));
        q.Flush();
        q.Release();
        heap.Verify(); // the baseline is consistent
        return (heap, objs);
    }

    private static void AssertBroken(MHeap heap, string id)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.Verify);
        Assert.Equal(id, e.InvariantId);
        Assert.StartsWith(id + ":", e.Message);
    }

    private static MSpan SpanAt(MHeap heap, nint p) => heap.SpanOf(p)!;

    [Fact]
    public void Verify_DetectsAllocCountMismatch_INV_SPAN_3()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            SpanAt(heap, objs[0]).AllocCount++;
            AssertBroken(heap, "INV-SPAN-3");
        }
    }

    [Fact]
    public void Verify_DetectsMarkOnAFreeObject_INV_SPAN_4()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan s = SpanAt(heap, objs[^1]); // the flushed 64-byte span: 1 object of 128
            s.SetMarked(100);
            AssertBroken(heap, "INV-SPAN-4");
        }
    }

    [Fact]
    public void Verify_DetectsMarkBitsOnASweptSpanOutsideMarking_INV_MARK_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan s = SpanAt(heap, objs[^1]);
            s.SetMarked(0);
            AssertBroken(heap, "INV-MARK-1");
        }
    }

    [Fact]
    public void Verify_DetectsASpanBeingSweptAtAQuiescentPoint_INV_SWEEP_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            SpanAt(heap, objs[^1]).SweepGen = heap.SweepGen - 1;
            AssertBroken(heap, "INV-SWEEP-1");
        }
    }

    [Fact]
    public void Verify_DetectsASpanInTwoPlaces_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan cached = SpanAt(heap, objs[0]);
            heap.Central[cached.SpanClass].PartialSwept(heap.SweepGen).Push(cached);
            AssertBroken(heap, "INV-SWEEP-2");
        }
    }

    [Fact]
    public void Verify_DetectsALostSpan_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan s = SpanAt(heap, objs[^1]);
            Assert.Same(s, heap.Central[s.SpanClass].PartialSwept(heap.SweepGen).Pop());
            AssertBroken(heap, "INV-SWEEP-2");
        }
    }

    [Fact]
    public void Verify_DetectsASweeperCountMismatch_INV_SWEEP_4()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.ActiveSweep.Reset(1);
            heap.ActiveSweep.MarkDrained();
            AssertBroken(heap, "INV-SWEEP-4");
        }
    }

    [Fact]
    public void Verify_DetectsBitmapSpanDisagreement_INV_PAGE_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan s = SpanAt(heap, objs[3000]); // the large span
            heap.Pages.Free(s.StartAddr, 1);
            AssertBroken(heap, "INV-PAGE-1");
        }
    }

    [Fact]
    public void Verify_DetectsReleasedAccountingError_INV_PAGE_2()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.Stats.HeapReleased += MallocConstants.PageSize;
            AssertBroken(heap, "INV-PAGE-2");
        }
    }

    [Fact]
    public void Verify_DetectsGeometryError_INV_SPAN_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            SpanAt(heap, objs[^1]).NElems--;
            AssertBroken(heap, "INV-SPAN-2");
        }
    }

    [Fact]
    public void Verify_DetectsASpanIndexError_INV_SPAN_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan large = SpanAt(heap, objs[3000]);
            HeapArena a = heap.ArenaOf(large.StartAddr)!;
            a.Spans[a.PageIndex(large.StartAddr) + 1] = SpanAt(heap, objs[0]);
            AssertBroken(heap, "INV-SPAN-1");
        }
    }

    [Fact]
    public void Verify_DetectsBadTinyOffset_INV_CACHE_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.AllP[0].MCache.TinyOffset = 17;
            AssertBroken(heap, "INV-CACHE-1");
        }
    }

    [Fact]
    public void Verify_DetectsHeapInuseError_INV_STATS_2()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.Stats.HeapInuse += MallocConstants.PageSize;
            AssertBroken(heap, "INV-STATS-2");
        }
    }

    [Fact]
    public void Verify_DetectsHeapAllocError_INV_STATS_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.AllP[1].MCache.NSmallAlloc[5]++;
            AssertBroken(heap, "INV-STATS-1");
        }
    }

    [Fact]
    public void Verify_DetectsByClassCountError_INV_STATS_3()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            // Same bytes, wrong class: 2 x 16 B moved to 1 x 32 B keeps heap_alloc but not by_size.
            heap.AllP[0].MCache.NSmallAlloc[2] -= 2;
            heap.AllP[0].MCache.NSmallAlloc[4] += 1;
            AssertBroken(heap, "INV-STATS-3");
        }
    }

    [Fact]
    public void Verify_DetectsDirtyMemoryPastZeroedBase_INV_ZERO_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            HeapArena a = heap.Arenas[0];
            *(long*)(a.Base + (nint)a.ZeroedBase) = 1;
            AssertBroken(heap, "INV-ZERO-1");
        }
    }

    [Fact]
    public void Verify_DetectsArenaAccountingError_INV_ARENA_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.Stats.HeapSys += MallocConstants.HeapArenaBytes;
            AssertBroken(heap, "INV-ARENA-1");
        }
    }
}
