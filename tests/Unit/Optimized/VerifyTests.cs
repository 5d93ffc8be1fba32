// Verify must fail, naming the right INV id, when the Optimized heap's state is corrupted: the
// same families as the Reference's VerifyTests, broken through the native records.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class VerifyTests
{
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
        heap.Verify();
        return (heap, objs);
    }

    private static void AssertBroken(MHeap heap, string id)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.Verify);
        Assert.Equal(id, e.InvariantId);
        Assert.StartsWith(id + ":", e.Message);
    }

    [Fact]
    public void Verify_DetectsAllocCountMismatch_INV_SPAN_3()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.SpanOf(objs[0])->AllocCount++;
            AssertBroken(heap, "INV-SPAN-3");
        }
    }

    [Fact]
    public void Verify_DetectsMarkOnAFreeObject_INV_SPAN_4()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.SpanOf(objs[^1])->SetMarked(100);
            AssertBroken(heap, "INV-SPAN-4");
        }
    }

    [Fact]
    public void Verify_DetectsAllocCacheOutOfStepWithBits_INV_SPAN_4()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.SpanOf(objs[2999])->AllocCache ^= 1; // a cached span: allocCache must mirror its bits
            AssertBroken(heap, "INV-SPAN-4");
        }
    }

    [Fact]
    public void Verify_DetectsMarkBitsOnASweptSpanOutsideMarking_INV_MARK_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.SpanOf(objs[^1])->SetMarked(0);
            AssertBroken(heap, "INV-MARK-1");
        }
    }

    [Fact]
    public void Verify_DetectsASpanBeingSweptAtAQuiescentPoint_INV_SWEEP_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.SpanOf(objs[^1])->SweepGen = heap.SweepGen - 1;
            AssertBroken(heap, "INV-SWEEP-1");
        }
    }

    [Fact]
    public void Verify_DetectsASpanInTwoPlaces_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan* cached = heap.SpanOf(objs[0]);
            heap.Central[cached->SpanClass].PartialSwept(heap.SweepGen).Push((nint)cached);
            AssertBroken(heap, "INV-SWEEP-2");
        }
    }

    [Fact]
    public void Verify_DetectsALostSpan_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            Assert.Equal((nint)s, heap.Central[s->SpanClass].PartialSwept(heap.SweepGen).Pop());
            AssertBroken(heap, "INV-SWEEP-2");
        }
    }

    [Fact]
    public void Verify_DetectsASweeperCountMismatch_INV_SWEEP_4()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.ActiveSweepRef.Reset(1);
            heap.ActiveSweepRef.MarkDrained();
            AssertBroken(heap, "INV-SWEEP-4");
        }
    }

    [Fact]
    public void Verify_DetectsBitmapSpanDisagreement_INV_PAGE_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.Pages.Free(heap.SpanOf(objs[3000])->StartAddr, 1);
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
            heap.SpanOf(objs[^1])->DivMul++;
            AssertBroken(heap, "INV-SPAN-2");
        }
    }

    [Fact]
    public void Verify_DetectsASpanIndexError_INV_SPAN_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            a->Spans[(int)((large->StartAddr - a->Base) >> MallocConstants.PageShift) + 1] = (long)heap.SpanOf(objs[0]);
            AssertBroken(heap, "INV-SPAN-1");
        }
    }

    [Fact]
    public void Verify_DetectsBadTinyOffset_INV_CACHE_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.AllP[0].MCache->TinyOffset = 17;
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
            heap.AllP[1].MCache->SmallAllocCount[5]++;
            AssertBroken(heap, "INV-STATS-1");
        }
    }

    [Fact]
    public void Verify_DetectsByClassCountError_INV_STATS_3()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            heap.AllP[0].MCache->SmallAllocCount[2] -= 2;
            heap.AllP[0].MCache->SmallAllocCount[4] += 1;
            AssertBroken(heap, "INV-STATS-3");
        }
    }

    [Fact]
    public void Verify_DetectsDirtyMemoryPastZeroedBase_INV_ZERO_1()
    {
        (MHeap heap, _) = Populated();
        using (heap)
        {
            HeapArena* a = heap.ArenaOf(heap.ArenaBase);
            *(long*)(a->Base + (nint)a->ZeroedBase) = 1;
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
