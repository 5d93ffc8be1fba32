// Verify must fail, naming the right INV id, when the Optimized heap's state is corrupted: the
// same families as the Reference's VerifyTests, broken through the native records.
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
    public void Verify_DetectsAllocCountMismatch_INV_SPAN_3() =>
        AssertDetects("INV-SPAN-3", (heap, objs) => heap.SpanOf(objs[0])->AllocCount++);

    [Fact]
    public void Verify_DetectsMarkOnAFreeObject_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", (heap, objs) => heap.SpanOf(objs[^1])->SetMarked(100));

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
    public void Verify_DetectsMarkBitsOnASweptSpanOutsideMarking_INV_MARK_1() =>
        AssertDetects("INV-MARK-1", (heap, objs) => heap.SpanOf(objs[^1])->SetMarked(0));

    [Fact]
    public void Verify_DetectsASpanBeingSweptAtAQuiescentPoint_INV_SWEEP_1() =>
        AssertDetects("INV-SWEEP-1", (heap, objs) => heap.SpanOf(objs[^1])->SweepGen = heap.SweepGen - 1);

    [Fact]
    public void Verify_DetectsASpanInTwoPlaces_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan* cached = heap.SpanOf(objs[0]);
            heap.Central[cached->SpanClass].PartialSwept(heap.SweepGen).Push((nint)cached);
        });

    [Fact]
    public void Verify_DetectsALostSpan_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            Assert.Equal((nint)s, heap.Central[s->SpanClass].PartialSwept(heap.SweepGen).Pop());
        });

    [Fact]
    public void Verify_DetectsASweeperCountMismatch_INV_SWEEP_4() =>
        AssertDetects("INV-SWEEP-4", (heap, _) =>
        {
            heap.ActiveSweepRef.Reset(1);
            heap.ActiveSweepRef.MarkDrained();
        });

    [Fact]
    public void Verify_DetectsBitmapSpanDisagreement_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, objs) => heap.Pages.Free(heap.SpanOf(objs[3000])->StartAddr, 1));

    [Fact]
    public void Verify_DetectsReleasedAccountingError_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", (heap, _) => heap.Stats.HeapReleased += MallocConstants.PageSize);

    [Fact]
    public void Verify_DetectsGeometryError_INV_SPAN_2() =>
        AssertDetects("INV-SPAN-2", (heap, objs) => heap.SpanOf(objs[^1])->DivMul++);

    [Fact]
    public void Verify_DetectsASpanIndexError_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            a->Spans[(int)((large->StartAddr - a->Base) >> MallocConstants.PageShift) + 1] = (long)heap.SpanOf(objs[0]);
        });

    [Fact]
    public void Verify_DetectsBadTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) => heap.AllP[0].MCache->TinyOffset = 17);

    [Fact]
    public void Verify_DetectsHeapInuseError_INV_STATS_2() =>
        AssertDetects("INV-STATS-2", (heap, _) => heap.Stats.HeapInuse += MallocConstants.PageSize);

    [Fact]
    public void Verify_DetectsHeapAllocError_INV_STATS_1() =>
        AssertDetects("INV-STATS-1", (heap, _) => heap.AllP[1].MCache->SmallAllocCount[5]++);

    [Fact]
    public void Verify_DetectsByClassCountError_INV_STATS_3() =>
        AssertDetects("INV-STATS-3", (heap, _) =>
        {
            heap.AllP[0].MCache->SmallAllocCount[2] -= 2;
            heap.AllP[0].MCache->SmallAllocCount[4] += 1;
        });

    [Fact]
    public void Verify_DetectsDirtyMemoryPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", (heap, _) =>
        {
            HeapArena* a = heap.ArenaOf(heap.ArenaBase);
            *(long*)(a->Base + (nint)a->ZeroedBase) = 1;
        });

    [Fact]
    public void Verify_DetectsArenaAccountingError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) => heap.Stats.HeapSys += MallocConstants.HeapArenaBytes);

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

    /// <summary>Every in-use span record, from the arenas' spans arrays.</summary>
    private static List<nint> InUseSpans(MHeap heap)
    {
        var list = new List<nint>();
        var seen = new HashSet<nint>();
        foreach (nint ab in heap.ArenaBases())
        {
            HeapArena* a = heap.ArenaOf(ab);
            for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
            {
                nint s = (nint)a->Spans[pg];
                if (s != 0 && seen.Add(s))
                    list.Add(s);
            }
        }
        return list;
    }

    private static HashSet<nint> CachedSpans(MHeap heap)
    {
        var set = new HashSet<nint>();
        foreach (P p in heap.AllP)
        {
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
            {
                MSpan* s = p.MCache->Span(spc);
                if (s != heap.EmptySpan)
                    set.Add((nint)s);
            }
        }
        return set;
    }

    /// <summary>An uncached small span whose object count is not a multiple of 64 (bits past nelems exist).</summary>
    private static MSpan* UncachedRaggedSpan(MHeap heap)
    {
        HashSet<nint> cached = CachedSpans(heap);
        foreach (nint sp in InUseSpans(heap))
        {
            var s = (MSpan*)sp;
            if (!cached.Contains(sp) && s->SizeClass != 0 && s->NElems % 64 != 0)
                return s;
        }
        throw new InvalidOperationException("no uncached span with nelems % 64 != 0");
    }

    private static int PageIndex(HeapArena* a, nint page) => (int)((page - a->Base) >> MallocConstants.PageShift);

    private static void SetAllocBit(MSpan* s, int i) => s->AllocBits[i >> 3] |= (byte)(1 << (i & 7));

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

    [Fact]
    public void Verify_DetectsArenaCountError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", "arenas but heap_sys", (heap, _) => heap.Stats.Arenas++);

    // INV-SPAN-1

    [Fact]
    public void Verify_DetectsPageMappedToASpanNotInUse_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "Manual span", (heap, objs) => heap.SpanOf(objs[^1])->State = (int)SpanState.Manual);

    [Fact]
    public void Verify_DetectsPageBelowTheSpanItMapsTo_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "which does not contain it", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            int first = PageIndex(a, large->StartAddr);
            Assert.True(first > 0);
            a->Spans[first - 1] = (long)large; // the page just below the span's start
        });

    [Fact]
    public void Verify_DetectsPageAtTheSpanEndMappedToIt_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "which does not contain it", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            a->Spans[PageIndex(a, large->End)] = (long)large; // the page exactly at End
        });

    [Fact]
    public void Verify_DetectsSpanPageWithNoSpanOf_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "spanOf(", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            Assert.True(large->NPages > 2);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            a->Spans[PageIndex(a, large->StartAddr) + 1] = 0;
        });

    // INV-SWEEP-1

    [Fact]
    public void Verify_DetectsSweepGenTwoAhead_INV_SWEEP_1() =>
        AssertDetects("INV-SWEEP-1", (heap, objs) => heap.SpanOf(objs[^1])->SweepGen = heap.SweepGen + 2);

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

    // INV-CACHE-1 / INV-SWEEP-2: what the Ps cache

    [Fact]
    public void Verify_DetectsBadFlushGen_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P1 flushGen", (heap, _) => heap.AllP[1].MCache->FlushGen = heap.SweepGen + 2);

    [Fact]
    public void Verify_DetectsSlotHoldingAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P1 slot", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[0]);
            Assert.True(heap.AllP[0].MCache->Span(s->SpanClass) == s);
            heap.AllP[1].MCache->Alloc[s->SpanClass + 2] = (long)s;
        });

    [Fact]
    public void Verify_DetectsSlotHoldingADeadSpan_INV_CACHE_1()
    {
        (MHeap heap, List<nint> objs) = Populated();
        var fake = (MSpan*)NativeMemory.AllocZeroed((nuint)sizeof(MSpan));
        try
        {
            using (heap)
            {
                MSpan* s = heap.SpanOf(objs[0]);
                *fake = *s;
                fake->State = (int)SpanState.Dead;
                heap.AllP[1].MCache->Alloc[s->SpanClass] = (long)fake; // right class, dead record
                AssertBroken(heap, "INV-CACHE-1", "P1 slot");
            }
        }
        finally
        {
            NativeMemory.Free(fake);
        }
    }

    [Fact]
    public void Verify_DetectsCachedSpanWithWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "expected", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[0]);
            Assert.Equal(heap.SweepGen + 3, s->SweepGen);
            s->SweepGen = heap.SweepGen + 1; // valid for INV-SWEEP-1, wrong for a P flushed this cycle
        });

    [Fact]
    public void Verify_DetectsCachedSpanWithWrongSweepGenForAStaleP_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "expected", (heap, objs) =>
        {
            heap.StartMark();
            heap.FinishMark();
            heap.Verify();
            MSpan* s = heap.SpanOf(objs[0]);
            Assert.Equal(heap.SweepGen - 2, heap.AllP[0].MCache->FlushGen);
            Assert.Equal(heap.SweepGen + 1, s->SweepGen);
            s->SweepGen = heap.SweepGen + 3; // right only for a P flushed this cycle
        });

    [Fact]
    public void Verify_DetectsSpanCachedByTwoPs_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "cached by two Ps", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[0]);
            heap.AllP[1].MCache->Alloc[s->SpanClass] = (long)s;
        });

    [Fact]
    public void Verify_DetectsNegativeTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tinyoffset", (heap, _) => heap.AllP[0].MCache->TinyOffset = -1);

    [Fact]
    public void Verify_DetectsTinyBlockOutsideTheHeap_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (heap, _) =>
        {
            Assert.NotEqual(0, heap.AllP[0].MCache->Tiny);
            heap.AllP[0].MCache->Tiny = 64;
        });

    [Fact]
    public void Verify_DetectsTinyBlockInAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (heap, objs) =>
        {
            Assert.NotEqual(MallocConstants.TinySpanClass, heap.SpanOf(objs[0])->SpanClass);
            heap.AllP[0].MCache->Tiny = objs[0]; // an allocated, aligned 16-byte object of a scan class
        });

    [Fact]
    public void Verify_DetectsMisalignedTinyBlock_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (heap, _) => heap.AllP[0].MCache->Tiny += 8);

    [Fact]
    public void Verify_DetectsTinyBlockNotAllocated_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (heap, _) =>
        {
            MCache* mc = heap.AllP[0].MCache;
            MSpan* ts = heap.SpanOf(mc->Tiny);
            Assert.Equal(MallocConstants.TinySpanClass, ts->SpanClass);
            nint next = ts->ObjectAddress(ts->FreeIndex); // the first free object
            Assert.False(ts->IsAllocated(ts->FreeIndex));
            mc->Tiny = next;
        });

    // INV-SWEEP-2: the span sets

    [Fact]
    public void Verify_DetectsDeadRecordInASweptSet_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        var fake = (MSpan*)NativeMemory.AllocZeroed((nuint)sizeof(MSpan));
        try
        {
            using (heap)
            {
                MSpan* s = heap.SpanOf(objs[^1]);
                *fake = *s; // an in-use looking record that no page maps to
                heap.Central[s->SpanClass].PartialSwept(heap.SweepGen).Push((nint)fake);
                AssertBroken(heap, "INV-SWEEP-2", "dead span record");
            }
        }
        finally
        {
            NativeMemory.Free(fake);
        }
    }

    [Fact]
    public void Verify_AcceptsStaleEntriesInUnsweptSets_INV_SWEEP_2()
    {
        (MHeap heap, List<nint> objs) = Populated();
        var fake = (MSpan*)NativeMemory.AllocZeroed((nuint)sizeof(MSpan));
        try
        {
            using (heap)
            {
                MSpan* s = heap.SpanOf(objs[^1]);
                *fake = *s;
                fake->State = (int)SpanState.Dead;
                MCentral c = heap.Central[s->SpanClass];
                c.PartialUnswept(heap.SweepGen).Push((nint)fake); // a freed record
                c.PartialUnswept(heap.SweepGen).Push((nint)s);    // already swept and placed elsewhere
                c.FullUnswept(heap.SweepGen).Push((nint)s);
                heap.Verify();
            }
        }
        finally
        {
            NativeMemory.Free(fake);
        }
    }

    [Fact]
    public void Verify_DetectsSpanInAnotherClassSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "of another class", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            Move(heap, s, heap.Central[s->SpanClass].PartialSwept(heap.SweepGen), heap.Central[s->SpanClass + 2].PartialSwept(heap.SweepGen));
        });

    [Fact]
    public void Verify_DetectsSweptSetEntryWithWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "with sweepgen", (heap, objs) =>
        {
            heap.SpanOf(objs[^1])->SweepGen = heap.SweepGen + 3; // valid for INV-SWEEP-1 (swept and cached), not in a set
        });

    [Fact]
    public void Verify_DetectsPartialSpanInAFullSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", ".fullSwept holds", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            Assert.True(s->AllocCount < s->NElems);
            MCentral c = heap.Central[s->SpanClass];
            Move(heap, s, c.PartialSwept(heap.SweepGen), c.FullSwept(heap.SweepGen));
        });

    [Fact]
    public void Verify_DetectsFullSpanInAPartialSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", ".partialSwept holds", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            Assert.Equal(large->NElems, large->AllocCount);
            MCentral c = heap.Central[large->SpanClass];
            Move(heap, large, c.FullSwept(heap.SweepGen), c.PartialSwept(heap.SweepGen));
        });

    [Fact]
    public void Verify_DetectsSpanTwiceInASet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "is in mcentral", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            heap.Central[s->SpanClass].PartialSwept(heap.SweepGen).Push((nint)s);
        });

    // INV-SPAN-2

    [Theory]
    [InlineData("ElemSize")]
    [InlineData("NElems")]
    [InlineData("Limit")]
    [InlineData("DivShift")]
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
                case "DivShift2": s->DivShift2++; break;
                case "BaseMask": s->BaseMask ^= 1; break;
            }
        });

    [Theory]
    [InlineData("NElems")]
    [InlineData("ElemSize")]
    [InlineData("LimitAtStart")]
    [InlineData("LimitPastEnd")]
    public void Verify_DetectsLargeGeometryError_INV_SPAN_2(string field) =>
        AssertDetects("INV-SPAN-2", "bad large geometry", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            switch (field)
            {
                case "NElems": large->NElems = 2; large->AllocCount = 2; break; // still full (INV-SWEEP-2 holds)
                case "ElemSize": large->ElemSize -= 8; break;
                case "LimitAtStart": large->Limit = large->StartAddr; break;
                case "LimitPastEnd": large->Limit = large->End + 1; break;
            }
        });

    // INV-SPAN-4 / INV-SPAN-3

    [Fact]
    public void Verify_DetectsFreeIndexPastNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "freeindex out of range", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            s->FreeIndex = s->NElems + 1;
        });

    [Fact]
    public void Verify_DetectsNegativeFreeIndex_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "freeindex out of range", (heap, objs) => heap.SpanOf(objs[^1])->FreeIndex = -1);

    [Fact]
    public void Verify_DetectsAllocBitBeyondNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "beyond nelems", (heap, _) =>
        {
            MSpan* s = UncachedRaggedSpan(heap);
            SetAllocBit(s, s->NElems); // the first bit past the last object
        });

    [Fact]
    public void Verify_DetectsMarkBitBeyondNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "beyond nelems", (heap, _) =>
        {
            MSpan* s = UncachedRaggedSpan(heap);
            s->SetMarked(s->NElems);
        });

    [Fact]
    public void Verify_DetectsEmptyUncachedSweptSpan_INV_SPAN_3() =>
        AssertDetects("INV-SPAN-3", "uncached swept", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            Assert.DoesNotContain((nint)s, CachedSpans(heap));
            s->FreeIndex = 0;
            for (int i = 0; i < (s->NElems + 7) / 8; i++)
                s->AllocBits[i] = 0;
            s->AllocCount = 0; // consistent with the bitmap, but a swept empty span must have been freed
        });

    // INV-SWEEP-3

    [Fact]
    public void Verify_DetectsUnsweptSpanAfterSweepDone_INV_SWEEP_3() =>
        AssertDetects("INV-SWEEP-3", "is unswept", (heap, objs) =>
        {
            MSpan* s = heap.SpanOf(objs[^1]);
            MCentral c = heap.Central[s->SpanClass];
            Move(heap, s, c.PartialSwept(heap.SweepGen), c.PartialUnswept(heap.SweepGen));
            s->SweepGen = heap.SweepGen - 2;
        });

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

    [Fact]
    public void CheckSweepDone_DetectsUnflushedP_INV_SWEEP_3() =>
        AssertSweepDoneDetects("P1 is not flushed", (heap, _) => MakeP1Stale(heap));

    [Theory]
    [InlineData(-2)]
    [InlineData(-1)]
    [InlineData(1)]
    public void CheckSweepDone_DetectsUnsweptSpan_INV_SWEEP_3(int delta) =>
        AssertSweepDoneDetects("has sweepgen", (heap, objs) => heap.SpanOf(objs[^1])->SweepGen = (uint)(heap.SweepGen + delta));

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

    // INV-STATS-3 / INV-ZERO-1

    [Fact]
    public void Verify_DetectsLargeObjectCountMismatch_INV_STATS_3() =>
        AssertDetects("INV-STATS-3", "large:", (heap, _) => heap.Stats.LargeFrees++);

    [Theory]
    [InlineData(-(long)MallocConstants.PageSize)]
    [InlineData(MallocConstants.HeapArenaBytes + MallocConstants.PageSize)]
    [InlineData(8)]
    public void Verify_DetectsBadZeroedBase_INV_ZERO_1(long zb) =>
        AssertDetects("INV-ZERO-1", "zeroedBase", (heap, _) =>
        {
            HeapArena* a = heap.ArenaOf(heap.ArenaBase);
            a->ZeroedBase = zb == 8 ? a->ZeroedBase + 8 : zb;
        });

    [Fact]
    public void Verify_DetectsSpanPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", "is in a span", (heap, objs) =>
        {
            MSpan* large = heap.SpanOf(objs[3000]);
            HeapArena* a = heap.ArenaOf(large->StartAddr);
            a->ZeroedBase = large->End - (nint)MallocConstants.PageSize - a->Base; // the span's last page is past it
        });
}
