// Verify must fail, naming the right INV id, when the Reference heap's state is corrupted: one test
// per invariant family, each breaking exactly one rule of spec/SPEC.md through the internals.
using System.Reflection;
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

    /// <summary>Builds the populated heap, applies one legal edit, and asserts Verify still passes.</summary>
    private static void AssertAccepts(Action<MHeap, List<nint>> edit)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            edit(heap, objs);
            heap.Verify();
        }
    }

    private static MSpan SpanAt(MHeap heap, nint p) => heap.SpanOf(p)!;

    [Fact]
    public void Verify_DetectsAllocCountMismatch_INV_SPAN_3() =>
        AssertDetects("INV-SPAN-3", (heap, objs) => SpanAt(heap, objs[0]).AllocCount++);

    [Fact]
    public void Verify_DetectsMarkOnAFreeObject_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]); // the flushed 64-byte span: 1 object of 128
            s.SetMarked(100);
        });

    [Fact]
    public void Verify_DetectsMarkBitsOnASweptSpanOutsideMarking_INV_MARK_1() =>
        AssertDetects("INV-MARK-1", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            s.SetMarked(0);
        });

    [Fact]
    public void Verify_DetectsASpanBeingSweptAtAQuiescentPoint_INV_SWEEP_1() =>
        AssertDetects("INV-SWEEP-1", (heap, objs) => SpanAt(heap, objs[^1]).SweepGen = heap.SweepGen - 1);

    [Fact]
    public void Verify_DetectsASpanInTwoPlaces_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan cached = SpanAt(heap, objs[0]);
            heap.Central[cached.SpanClass].PartialSwept(heap.SweepGen).Push(cached);
        });

    [Fact]
    public void Verify_DetectsALostSpan_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            Assert.Same(s, heap.Central[s.SpanClass].PartialSwept(heap.SweepGen).Pop());
        });

    [Fact]
    public void Verify_DetectsBitmapSpanDisagreement_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[3000]); // the large span
            heap.Pages.Free(s.StartAddr, 1);
        });

    [Fact]
    public void Verify_DetectsReleasedAccountingError_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", (heap, _) => heap.Stats.HeapReleased += MallocConstants.PageSize);

    [Fact]
    public void Verify_DetectsGeometryError_INV_SPAN_2() =>
        AssertDetects("INV-SPAN-2", (heap, objs) => SpanAt(heap, objs[^1]).NElems--);

    [Fact]
    public void Verify_DetectsASpanIndexError_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, objs) =>
        {
            MSpan large = SpanAt(heap, objs[3000]);
            HeapArena a = heap.ArenaOf(large.StartAddr)!;
            a.Spans[a.PageIndex(large.StartAddr) + 1] = SpanAt(heap, objs[0]);
        });

    [Fact]
    public void Verify_DetectsBadTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) => heap.AllP[0].MCache.TinyOffset = 17);

    [Fact]
    public void Verify_DetectsHeapInuseError_INV_STATS_2() =>
        AssertDetects("INV-STATS-2", (heap, _) => heap.Stats.HeapInuse += MallocConstants.PageSize);

    [Fact]
    public void Verify_DetectsHeapAllocError_INV_STATS_1() =>
        AssertDetects("INV-STATS-1", (heap, _) => heap.AllP[1].MCache.NSmallAlloc[5]++);

    [Fact]
    public void Verify_DetectsByClassCountError_INV_STATS_3() =>
        AssertDetects("INV-STATS-3", (heap, _) =>
        {
            // Same bytes, wrong class: 2 x 16 B moved to 1 x 32 B keeps heap_alloc but not by_size.
            heap.AllP[0].MCache.NSmallAlloc[2] -= 2;
            heap.AllP[0].MCache.NSmallAlloc[4] += 1;
        });

    [Fact]
    public void Verify_DetectsDirtyMemoryPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            *(long*)(a.Base + (nint)a.ZeroedBase) = 1;
        });

    [Fact]
    public void Verify_DetectsArenaAccountingError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) => heap.Stats.HeapSys += MallocConstants.HeapArenaBytes);
    // ------------------------------------------------------------------ helpers for the per-check tests

    private static void AssertSweepDoneBroken(MHeap heap)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.CheckSweepDone);
        Assert.Equal("INV-SWEEP-3", e.InvariantId);
    }

    /// <summary>Builds the populated heap, applies one corruption, and asserts CheckSweepDone reports INV-SWEEP-3.</summary>
    private static void AssertSweepDoneDetects(Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertSweepDoneBroken(heap);
        }
    }

    /// <summary>Populated, then one GC cycle with nothing marked: every span unswept, every P unflushed.</summary>
    private static (MHeap Heap, List<nint> Objs) MidSweep()
    {
        (MHeap heap, List<nint> objs) = Populated();
        heap.StartMark();
        heap.FinishMark();
        Assert.False(heap.SweepDone);
        heap.Verify(); // mid-sweep is consistent too
        return (heap, objs);
    }

    private static MSpan FirstCached(MHeap heap, int pid = 0) =>
        heap.AllP[pid].MCache.Alloc.First(s => s != null)!;

    private static int FirstEmptySlot(MCache mc) => Array.FindIndex(mc.Alloc, s => s == null);

    private static void SetAllocBit(MSpan s, int i) => s.AllocBits[i >> 3] |= (byte)(1 << (i & 7));

    private static (PageAlloc.Chunk Chunk, int Index) ChunkPage(MHeap heap, nint page)
    {
        PageAlloc.Chunk c = heap.Pages.Chunks.First(c => page >= c.Base && page < c.Base + (nint)MallocConstants.PallocChunkBytes);
        return (c, (int)((page - c.Base) / MallocConstants.PageSize));
    }

    private static void SetSweepCursor(MHeap heap, int sweepClass) =>
        typeof(MHeap).GetField("_sweepClassCursor", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(heap, sweepClass);

    private static void SetArenas(MHeap heap, HeapArena[] arenas) =>
        typeof(MHeap).GetField("_arenas", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(heap, arenas);

    /// <summary>The flushed 64-byte-request span of Populated: uncached, in its class's partialSwept set.</summary>
    private static MSpan PopFlushed(MHeap heap, List<nint> objs)
    {
        MSpan s = SpanAt(heap, objs[^1]);
        Assert.Same(s, heap.Central[s.SpanClass].PartialSwept(heap.SweepGen).Pop());
        return s;
    }

    // ------------------------------------------------------------------ INV-ARENA-1

    [Fact]
    public void Verify_DetectsAnUnalignedArena_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            SetArenas(heap, [new HeapArena(a.Base + (nint)MallocConstants.PageSize)]);
        });

    [Fact]
    public void Verify_DetectsOverlappingArenas_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            SetArenas(heap, [a, a]);
            heap.Stats.HeapSys += MallocConstants.HeapArenaBytes;
            heap.Stats.Arenas++;
        });

    [Fact]
    public void Verify_AcceptsAdjacentArenas_INV_ARENA_1() =>
        AssertAccepts((heap, _) =>
        {
            Assert.Single(heap.Arenas);
            HeapArena a = heap.Arenas[0];
            // The boundary: the predecessor's End equal to the next Base is legal.
            SetArenas(heap, [a, new HeapArena(a.End)]);
            heap.Stats.HeapSys += MallocConstants.HeapArenaBytes;
            heap.Stats.Arenas++;
        });

    [Fact]
    public void Verify_DetectsArenaCountError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) => heap.Stats.Arenas++);

    // ------------------------------------------------------------------ INV-SPAN-1

    [Fact]
    public void Verify_DetectsAPageMappedToADeadSpan_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, objs) => SpanAt(heap, objs[^1]).State = SpanState.Dead);

    [Fact]
    public void Verify_DetectsAPageBeforeItsSpan_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, objs) =>
        {
            MSpan large = SpanAt(heap, objs[3000]);
            HeapArena a = heap.ArenaOf(large.StartAddr)!;
            int pg = a.PageIndex(large.StartAddr);
            Assert.True(pg > 0);
            a.Spans[pg - 1] = large;
        });

    [Fact]
    public void Verify_DetectsThePageAtASpansEndMappedToIt_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, _) =>
        {
            // A span followed by a page outside any span: map that page (page == End) to it.
            HeapArena a = heap.Arenas[0];
            int pg = Enumerable.Range(0, MallocConstants.PagesPerArena - 1)
                .First(i => a.Spans[i] != null && a.Spans[i + 1] == null);
            MSpan s = a.Spans[pg]!;
            Assert.Equal(s.End, a.Base + (pg + 1) * (nint)MallocConstants.PageSize);
            a.Spans[pg + 1] = s;
        });

    [Fact]
    public void Verify_DetectsAHoleInASpansPageMap_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (heap, objs) =>
        {
            MSpan large = SpanAt(heap, objs[3000]);
            HeapArena a = heap.ArenaOf(large.StartAddr)!;
            a.Spans[a.PageIndex(large.StartAddr) + 1] = null;
        });

    // ------------------------------------------------------------------ INV-SWEEP-1 (legal values)

    [Fact]
    public void Verify_AcceptsAHeapMidSweep_INV_SWEEP_1()
    {
        (MHeap heap, List<nint> objs) = MidSweep();
        using (heap)
        {
            uint sg = heap.SweepGen;
            Assert.Equal(sg - 2, SpanAt(heap, objs[^1]).SweepGen);   // unswept
            Assert.Equal(sg + 1, FirstCached(heap).SweepGen);        // stale cached
            Assert.Equal(sg - 2, heap.AllP[0].MCache.FlushGen);
            // Acquiring P1 flushes it; a new allocation caches a span at sg+3.
            IProcessor q = heap.AcquireP(1);
            nint x = q.Alloc(64);
            q.Release();
            Assert.Equal(sg + 3, SpanAt(heap, x).SweepGen);
            heap.Verify();
            heap.FinishSweep();
            heap.Verify();
            heap.CheckSweepDone();
        }
    }

    // ------------------------------------------------------------------ INV-PAGE-1 / INV-PAGE-2

    [Fact]
    public void Verify_DetectsAPageInTwoPageCaches_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            (P from, P to) = heap.AllP[0].PCache.Empty ? (heap.AllP[1], heap.AllP[0]) : (heap.AllP[0], heap.AllP[1]);
            Assert.False(from.PCache.Empty);
            to.PCache = from.PCache;
        });

    [Fact]
    public void Verify_DetectsAPageInASpanAndAPageCache_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            PageCache pc = heap.AllP[0].PCache;
            int k = Enumerable.Range(0, MallocConstants.PageCachePages)
                .First(k => !pc.Free[k] && heap.SpanOf(pc.Base + k * (nint)MallocConstants.PageSize) != null);
            pc.Free[k] = true;
        });

    [Fact]
    public void Verify_DetectsALeakedPage_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            // A page the bitmap marks allocated though no span and no page cache holds it.
            PageAlloc.Chunk c = heap.Pages.Chunks[0];
            int i = Array.IndexOf(c.Alloc, false);
            Assert.True(i >= 0);
            c.Alloc[i] = true;
        });

    [Fact]
    public void Verify_DetectsAPageCachePageOutsideTheChunks_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            P p = heap.AllP[1];
            PageCache old = p.PCache;
            // Give the old cache's pages back to the bitmap so only the new cache is wrong.
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                if (!old.Free[k])
                    continue;
                (PageAlloc.Chunk c, int i) = ChunkPage(heap, old.Base + k * (nint)MallocConstants.PageSize);
                c.Alloc[i] = false;
                c.Scavenged[i] = old.Scavenged[k];
            }
            p.PCache = new PageCache();
            heap.Verify(); // an empty page cache is fine
            nint outside = heap.Pages.Chunks[^1].Base + (nint)MallocConstants.PallocChunkBytes;
            Assert.False(heap.Pages.Contains(outside));
            var pc = new PageCache { Base = outside };
            pc.Free[0] = true;
            p.PCache = pc;
        });

    [Fact]
    public void Verify_DetectsAScavengedAllocatedPage_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", (heap, objs) =>
        {
            (PageAlloc.Chunk c, int i) = ChunkPage(heap, SpanAt(heap, objs[3000]).StartAddr);
            Assert.True(c.Alloc[i]);
            c.Scavenged[i] = true;
        });

    // ------------------------------------------------------------------ mcache (INV-CACHE-1, INV-SWEEP-2)

    [Fact]
    public void Verify_DetectsABadFlushGen_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) => heap.AllP[1].MCache.FlushGen = heap.SweepGen - 1);

    [Fact]
    public void Verify_DetectsASlotHoldingAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) =>
        {
            MCache mc = heap.AllP[0].MCache;
            MSpan s = FirstCached(heap);
            int empty = FirstEmptySlot(mc);
            mc.Alloc[s.SpanClass] = null;
            mc.Alloc[empty] = s;
        });

    [Fact]
    public void Verify_DetectsASlotHoldingADeadSpan_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) =>
        {
            MCache mc = heap.AllP[0].MCache;
            int empty = FirstEmptySlot(mc);
            mc.Alloc[empty] = new MSpan { SpanClass = empty, SweepGen = heap.SweepGen + 3 };
        });

    [Fact]
    public void Verify_DetectsACachedSpanWithTheWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, _) =>
        {
            FirstCached(heap).SweepGen = heap.SweepGen; // swept, but a cached span must be sg+3
        });

    [Fact]
    public void Verify_DetectsASpanCachedByTwoPs_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, _) =>
        {
            MSpan s = FirstCached(heap);
            Assert.Null(heap.AllP[1].MCache.Alloc[s.SpanClass]);
            heap.AllP[1].MCache.Alloc[s.SpanClass] = s;
        });

    [Fact]
    public void Verify_DetectsANegativeTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", (heap, _) => heap.AllP[0].MCache.TinyOffset = -1);

    [Fact]
    public void Verify_AcceptsAFullTinyBlock_INV_CACHE_1() =>
        AssertAccepts((heap, _) => heap.AllP[0].MCache.TinyOffset = SizeClasses.MaxTinySize); // the boundary is legal

    [Theory]
    [InlineData("outside the heap")]
    [InlineData("wrong class")]
    [InlineData("misaligned")]
    [InlineData("free")]
    public void Verify_DetectsABadTinyBlock_INV_CACHE_1(string how) =>
        AssertDetects("INV-CACHE-1", (heap, objs) =>
        {
            MCache mc = heap.AllP[0].MCache;
            Assert.NotEqual(0, mc.Tiny);
            MSpan ts = SpanAt(heap, mc.Tiny);
            mc.Tiny = how switch
            {
                "outside the heap" => heap.ZeroBase,
                "wrong class" => objs[0], // an allocated 16-byte object of a scan class
                "misaligned" => mc.Tiny + 8,
                _ => ts.ObjectAddress(Enumerable.Range(0, ts.NElems).First(i => !ts.IsAllocated(i))),
            };
        });

    // ------------------------------------------------------------------ span sets (INV-SWEEP-2)

    [Fact]
    public void Verify_DetectsADeadSpanInASweptSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, _) =>
        {
            heap.Central[10].PartialSwept(heap.SweepGen).Push(new MSpan { SpanClass = 10, SweepGen = heap.SweepGen });
        });

    [Fact]
    public void Verify_DetectsASpanInAnotherClassSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan s = PopFlushed(heap, objs);
            heap.Central[s.SpanClass ^ 1].PartialSwept(heap.SweepGen).Push(s);
        });

    [Fact]
    public void Verify_DetectsASweptSetEntryWithTheWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            SpanAt(heap, objs[^1]).SweepGen = heap.SweepGen + 3; // legal by INV-SWEEP-1, wrong in a swept set
        });

    [Fact]
    public void Verify_DetectsAPartialSpanInTheFullSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan s = PopFlushed(heap, objs);
            Assert.True(s.AllocCount < s.NElems);
            heap.Central[s.SpanClass].FullSwept(heap.SweepGen).Push(s);
        });

    [Fact]
    public void Verify_DetectsAFullSpanInThePartialSet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan large = SpanAt(heap, objs[3000]);
            Assert.Same(large, heap.Central[large.SpanClass].FullSwept(heap.SweepGen).Pop());
            Assert.Equal(large.NElems, large.AllocCount);
            heap.Central[large.SpanClass].PartialSwept(heap.SweepGen).Push(large);
        });

    [Fact]
    public void Verify_DetectsASpanTwiceInASet_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            heap.Central[s.SpanClass].PartialSwept(heap.SweepGen).Push(s);
        });

    [Fact]
    public void Verify_DetectsAStaleUnsweptEntryOfACachedSpan_INV_SWEEP_2()
    {
        (MHeap heap, _) = MidSweep();
        using (heap)
        {
            MSpan s = FirstCached(heap); // sg+1: stale cached, not swept
            heap.Central[s.SpanClass].PartialUnswept(heap.SweepGen).Push(s);
            AssertBroken(heap, "INV-SWEEP-2");
        }
    }

    [Fact]
    public void Verify_AcceptsStaleUnsweptEntries_INV_SWEEP_2()
    {
        (MHeap heap, _) = MidSweep();
        using (heap)
        {
            uint sg = heap.SweepGen;
            // A freed span, a swept span and a freshly cached span may all linger in unswept sets.
            heap.Central[10].PartialUnswept(sg).Push(new MSpan { SpanClass = 10 });
            IProcessor q = heap.AcquireP(1);
            nint x = q.Alloc(64);
            nint y = q.Alloc(40_000); // large: born swept, uncached
            q.Release();
            MSpan cached = SpanAt(heap, x), swept = SpanAt(heap, y);
            Assert.Equal(sg + 3, cached.SweepGen);
            Assert.Equal(sg, swept.SweepGen);
            heap.Central[cached.SpanClass].FullUnswept(sg).Push(cached);
            heap.Central[swept.SpanClass].PartialUnswept(sg).Push(swept);
            heap.Verify();
        }
    }

    // ------------------------------------------------------------------ INV-SPAN-2 / 3 / 4

    [Theory]
    [InlineData("small elemsize")]
    [InlineData("small limit")]
    [InlineData("large nelems")]
    [InlineData("large elemsize")]
    [InlineData("large limit at start")]
    [InlineData("large limit past end")]
    public void Verify_DetectsGeometryErrors_INV_SPAN_2(string how) =>
        AssertDetects("INV-SPAN-2", (heap, objs) =>
        {
            MSpan small = SpanAt(heap, objs[^1]), large = SpanAt(heap, objs[3000]);
            switch (how)
            {
                case "small elemsize": small.ElemSize++; break;
                case "small limit": small.Limit++; break;
                case "large nelems": large.NElems = large.AllocCount = 2; break; // still "full"
                case "large elemsize": large.ElemSize--; break;
                case "large limit at start": large.Limit = large.StartAddr; break;
                default: large.Limit = large.End + 1; break;
            }
        });

    [Fact]
    public void Verify_AcceptsALargeLimitAtTheSpanEnd_INV_SPAN_2() =>
        AssertAccepts((heap, objs) =>
        {
            MSpan large = SpanAt(heap, objs[3000]);
            Assert.True(large.Limit < large.End);
            large.Limit = large.End;
        });

    [Fact]
    public void Verify_DetectsAnEmptyUncachedSweptSpan_INV_SPAN_3() =>
        AssertDetects("INV-SPAN-3", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            Assert.Equal(1, s.AllocCount);
            Assert.False(s.IsAllocBitSet(0));
            // Its only object freed (consistently) yet the span still in use.
            s.FreeIndex = 0;
            s.AllocCount = 0;
        });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Verify_DetectsFreeIndexOutOfRange_INV_SPAN_4(bool above) =>
        AssertDetects("INV-SPAN-4", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            s.FreeIndex = above ? s.NElems + 1 : -1;
        });

    [Fact]
    public void Verify_DetectsAnAllocBitBeyondNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            Assert.True(s.NElems < MSpan.GcBitsBytes * 8);
            SetAllocBit(s, s.NElems);
        });

    [Fact]
    public void Verify_DetectsAMarkBitBeyondNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", (heap, objs) =>
        {
            MSpan s = SpanAt(heap, objs[^1]);
            s.SetMarked(s.NElems);
        });

    // ------------------------------------------------------------------ INV-SWEEP-3 / INV-SWEEP-4

    [Fact]
    public void Verify_DetectsAnUnsweptSpanAfterSweepDone_INV_SWEEP_3() =>
        AssertDetects("INV-SWEEP-3", (heap, objs) =>
        {
            MSpan s = PopFlushed(heap, objs);
            s.SweepGen = heap.SweepGen - 2;
            heap.Central[s.SpanClass].PartialUnswept(heap.SweepGen).Push(s);
        });

    [Fact]
    public void Verify_AcceptsAStaleCachedSpanOnceTheSetsAreDrained_INV_SWEEP_3() =>
        AssertAccepts((heap, _) =>
        {
            // The Reference computes sweep done (no sweep-state word to contradict): a P still
            // holding stale spans means the sweep is not done, even with every unswept set drained.
            MCache mc = heap.AllP[0].MCache;
            mc.FlushGen = heap.SweepGen - 2;
            foreach (MSpan? s in mc.Alloc)
            {
                if (s != null)
                    s.SweepGen = heap.SweepGen + 1;
            }
            Assert.False(heap.SweepDone);
        });

    [Fact]
    public void CheckSweepDone_DetectsSweepNotDone_INV_SWEEP_3() =>
        AssertSweepDoneDetects((heap, _) =>
        {
            heap.CheckSweepDone();
            SetSweepCursor(heap, 0); // every P flushed, but sweepone has not found the unswept sets empty
        });

    [Fact]
    public void CheckSweepDone_DetectsAnUnflushedP_INV_SWEEP_3() =>
        AssertSweepDoneDetects((heap, _) => heap.AllP[1].MCache.FlushGen = heap.SweepGen - 2);

    [Theory]
    [InlineData(-2)]
    [InlineData(-1)]
    [InlineData(1)]
    public void CheckSweepDone_DetectsAnUnsweptSpan_INV_SWEEP_3(int delta) =>
        AssertSweepDoneDetects((heap, objs) => SpanAt(heap, objs[^1]).SweepGen = (uint)(heap.SweepGen + delta));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Verify_DetectsDrainedWithUnsweptEntries_INV_SWEEP_4(bool full) =>
        AssertDetects("INV-SWEEP-4", (heap, objs) =>
        {
            Assert.True(heap.SweepDone); // the sweep cursor is past the last class: drained
            // A legal-looking stale entry (the span is swept), but a drained sweep has none.
            MSpan s = SpanAt(heap, full ? objs[3000] : objs[^1]);
            MCentral c = heap.Central[s.SpanClass];
            (full ? c.FullUnswept(heap.SweepGen) : c.PartialUnswept(heap.SweepGen)).Push(s);
        });

    // ------------------------------------------------------------------ INV-STATS-3 / INV-ZERO-1

    [Fact]
    public void Verify_DetectsLargeCountError_INV_STATS_3() =>
        AssertDetects("INV-STATS-3", (heap, _) => heap.Stats.LargeFrees++);

    [Fact]
    public void Verify_AcceptsACompleteCycleWithFrees_INV_STATS_3()
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            heap.StartMark();
            for (int i = 0; i < objs.Count; i += 2)
            {
                if (i != 3000) // the large object dies
                    heap.Mark(objs[i]);
            }
            heap.FinishMark();
            heap.FinishSweep();
            Assert.True(heap.Stats.LargeFrees > 0);
            heap.Verify();
            heap.CheckSweepDone();
        }
    }

    [Theory]
    [InlineData("negative")]
    [InlineData("past the arena")]
    [InlineData("unaligned")]
    public void Verify_DetectsABadZeroedBase_INV_ZERO_1(string how) =>
        AssertDetects("INV-ZERO-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            a.ZeroedBase = how switch
            {
                "negative" => -MallocConstants.PageSize,
                "past the arena" => MallocConstants.HeapArenaBytes + MallocConstants.PageSize,
                _ => a.ZeroedBase + 8,
            };
        });

    [Fact]
    public void Verify_AcceptsZeroedBaseAtTheArenaEnd_INV_ZERO_1() =>
        AssertAccepts((heap, _) => heap.Arenas[0].ZeroedBase = MallocConstants.HeapArenaBytes);

    [Fact]
    public void Verify_DetectsASpanPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            int last = Array.FindLastIndex(a.Spans, s => s != null);
            a.ZeroedBase = (long)last * MallocConstants.PageSize; // one page too low
        });

    [Fact]
    public void Verify_DetectsDirtyLastWordPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            *(long*)(a.Base + (nint)a.ZeroedBase + (nint)MallocConstants.PageSize - 8) = 1;
        });
}
