// Verify tests of what only the Optimized keeps: the arena index, the page caches (bit masks), the
// radix summaries and searchAddr (INV-PAGE-3), the allocCache and division magic of a span record,
// and the sweep-state word (INV-SWEEP-3, INV-SWEEP-4). Every check both heaps share is tested once,
// against both, in tests/Unit/Contract/VerifyContractTests.cs.
using System.Reflection;
using System.Runtime.InteropServices;
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

    /// <summary>Builds the populated heap, applies one corruption, and asserts Verify names the broken invariant.</summary>
    private static void AssertDetects(string id, Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertBroken(heap, id);
        }
    }

    [Fact]
    public void Verify_DetectsAllocCacheOutOfStepWithBits_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", (heap, objs) =>
        {
            heap.SpanOf(objs[2999])->AllocCache ^= 1; // a cached span: allocCache must mirror its bits
        });

    /// <summary>
    /// allocCache mirrors the alloc bits from freeindex to the end of its 64-object group, and the
    /// bits shifted in above them are zero: a flip of the lowest or the highest mirrored bit, or of
    /// a shifted-in bit, is caught, with freeindex inside a group and exactly at a group boundary
    /// (48 B: 170 objects per span).
    /// </summary>
    [Theory]
    [InlineData(64, 0)]
    [InlineData(64, 63)]
    [InlineData(70, 0)]
    [InlineData(70, 57)]
    [InlineData(70, 58)]
    [InlineData(70, 63)]
    [InlineData(1, 62)]
    [InlineData(1, 63)]
    public void Verify_DetectsAllocCacheFlipAtEveryBit_INV_SPAN_4(int allocated, int bit)
    {
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        nint first = p.Alloc(48, noscan: true);
        for (int i = 1; i < allocated; i++)
            p.Alloc(48, noscan: true);
        p.Release();
        MSpan* s = heap.SpanOf(first);
        Assert.Equal(allocated, s->FreeIndex);
        heap.Verify();
        s->AllocCache ^= 1UL << bit;
        AssertBroken(heap, "INV-SPAN-4");
    }

    [Fact]
    public void Verify_DetectsASweeperCountMismatch_INV_SWEEP_4() =>
        AssertDetects("INV-SWEEP-4", (heap, _) =>
        {
            heap.ActiveSweepRef.Reset(1);
            heap.ActiveSweepRef.MarkDrained();
        });

    // ------------------------------------------------------------ one corruption per Verify check

    private const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;

    private static void AssertBroken(MHeap heap, string id, string detail)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.Verify);
        Assert.Equal(id, e.InvariantId);
        Assert.StartsWith(id + ":", e.Message);
        Assert.Contains(detail, e.Message);
    }

    /// <summary>As AssertDetects, and the message must also contain detail.</summary>
    private static void AssertDetects(string id, string detail, Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertBroken(heap, id, detail);
        }
    }

    private static void AssertSweepDoneBroken(MHeap heap, string detail)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.CheckSweepDone);
        Assert.Equal("INV-SWEEP-3", e.InvariantId);
        Assert.Contains(detail, e.Message);
    }

    /// <summary>Builds the populated heap, applies one corruption, and asserts CheckSweepDone reports INV-SWEEP-3 with detail.</summary>
    private static void AssertSweepDoneDetects(string detail, Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertSweepDoneBroken(heap, detail);
        }
    }

    /// <summary>Moves the uncached swept span s from the set it is in to dst.</summary>
    private static void Move(MHeap heap, MSpan* s, SpanSet from, SpanSet dst)
    {
        Assert.Equal((nint)s, from.Pop());
        dst.Push((nint)s);
    }

    /// <summary>P1 (which caches nothing after Populated) looks like a P that has not flushed since the last sweepgen bump.</summary>
    private static void MakeP1Stale(MHeap heap) => heap.AllP[1].MCache->FlushGen = heap.SweepGen - 2;

    // INV-ARENA-1

    [Fact]
    public void Verify_DetectsArenaRecordWithWrongBase_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", "misaligned or not in the index", (heap, _) =>
        {
            heap.ArenaOf(heap.ArenaBase)->Base += (nint)MallocConstants.PageSize;
        });

    [Fact]
    public void Verify_DetectsArenaMissingFromTheIndex_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", "misaligned or not in the index", (heap, _) =>
        {
            var all = (List<nint>)typeof(MHeap).GetField("_allArenas", Private)!.GetValue(heap)!;
            nint last = all.Max();
            Assert.True(heap.ArenaOf(last + (nint)MallocConstants.HeapArenaBytes) == null);
            all.Add(last + (nint)MallocConstants.HeapArenaBytes); // aligned, not overlapping, but never indexed
        });

    // INV-PAGE-1 / INV-PAGE-2

    [Fact]
    public void Verify_DetectsPageInTwoPageCaches_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", "in two page caches", (heap, _) =>
        {
            Assert.False(heap.AllP[0].MCache->PCache.Empty);
            lock (heap.Lock)
                heap.AllP[1].MCache->PCache.Flush(heap.Pages);
            heap.AllP[1].MCache->PCache = heap.AllP[0].MCache->PCache;
        });

    [Fact]
    public void Verify_DetectsPageInASpanAndInAPageCache_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", "is in a span and in P1's page cache", (heap, objs) =>
        {
            lock (heap.Lock)
                heap.AllP[1].MCache->PCache.Flush(heap.Pages);
            heap.AllP[1].MCache->PCache = new PageCache(heap.SpanOf(objs[3000])->StartAddr, 1, 0);
        });

    [Fact]
    public void Verify_DetectsAllocatedPageOwnedByNothing_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", "bitmap says allocated", (heap, _) =>
        {
            MCache* mc = heap.AllP[0].MCache;
            Assert.False(mc->PCache.Empty);
            mc->PCache.Cache &= mc->PCache.Cache - 1; // drops the lowest cached page: still allocated in the bitmap
        });

    [Fact]
    public void Verify_DetectsPageCachePageOutsideGrownMemory_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", "outside every grown chunk", (heap, _) =>
        {
            nint outside = heap.ArenaBase + (nint)MallocConstants.HeapArenaBytes - (nint)MallocConstants.PageSize;
            Assert.False(heap.Pages.Contains(outside));
            lock (heap.Lock)
                heap.AllP[1].MCache->PCache.Flush(heap.Pages);
            heap.AllP[1].MCache->PCache = new PageCache(outside, 1, 0);
        });

    [Fact]
    public void Verify_DetectsScavengedAllocatedPage_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", "scavenged but allocated", (heap, objs) =>
        {
            nint page = heap.SpanOf(objs[3000])->StartAddr;
            heap.Pages.ChunkOf(GoAlloc.Optimized.PageAlloc.ChunkIndex(page))->Scavenged.Set(GoAlloc.Optimized.PageAlloc.ChunkPageIndex(page));
        });

    [Fact]
    public void Verify_DetectsPageCacheScavBitMiscounted_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", "heap_released=", (heap, _) =>
        {
            MCache* mc = heap.AllP[0].MCache;
            Assert.False(mc->PCache.Empty);
            mc->PCache.Scav ^= mc->PCache.Cache & ~(mc->PCache.Cache - 1); // flips the lowest cached page's scav bit
        });

    // INV-PAGE-3 (PageAlloc.CheckSummaries)

    private static long FirstGrownChunk(MHeap heap) => heap.Pages.GrownChunks().First();

    [Fact]
    public void Verify_DetectsLeafSummaryMismatch_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "but its bitmap summarizes to", (heap, _) =>
        {
            PallocSum* leaf = heap.Pages.Summary(GoAlloc.Optimized.PageAlloc.SummaryLevels - 1);
            long ci = FirstGrownChunk(heap);
            leaf[ci] = new PallocSum(leaf[ci].Value + 1);
        });

    [Fact]
    public void Verify_DetectsUngrownLeafSummaryNotZero_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "but its bitmap summarizes to", (heap, _) =>
        {
            long ci = heap.Pages.GrownChunks().Last() + 1;
            Assert.False(heap.Pages.Contains(GoAlloc.Optimized.PageAlloc.ChunkBase(ci)));
            Assert.NotEqual(0, ci % 8); // shares the grown chunks' leaf block
            heap.Pages.Summary(GoAlloc.Optimized.PageAlloc.SummaryLevels - 1)[ci] = new PallocSum(1);
        });

    [Fact]
    public void Verify_DetectsInnerSummaryMismatch_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "but its children merge to", (heap, _) =>
        {
            int l = GoAlloc.Optimized.PageAlloc.SummaryLevels - 2;
            long i = FirstGrownChunk(heap) >> GoAlloc.Optimized.PageAlloc.LevelBits[l + 1];
            PallocSum* level = heap.Pages.Summary(l);
            level[i] = new PallocSum(level[i].Value + 1);
        });

    [Fact]
    public void Verify_DetectsRootSummaryMismatch_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "summary[0]", (heap, _) =>
        {
            long i = FirstGrownChunk(heap);
            for (int l = GoAlloc.Optimized.PageAlloc.SummaryLevels - 1; l > 0; l--)
                i >>= GoAlloc.Optimized.PageAlloc.LevelBits[l];
            PallocSum* root = heap.Pages.Summary(0);
            root[i] = new PallocSum(root[i].Value + 1);
        });

    private static FieldInfo SearchAddrField => typeof(GoAlloc.Optimized.PageAlloc).GetField("_searchAddr", Private)!;

    [Fact]
    public void Verify_DetectsSearchAddrOutsideGrownMemory_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "outside every grown range", (heap, _) =>
        {
            nint outside = heap.ArenaBase + (nint)MallocConstants.HeapArenaBytes - (nint)MallocConstants.PageSize;
            Assert.False(heap.Pages.Contains(outside));
            SearchAddrField.SetValue(heap.Pages, outside);
        });

    [Fact]
    public void Verify_DetectsSearchAddrAboveTheFirstFreePage_INV_PAGE_3() =>
        AssertDetects("INV-PAGE-3", "above the first free page", (heap, _) =>
        {
            nint firstFree = 0;
            foreach (nint cb in heap.Pages.GrownChunkBases())
            {
                for (int i = 0; i < MallocConstants.PallocChunkPages && firstFree == 0; i++)
                {
                    nint page = cb + i * (nint)MallocConstants.PageSize;
                    if (!heap.Pages.IsAllocated(page))
                        firstFree = page;
                }
                if (firstFree != 0)
                    break;
            }
            Assert.NotEqual(0, firstFree);
            Assert.True(heap.Pages.Contains(firstFree + (nint)MallocConstants.PageSize));
            SearchAddrField.SetValue(heap.Pages, firstFree + (nint)MallocConstants.PageSize);
        });

    // INV-SPAN-2

    [Theory]
    [InlineData("ElemSize")]
    [InlineData("NElems")]
    [InlineData("Limit")]
    [InlineData("DivShift")]
    [InlineData("DivMul")]
    [InlineData("DivShift2")]
    [InlineData("BaseMask")]
    public void Verify_DetectsSmallGeometryError_INV_SPAN_2(string field) =>
        AssertDetects("INV-SPAN-2", "bad geometry", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            switch (field)
            {
                case "ElemSize": s->ElemSize++; break;
                case "NElems": s->NElems--; break;
                case "Limit": s->Limit++; break;
                case "DivShift": s->DivShift++; break;
                case "DivMul": s->DivMul++; break;
                case "DivShift2": s->DivShift2++; break;
                case "BaseMask": s->BaseMask ^= 1; break;
            }
        });

    // INV-SWEEP-3

    [Fact]
    public void Verify_DetectsStaleCachedSpanAfterSweepDone_INV_SWEEP_3() =>
        AssertDetects("INV-SWEEP-3", "is unswept", (heap, _) =>
        {
            MCache* mc = heap.AllP[0].MCache;
            mc->FlushGen = heap.SweepGen - 2;
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
            {
                if (mc->Span(spc) != heap.EmptySpan)
                    mc->Span(spc)->SweepGen = heap.SweepGen + 1; // cached last cycle, never flushed
            }
        });

    [Fact]
    public void CheckSweepDone_DetectsSweepStateNotDone_INV_SWEEP_3() =>
        AssertSweepDoneDetects("not done", (heap, _) =>
        {
            heap.CheckSweepDone();
            heap.ActiveSweepRef.Reset(0); // no sweepers, but not drained
        });

    // INV-SWEEP-4

    [Fact]
    public void Verify_DetectsUnflushedPWithNoSweeperCounted_INV_SWEEP_4() =>
        AssertDetects("INV-SWEEP-4", "sweeper count 0 but 1", (heap, _) => MakeP1Stale(heap));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Verify_DetectsDrainedWithUnsweptSpans_INV_SWEEP_4(bool full) =>
        AssertDetects("INV-SWEEP-4", "still has unswept spans", (heap, objs) =>
        {
            MakeP1Stale(heap);
            heap.ActiveSweepRef.Reset(1);     // P1 is the one pending sweeper: the count matches
            heap.ActiveSweepRef.MarkDrained(); // but the sets are claimed drained
            MSpan* s = heap.SpanOf(full ? objs[3000] : objs[^1]);
            MCentral c = heap.Central[s->SpanClass];
            if (full)
                Move(heap, s, c.FullSwept(heap.SweepGen), c.FullUnswept(heap.SweepGen));
            else
                Move(heap, s, c.PartialSwept(heap.SweepGen), c.PartialUnswept(heap.SweepGen));
            s->SweepGen = heap.SweepGen - 2;
        });
}
