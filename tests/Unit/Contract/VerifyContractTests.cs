// Verify must fail, naming the right INV id, when a heap's state is corrupted: written once over a
// Site (the internals a corruption reaches into, as each heap keeps them) and run against the
// Reference and the Optimized. Each test breaks exactly one rule of spec/SPEC.md section 3; both
// heaps build a HeapSnapshot and share HeapChecker, so each must name the same id. Tests of a
// mechanism only one heap has stay in tests/Unit/Reference/VerifyTests.cs and
// tests/Unit/Optimized/VerifyTests.cs.
using System.Runtime.InteropServices;
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract unsafe class VerifyContractTests
{
    /// <summary>One span's metadata, as either heap keeps it; Key identifies the span record.</summary>
    internal abstract class SpanRef
    {
        public abstract object Key { get; }
        public abstract nint StartAddr { get; }
        public abstract int NPages { get; }
        public abstract int SpanClass { get; }
        public abstract int NElems { get; set; }
        public abstract int AllocCount { get; set; }
        public abstract int FreeIndex { get; set; }
        public abstract uint SweepGen { get; set; }
        public abstract long ElemSize { get; set; }
        public abstract nint Limit { get; set; }
        public abstract string State { set; }
        public abstract bool IsAllocBitSet(int i);
        public abstract void SetAllocBit(int i);
        public abstract void ClearAllocBits();
        public abstract void SetMarked(int i);
        public nint End => StartAddr + NPages * (nint)MallocConstants.PageSize;
        public bool IsAllocated(int i) => i < FreeIndex || IsAllocBitSet(i);
        public nint ObjectAddress(int i) => StartAddr + (nint)(i * ElemSize);
    }

    /// <summary>A two-P heap and the internals the tests corrupt.</summary>
    internal abstract class Site : IDisposable
    {
        public abstract IHeap Heap { get; }
        public abstract uint Sg { get; }
        public abstract SpanRef SpanOf(nint p);
        /// <summary>An unmapped copy of s's record (freed with the site).</summary>
        public abstract SpanRef Copy(SpanRef s);
        public abstract void Push(SpanRef s, int spc, bool full, bool swept);
        public abstract object? Pop(int spc, bool full, bool swept);
        public abstract void FreePages(nint addr, int npages);
        /// <summary>The span the page map gives for page (null for none).</summary>
        public abstract SpanRef? MapOf(nint page);
        public abstract void Map(nint page, SpanRef? s);
        public abstract void AddStat(string name, long delta);
        public abstract void AddSmallAllocs(int p, int sizeClass, long delta);
        public abstract SpanRef? Cached(int p, int spc);
        public abstract void SetCached(int p, int spc, SpanRef? s);
        public abstract uint FlushGen(int p);
        public abstract void SetFlushGen(int p, uint flushGen);
        public abstract nint Tiny(int p);
        public abstract void SetTiny(int p, nint tiny);
        public abstract void SetTinyOffset(int p, long offset);
        public abstract long ZeroedBase { get; set; }
        public abstract void CheckSweepDone();
        public abstract void Dispose();

        public nint ArenaBase => Heap.ArenaBase;
        public SpanRef FirstCached(int p = 0) =>
            Enumerable.Range(0, MallocConstants.NumSpanClasses).Select(spc => Cached(p, spc)).First(s => s != null)!;
    }

    private protected abstract Site Make(int procs);

    /// <summary>
    /// A heap with cached spans, swept-set spans, a large span (objs[3000]), a tiny block and free
    /// pages; objs[^1] is the only object of a flushed 64-byte span in its partialSwept set.
    /// </summary>
    private (Site Site, List<nint> Objs) Populated()
    {
        Site site = Make(2);
        IProcessor p = site.Heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 3000; i++)
            objs.Add(p.Alloc(16 + i % 300));
        objs.Add(p.Alloc(200_000));
        objs.Add(p.Alloc(3, noscan: true));
        p.Release();
        IProcessor q = site.Heap.AcquireP(1);
        objs.Add(q.Alloc(64));
        q.Flush();
        q.Release();
        site.Heap.Verify(); // the baseline is consistent
        return (site, objs);
    }

    /// <summary>Populated, then one GC cycle with nothing marked: every span unswept, every P unflushed.</summary>
    private (Site Site, List<nint> Objs) MidSweep()
    {
        (Site site, List<nint> objs) = Populated();
        site.Heap.StartMark();
        site.Heap.FinishMark();
        Assert.False(site.Heap.SweepDone);
        site.Heap.Verify(); // mid-sweep is consistent too
        return (site, objs);
    }

    private static void AssertBroken(Action check, string id, string detail = "")
    {
        var e = Assert.Throws<HeapInvariantException>(check);
        Assert.Equal(id, e.InvariantId);
        Assert.StartsWith(id + ":", e.Message);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Builds the populated heap, applies one corruption, and asserts Verify names the broken invariant (and the message contains detail).</summary>
    private void AssertDetects(string id, Action<Site, List<nint>> corrupt) => AssertDetects(id, "", corrupt);

    private void AssertDetects(string id, string detail, Action<Site, List<nint>> corrupt)
    {
        (Site site, List<nint> objs) = Populated();
        using (site)
        {
            corrupt(site, objs);
            AssertBroken(site.Heap.Verify, id, detail);
        }
    }

    /// <summary>Builds the populated heap, applies one legal edit, and asserts Verify still passes.</summary>
    private void AssertAccepts(Action<Site, List<nint>> edit)
    {
        (Site site, List<nint> objs) = Populated();
        using (site)
        {
            edit(site, objs);
            site.Heap.Verify();
        }
    }

    /// <summary>The flushed span of Populated (objs[^1]), taken out of its partialSwept set.</summary>
    private static SpanRef PopFlushed(Site site, List<nint> objs)
    {
        SpanRef s = site.SpanOf(objs[^1]);
        Assert.Equal(s.Key, site.Pop(s.SpanClass, full: false, swept: true));
        return s;
    }

    private static SpanRef Large(Site site, List<nint> objs) => site.SpanOf(objs[3000]);

    /// <summary>An uncached small span whose object count is not a multiple of 64 (so both heaps keep bits past nelems).</summary>
    private static SpanRef UncachedRaggedSpan(Site site)
    {
        var cached = new HashSet<object>();
        for (int p = 0; p < 2; p++)
        {
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
            {
                if (site.Cached(p, spc) is SpanRef c)
                    cached.Add(c.Key);
            }
        }
        for (nint page = site.ArenaBase; ; page += (nint)MallocConstants.PageSize)
        {
            if (site.MapOf(page) is SpanRef s && !cached.Contains(s.Key) && s.SpanClass >= 2 && s.NElems % 64 != 0)
                return s;
        }
    }

    // ------------------------------------------------------------------ one per family

    [Fact]
    public void Verify_DetectsAllocCountMismatch_INV_SPAN_3() =>
        AssertDetects("INV-SPAN-3", (site, objs) => site.SpanOf(objs[0]).AllocCount++);

    [Fact]
    public void Verify_DetectsMarkOnAFreeObject_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "marked but not allocated", (site, objs) => site.SpanOf(objs[^1]).SetMarked(100));

    [Fact]
    public void Verify_DetectsMarkBitsOnASweptSpanOutsideMarking_INV_MARK_1() =>
        AssertDetects("INV-MARK-1", (site, objs) => site.SpanOf(objs[^1]).SetMarked(0));

    [Fact]
    public void Verify_DetectsASpanBeingSweptAtAQuiescentPoint_INV_SWEEP_1() =>
        AssertDetects("INV-SWEEP-1", (site, objs) => site.SpanOf(objs[^1]).SweepGen = site.Sg - 1);

    [Fact]
    public void Verify_DetectsSweepGenTwoAhead_INV_SWEEP_1() =>
        AssertDetects("INV-SWEEP-1", (site, objs) => site.SpanOf(objs[^1]).SweepGen = site.Sg + 2);

    [Fact]
    public void Verify_DetectsASpanInTwoPlaces_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", (site, objs) =>
        {
            SpanRef cached = site.SpanOf(objs[0]);
            site.Push(cached, cached.SpanClass, full: false, swept: true);
        });

    [Fact]
    public void Verify_DetectsALostSpan_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "neither cached nor in any span set", (site, objs) => PopFlushed(site, objs));

    [Fact]
    public void Verify_DetectsBitmapSpanDisagreement_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (site, objs) => site.FreePages(Large(site, objs).StartAddr, 1));

    [Fact]
    public void Verify_DetectsReleasedAccountingError_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", "heap_released=", (site, _) => site.AddStat("HeapReleased", MallocConstants.PageSize));

    [Fact]
    public void Verify_DetectsGeometryError_INV_SPAN_2() =>
        AssertDetects("INV-SPAN-2", "bad geometry", (site, objs) => site.SpanOf(objs[^1]).NElems--);

    [Fact]
    public void Verify_DetectsASpanIndexError_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            site.Map(large.StartAddr + (nint)MallocConstants.PageSize, site.SpanOf(objs[0]));
        });

    [Fact]
    public void Verify_DetectsBadTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tinyoffset", (site, _) => site.SetTinyOffset(0, 17));

    [Fact]
    public void Verify_DetectsHeapInuseError_INV_STATS_2() =>
        AssertDetects("INV-STATS-2", (site, _) => site.AddStat("HeapInuse", MallocConstants.PageSize));

    [Fact]
    public void Verify_DetectsHeapAllocError_INV_STATS_1() =>
        AssertDetects("INV-STATS-1", (site, _) => site.AddSmallAllocs(1, 5, 1));

    [Fact]
    public void Verify_DetectsByClassCountError_INV_STATS_3() =>
        AssertDetects("INV-STATS-3", "class 2:", (site, _) =>
        {
            // Same bytes, wrong class: 2 x 16 B moved to 1 x 32 B keeps heap_alloc but not by_size.
            site.AddSmallAllocs(0, 2, -2);
            site.AddSmallAllocs(0, 4, 1);
        });

    [Fact]
    public void Verify_DetectsDirtyMemoryPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", "is not zero", (site, _) => *(long*)(site.ArenaBase + (nint)site.ZeroedBase) = 1);

    [Fact]
    public void Verify_DetectsDirtyLastWordPastZeroedBase_INV_ZERO_1() =>
        AssertDetects("INV-ZERO-1", "is not zero", (site, _) =>
            *(long*)(site.ArenaBase + (nint)site.ZeroedBase + (nint)MallocConstants.PageSize - 8) = 1);

    [Fact]
    public void Verify_DetectsArenaAccountingError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", "arenas but heap_sys", (site, _) => site.AddStat("HeapSys", MallocConstants.HeapArenaBytes));

    [Fact]
    public void Verify_DetectsArenaCountError_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", "arenas but heap_sys", (site, _) => site.AddStat("Arenas", 1));

    // ------------------------------------------------------------------ INV-SPAN-1

    [Fact]
    public void Verify_DetectsAPageMappedToADeadSpan_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "Dead span", (site, objs) => site.SpanOf(objs[^1]).State = "Dead");

    [Fact]
    public void Verify_DetectsPageMappedToASpanNotInUse_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "Manual span", (site, objs) => site.SpanOf(objs[^1]).State = "Manual");

    private void DetectsPageBeforeTheSpan() =>
        AssertDetects("INV-SPAN-1", "which does not contain it", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            Assert.True(large.StartAddr > site.ArenaBase);
            site.Map(large.StartAddr - (nint)MallocConstants.PageSize, large);
        });

    [Fact]
    public void Verify_DetectsAPageBeforeItsSpan_INV_SPAN_1() => DetectsPageBeforeTheSpan();

    [Fact]
    public void Verify_DetectsPageBelowTheSpanItMapsTo_INV_SPAN_1() => DetectsPageBeforeTheSpan();

    [Fact]
    public void Verify_DetectsThePageAtASpansEndMappedToIt_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "which does not contain it", (site, _) =>
        {
            // A span followed by a page outside any span: map that page (page == End) to it.
            nint page = site.ArenaBase;
            while (site.MapOf(page) == null || site.MapOf(page + (nint)MallocConstants.PageSize) != null)
                page += (nint)MallocConstants.PageSize;
            SpanRef s = site.MapOf(page)!;
            Assert.Equal(s.End, page + (nint)MallocConstants.PageSize);
            site.Map(s.End, s);
        });

    [Fact]
    public void Verify_DetectsPageAtTheSpanEndMappedToIt_INV_SPAN_1() =>
        AssertDetects("INV-SPAN-1", "which does not contain it", (site, objs) => site.Map(Large(site, objs).End, Large(site, objs)));

    private void DetectsAHole() =>
        AssertDetects("INV-SPAN-1", "spanOf(", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            Assert.True(large.NPages > 2);
            site.Map(large.StartAddr + (nint)MallocConstants.PageSize, null);
        });

    [Fact]
    public void Verify_DetectsAHoleInASpansPageMap_INV_SPAN_1() => DetectsAHole();

    [Fact]
    public void Verify_DetectsSpanPageWithNoSpanOf_INV_SPAN_1() => DetectsAHole();

    // ------------------------------------------------------------------ INV-SWEEP-1 (legal values)

    [Fact]
    public void Verify_AcceptsAHeapMidSweep_INV_SWEEP_1()
    {
        (Site site, List<nint> objs) = MidSweep();
        using (site)
        {
            uint sg = site.Sg;
            Assert.Equal(sg - 2, site.SpanOf(objs[^1]).SweepGen); // unswept
            Assert.Equal(sg + 1, site.FirstCached().SweepGen);    // stale cached
            Assert.Equal(sg - 2, site.FlushGen(0));
            // Acquiring P1 flushes it; a new allocation caches a span at sg+3.
            IProcessor q = site.Heap.AcquireP(1);
            nint x = q.Alloc(64);
            q.Release();
            Assert.Equal(sg + 3, site.SpanOf(x).SweepGen);
            site.Heap.Verify();
            site.Heap.FinishSweep();
            site.Heap.Verify();
        }
    }

    // ------------------------------------------------------------------ mcache (INV-CACHE-1, INV-SWEEP-2)

    [Fact]
    public void Verify_DetectsABadFlushGen_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P1 flushGen", (site, _) => site.SetFlushGen(1, site.Sg - 1));

    [Fact]
    public void Verify_DetectsBadFlushGen_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P1 flushGen", (site, _) => site.SetFlushGen(1, site.Sg + 2));

    [Fact]
    public void Verify_DetectsASlotHoldingAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P0 slot", (site, _) =>
        {
            SpanRef s = site.FirstCached();
            int empty = Enumerable.Range(0, MallocConstants.NumSpanClasses).First(spc => site.Cached(0, spc) == null);
            site.SetCached(0, s.SpanClass, null);
            site.SetCached(0, empty, s);
        });

    [Fact]
    public void Verify_DetectsSlotHoldingAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "P1 slot", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[0]);
            Assert.Equal(s.Key, site.Cached(0, s.SpanClass)!.Key);
            site.SetCached(1, s.SpanClass + 2, s);
        });

    private void DetectsASlotHoldingADeadSpan() =>
        AssertDetects("INV-CACHE-1", "P1 slot", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[0]);
            SpanRef fake = site.Copy(s);
            fake.State = "Dead";
            site.SetCached(1, s.SpanClass, fake); // right class, dead record
        });

    [Fact]
    public void Verify_DetectsASlotHoldingADeadSpan_INV_CACHE_1() => DetectsASlotHoldingADeadSpan();

    [Fact]
    public void Verify_DetectsSlotHoldingADeadSpan_INV_CACHE_1() => DetectsASlotHoldingADeadSpan();

    [Fact]
    public void Verify_DetectsACachedSpanWithTheWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "expected", (site, _) => site.FirstCached().SweepGen = site.Sg); // swept, but a cached span must be sg+3

    [Fact]
    public void Verify_DetectsCachedSpanWithWrongSweepGen_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "expected", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[0]);
            Assert.Equal(site.Sg + 3, s.SweepGen);
            s.SweepGen = site.Sg + 1; // valid for INV-SWEEP-1, wrong for a P flushed this cycle
        });

    [Fact]
    public void Verify_DetectsCachedSpanWithWrongSweepGenForAStaleP_INV_SWEEP_2() =>
        AssertDetects("INV-SWEEP-2", "expected", (site, objs) =>
        {
            site.Heap.StartMark();
            site.Heap.FinishMark();
            site.Heap.Verify();
            SpanRef s = site.SpanOf(objs[0]);
            Assert.Equal(site.Sg - 2, site.FlushGen(0));
            Assert.Equal(site.Sg + 1, s.SweepGen);
            s.SweepGen = site.Sg + 3; // right only for a P flushed this cycle
        });

    private void DetectsASpanCachedByTwoPs() =>
        AssertDetects("INV-SWEEP-2", "cached by two Ps", (site, _) =>
        {
            SpanRef s = site.FirstCached();
            Assert.Null(site.Cached(1, s.SpanClass));
            site.SetCached(1, s.SpanClass, s);
        });

    [Fact]
    public void Verify_DetectsASpanCachedByTwoPs_INV_SWEEP_2() => DetectsASpanCachedByTwoPs();

    [Fact]
    public void Verify_DetectsSpanCachedByTwoPs_INV_SWEEP_2() => DetectsASpanCachedByTwoPs();

    [Fact]
    public void Verify_DetectsANegativeTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tinyoffset", (site, _) => site.SetTinyOffset(0, -1));

    [Fact]
    public void Verify_DetectsNegativeTinyOffset_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tinyoffset", (site, _) => site.SetTinyOffset(0, -1));

    [Fact]
    public void Verify_AcceptsAFullTinyBlock_INV_CACHE_1() =>
        AssertAccepts((site, _) => site.SetTinyOffset(0, SizeClasses.MaxTinySize)); // the boundary is legal

    [Theory]
    [InlineData("outside the heap")]
    [InlineData("wrong class")]
    [InlineData("misaligned")]
    [InlineData("free")]
    public void Verify_DetectsABadTinyBlock_INV_CACHE_1(string how) =>
        AssertDetects("INV-CACHE-1", "tiny block", (site, objs) =>
        {
            nint tiny = site.Tiny(0);
            Assert.NotEqual(0, tiny);
            SpanRef ts = site.SpanOf(tiny);
            Assert.Equal(MallocConstants.TinySpanClass, ts.SpanClass);
            site.SetTiny(0, how switch
            {
                "outside the heap" => site.Heap.ZeroBase,
                "wrong class" => objs[0], // an allocated, aligned 16-byte object of a scan class
                "misaligned" => tiny + 8,
                _ => ts.ObjectAddress(Enumerable.Range(0, ts.NElems).First(i => !ts.IsAllocated(i))),
            });
        });

    [Fact]
    public void Verify_DetectsTinyBlockOutsideTheHeap_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (site, _) => site.SetTiny(0, 64));

    [Fact]
    public void Verify_DetectsTinyBlockInAnotherClass_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (site, objs) => site.SetTiny(0, objs[0]));

    [Fact]
    public void Verify_DetectsMisalignedTinyBlock_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (site, _) => site.SetTiny(0, site.Tiny(0) + 8));

    [Fact]
    public void Verify_DetectsTinyBlockNotAllocated_INV_CACHE_1() =>
        AssertDetects("INV-CACHE-1", "tiny block", (site, _) =>
        {
            SpanRef ts = site.SpanOf(site.Tiny(0));
            Assert.False(ts.IsAllocated(ts.FreeIndex));
            site.SetTiny(0, ts.ObjectAddress(ts.FreeIndex)); // the first free object
        });

    // ------------------------------------------------------------------ span sets (INV-SWEEP-2)

    private void DetectsADeadRecordInASweptSet() =>
        AssertDetects("INV-SWEEP-2", "dead span record", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[^1]);
            site.Push(site.Copy(s), s.SpanClass, full: false, swept: true); // an in-use looking record no page maps to
        });

    [Fact]
    public void Verify_DetectsADeadSpanInASweptSet_INV_SWEEP_2() => DetectsADeadRecordInASweptSet();

    [Fact]
    public void Verify_DetectsDeadRecordInASweptSet_INV_SWEEP_2() => DetectsADeadRecordInASweptSet();

    private void DetectsASpanInAnotherClassSet(int otherClass) =>
        AssertDetects("INV-SWEEP-2", "of another class", (site, objs) =>
        {
            SpanRef s = PopFlushed(site, objs);
            site.Push(s, otherClass == 0 ? s.SpanClass ^ 1 : s.SpanClass + 2, full: false, swept: true);
        });

    [Fact]
    public void Verify_DetectsASpanInAnotherClassSet_INV_SWEEP_2() => DetectsASpanInAnotherClassSet(0);

    [Fact]
    public void Verify_DetectsSpanInAnotherClassSet_INV_SWEEP_2() => DetectsASpanInAnotherClassSet(1);

    private void DetectsASweptSetEntryWithTheWrongSweepGen() =>
        AssertDetects("INV-SWEEP-2", "with sweepgen", (site, objs) =>
            site.SpanOf(objs[^1]).SweepGen = site.Sg + 3); // legal by INV-SWEEP-1, wrong in a swept set

    [Fact]
    public void Verify_DetectsASweptSetEntryWithTheWrongSweepGen_INV_SWEEP_2() => DetectsASweptSetEntryWithTheWrongSweepGen();

    [Fact]
    public void Verify_DetectsSweptSetEntryWithWrongSweepGen_INV_SWEEP_2() => DetectsASweptSetEntryWithTheWrongSweepGen();

    private void DetectsAPartialSpanInTheFullSet() =>
        AssertDetects("INV-SWEEP-2", ".fullSwept holds", (site, objs) =>
        {
            SpanRef s = PopFlushed(site, objs);
            Assert.True(s.AllocCount < s.NElems);
            site.Push(s, s.SpanClass, full: true, swept: true);
        });

    [Fact]
    public void Verify_DetectsAPartialSpanInTheFullSet_INV_SWEEP_2() => DetectsAPartialSpanInTheFullSet();

    [Fact]
    public void Verify_DetectsPartialSpanInAFullSet_INV_SWEEP_2() => DetectsAPartialSpanInTheFullSet();

    private void DetectsAFullSpanInThePartialSet() =>
        AssertDetects("INV-SWEEP-2", ".partialSwept holds", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            Assert.Equal(large.Key, site.Pop(large.SpanClass, full: true, swept: true));
            Assert.Equal(large.NElems, large.AllocCount);
            site.Push(large, large.SpanClass, full: false, swept: true);
        });

    [Fact]
    public void Verify_DetectsAFullSpanInThePartialSet_INV_SWEEP_2() => DetectsAFullSpanInThePartialSet();

    [Fact]
    public void Verify_DetectsFullSpanInAPartialSet_INV_SWEEP_2() => DetectsAFullSpanInThePartialSet();

    private void DetectsASpanTwiceInASet() =>
        AssertDetects("INV-SWEEP-2", "is in mcentral", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[^1]);
            site.Push(s, s.SpanClass, full: false, swept: true);
        });

    [Fact]
    public void Verify_DetectsASpanTwiceInASet_INV_SWEEP_2() => DetectsASpanTwiceInASet();

    [Fact]
    public void Verify_DetectsSpanTwiceInASet_INV_SWEEP_2() => DetectsASpanTwiceInASet();

    [Fact]
    public void Verify_DetectsAStaleUnsweptEntryOfACachedSpan_INV_SWEEP_2()
    {
        (Site site, _) = MidSweep();
        using (site)
        {
            SpanRef s = site.FirstCached(); // sg+1: stale cached, not swept
            site.Push(s, s.SpanClass, full: false, swept: false);
            AssertBroken(site.Heap.Verify, "INV-SWEEP-2", "stale entry");
        }
    }

    private void AcceptsStaleUnsweptEntries()
    {
        (Site site, List<nint> objs) = MidSweep();
        using (site)
        {
            uint sg = site.Sg;
            // A freed span, a swept span and a freshly cached span may all linger in unswept sets.
            SpanRef dead = site.Copy(site.SpanOf(objs[^1]));
            dead.State = "Dead";
            site.Push(dead, dead.SpanClass, full: false, swept: false);
            IProcessor q = site.Heap.AcquireP(1);
            nint x = q.Alloc(64);
            nint y = q.Alloc(40_000); // large: born swept, uncached
            q.Release();
            SpanRef cached = site.SpanOf(x), swept = site.SpanOf(y);
            Assert.Equal(sg + 3, cached.SweepGen);
            Assert.Equal(sg, swept.SweepGen);
            site.Push(cached, cached.SpanClass, full: true, swept: false);
            site.Push(swept, swept.SpanClass, full: false, swept: false);
            site.Heap.Verify();
        }
    }

    [Fact]
    public void Verify_AcceptsStaleUnsweptEntries_INV_SWEEP_2() => AcceptsStaleUnsweptEntries();

    [Fact]
    public void Verify_AcceptsStaleEntriesInUnsweptSets_INV_SWEEP_2() => AcceptsStaleUnsweptEntries();

    // ------------------------------------------------------------------ INV-SPAN-2 / 3 / 4

    [Theory]
    [InlineData("small elemsize")]
    [InlineData("small limit")]
    [InlineData("large nelems")]
    [InlineData("large elemsize")]
    [InlineData("large limit at start")]
    [InlineData("large limit past end")]
    public void Verify_DetectsGeometryErrors_INV_SPAN_2(string how) =>
        AssertDetects("INV-SPAN-2", "geometry", (site, objs) =>
        {
            SpanRef small = site.SpanOf(objs[^1]), large = Large(site, objs);
            switch (how)
            {
                case "small elemsize": small.ElemSize++; break;
                case "small limit": small.Limit++; break;
                case "large nelems": large.NElems = large.AllocCount = 2; break; // still "full"
                case "large elemsize": large.ElemSize -= 8; break;
                case "large limit at start": large.Limit = large.StartAddr; break;
                default: large.Limit = large.End + 1; break;
            }
        });

    [Theory]
    [InlineData("NElems")]
    [InlineData("ElemSize")]
    [InlineData("LimitAtStart")]
    [InlineData("LimitPastEnd")]
    public void Verify_DetectsLargeGeometryError_INV_SPAN_2(string field) =>
        AssertDetects("INV-SPAN-2", "bad large geometry", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            switch (field)
            {
                case "NElems": large.NElems = 2; large.AllocCount = 2; break; // still full (INV-SWEEP-2 holds)
                case "ElemSize": large.ElemSize -= 8; break;
                case "LimitAtStart": large.Limit = large.StartAddr; break;
                default: large.Limit = large.End + 1; break;
            }
        });

    [Fact]
    public void Verify_AcceptsALargeLimitAtTheSpanEnd_INV_SPAN_2() =>
        AssertAccepts((site, objs) =>
        {
            SpanRef large = Large(site, objs);
            Assert.True(large.Limit < large.End);
            large.Limit = large.End;
        });

    private void DetectsAnEmptyUncachedSweptSpan() =>
        AssertDetects("INV-SPAN-3", "uncached swept", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[^1]);
            Assert.Equal(1, s.AllocCount);
            // Its only object freed (consistently) yet the span still in use.
            s.ClearAllocBits();
            s.FreeIndex = 0;
            s.AllocCount = 0;
        });

    [Fact]
    public void Verify_DetectsAnEmptyUncachedSweptSpan_INV_SPAN_3() => DetectsAnEmptyUncachedSweptSpan();

    [Fact]
    public void Verify_DetectsEmptyUncachedSweptSpan_INV_SPAN_3() => DetectsAnEmptyUncachedSweptSpan();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Verify_DetectsFreeIndexOutOfRange_INV_SPAN_4(bool above) =>
        AssertDetects("INV-SPAN-4", "freeindex out of range", (site, objs) =>
        {
            SpanRef s = site.SpanOf(objs[^1]);
            s.FreeIndex = above ? s.NElems + 1 : -1;
        });

    [Fact]
    public void Verify_DetectsFreeIndexPastNElems_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "freeindex out of range", (site, objs) => site.SpanOf(objs[^1]).FreeIndex = site.SpanOf(objs[^1]).NElems + 1);

    [Fact]
    public void Verify_DetectsNegativeFreeIndex_INV_SPAN_4() =>
        AssertDetects("INV-SPAN-4", "freeindex out of range", (site, objs) => site.SpanOf(objs[^1]).FreeIndex = -1);

    private void DetectsABitBeyondNElems(bool mark) =>
        AssertDetects("INV-SPAN-4", "beyond nelems", (site, objs) =>
        {
            SpanRef s = UncachedRaggedSpan(site);
            if (mark)
                s.SetMarked(s.NElems);
            else
                s.SetAllocBit(s.NElems);
        });

    [Fact]
    public void Verify_DetectsAnAllocBitBeyondNElems_INV_SPAN_4() => DetectsABitBeyondNElems(mark: false);

    [Fact]
    public void Verify_DetectsAllocBitBeyondNElems_INV_SPAN_4() => DetectsABitBeyondNElems(mark: false);

    [Fact]
    public void Verify_DetectsAMarkBitBeyondNElems_INV_SPAN_4() => DetectsABitBeyondNElems(mark: true);

    [Fact]
    public void Verify_DetectsMarkBitBeyondNElems_INV_SPAN_4() => DetectsABitBeyondNElems(mark: true);

    // ------------------------------------------------------------------ INV-SWEEP-3

    private void DetectsAnUnsweptSpanAfterSweepDone() =>
        AssertDetects("INV-SWEEP-3", "is unswept", (site, objs) =>
        {
            SpanRef s = PopFlushed(site, objs);
            s.SweepGen = site.Sg - 2;
            site.Push(s, s.SpanClass, full: false, swept: false);
        });

    [Fact]
    public void Verify_DetectsAnUnsweptSpanAfterSweepDone_INV_SWEEP_3() => DetectsAnUnsweptSpanAfterSweepDone();

    [Fact]
    public void Verify_DetectsUnsweptSpanAfterSweepDone_INV_SWEEP_3() => DetectsAnUnsweptSpanAfterSweepDone();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Verify_DetectsDrainedWithUnsweptEntries_INV_SWEEP_4(bool full) =>
        AssertDetects("INV-SWEEP-4", "still has unswept spans", (site, objs) =>
        {
            Assert.True(site.Heap.SweepDone); // drained: every unswept set was found empty
            // A legal-looking stale entry (the span is swept), but a drained sweep has none.
            SpanRef s = full ? Large(site, objs) : site.SpanOf(objs[^1]);
            site.Push(s, s.SpanClass, full, swept: false);
        });

    // ------------------------------------------------------------------ INV-STATS-3 / INV-ZERO-1

    private void DetectsALargeCountError() =>
        AssertDetects("INV-STATS-3", "large:", (site, _) => site.AddStat("LargeFrees", 1));

    [Fact]
    public void Verify_DetectsLargeCountError_INV_STATS_3() => DetectsALargeCountError();

    [Fact]
    public void Verify_DetectsLargeObjectCountMismatch_INV_STATS_3() => DetectsALargeCountError();

    [Fact]
    public void Verify_AcceptsACompleteCycleWithFrees_INV_STATS_3()
    {
        (Site site, List<nint> objs) = Populated();
        using (site)
        {
            site.Heap.StartMark();
            for (int i = 0; i < objs.Count; i += 2)
            {
                if (i != 3000) // the large object dies
                    site.Heap.Mark(objs[i]);
            }
            site.Heap.FinishMark();
            site.Heap.FinishSweep();
            Assert.True(site.Heap.ReadStats().LargeFrees > 0);
            site.Heap.Verify();
        }
    }

    [Theory]
    [InlineData("negative")]
    [InlineData("past the arena")]
    [InlineData("unaligned")]
    public void Verify_DetectsABadZeroedBase_INV_ZERO_1(string how) =>
        AssertDetects("INV-ZERO-1", "zeroedBase", (site, _) => site.ZeroedBase = how switch
        {
            "negative" => -MallocConstants.PageSize,
            "past the arena" => MallocConstants.HeapArenaBytes + MallocConstants.PageSize,
            _ => site.ZeroedBase + 8,
        });

    [Theory]
    [InlineData(-(long)MallocConstants.PageSize)]
    [InlineData(MallocConstants.HeapArenaBytes + MallocConstants.PageSize)]
    [InlineData(8)]
    public void Verify_DetectsBadZeroedBase_INV_ZERO_1(long zb) =>
        AssertDetects("INV-ZERO-1", "zeroedBase", (site, _) => site.ZeroedBase = zb == 8 ? site.ZeroedBase + 8 : zb);

    [Fact]
    public void Verify_AcceptsZeroedBaseAtTheArenaEnd_INV_ZERO_1() =>
        AssertAccepts((site, _) => site.ZeroedBase = MallocConstants.HeapArenaBytes);

    private void DetectsASpanPastZeroedBase() =>
        AssertDetects("INV-ZERO-1", "is in a span", (site, objs) =>
        {
            SpanRef large = Large(site, objs);
            site.ZeroedBase = large.End - (nint)MallocConstants.PageSize - site.ArenaBase; // the span's last page is past it
        });

    [Fact]
    public void Verify_DetectsASpanPastZeroedBase_INV_ZERO_1() => DetectsASpanPastZeroedBase();

    [Fact]
    public void Verify_DetectsSpanPastZeroedBase_INV_ZERO_1() => DetectsASpanPastZeroedBase();

    // ------------------------------------------------------------------ CheckSweepDone (INV-SWEEP-3)

    private void AssertSweepDoneDetects(string detail, Action<Site, List<nint>> corrupt)
    {
        (Site site, List<nint> objs) = Populated();
        using (site)
        {
            corrupt(site, objs);
            AssertBroken(site.CheckSweepDone, "INV-SWEEP-3", detail);
        }
    }

    [Fact]
    public void CheckSweepDone_AcceptsACompletedSweep_INV_SWEEP_3()
    {
        (Site site, _) = MidSweep();
        using (site)
        {
            site.Heap.FinishSweep();
            site.CheckSweepDone();
        }
    }

    [Fact]
    public void CheckSweepDone_DetectsAnUnflushedP_INV_SWEEP_3() =>
        AssertSweepDoneDetects("P1 is not flushed", (site, _) => site.SetFlushGen(1, site.Sg - 2));

    [Fact]
    public void CheckSweepDone_DetectsUnflushedP_INV_SWEEP_3() =>
        AssertSweepDoneDetects("P1 is not flushed", (site, _) => site.SetFlushGen(1, site.Sg - 2));

    [Theory]
    [InlineData(-2)]
    [InlineData(-1)]
    [InlineData(1)]
    public void CheckSweepDone_DetectsAnUnsweptSpan_INV_SWEEP_3(int delta) =>
        AssertSweepDoneDetects("has sweepgen", (site, objs) => site.SpanOf(objs[^1]).SweepGen = (uint)(site.Sg + delta));

    [Theory]
    [InlineData(-2)]
    [InlineData(-1)]
    [InlineData(1)]
    public void CheckSweepDone_DetectsUnsweptSpan_INV_SWEEP_3(int delta) =>
        AssertSweepDoneDetects("has sweepgen", (site, objs) => site.SpanOf(objs[^1]).SweepGen = (uint)(site.Sg + delta));
}

public sealed class ReferenceVerifyContractTests : VerifyContractTests
{
    private protected override Site Make(int procs) => new ReferenceSite(procs);

    private sealed unsafe class ReferenceSpan(GoAlloc.Reference.MSpan s) : SpanRef
    {
        public GoAlloc.Reference.MSpan Span => s;
        public override object Key => s;
        public override nint StartAddr => s.StartAddr;
        public override int NPages => s.NPages;
        public override int SpanClass => s.SpanClass;
        public override int NElems { get => s.NElems; set => s.NElems = value; }
        public override int AllocCount { get => s.AllocCount; set => s.AllocCount = value; }
        public override int FreeIndex { get => s.FreeIndex; set => s.FreeIndex = value; }
        public override uint SweepGen { get => s.SweepGen; set => s.SweepGen = value; }
        public override long ElemSize { get => s.ElemSize; set => s.ElemSize = value; }
        public override nint Limit { get => s.Limit; set => s.Limit = value; }
        public override string State { set => s.State = Enum.Parse<GoAlloc.Reference.SpanState>(value); }
        public override bool IsAllocBitSet(int i) => s.IsAllocBitSet(i);
        public override void SetAllocBit(int i) => s.AllocBits[i >> 3] |= (byte)(1 << (i & 7));
        public override void ClearAllocBits() => new Span<byte>(s.AllocBits, GoAlloc.Reference.MSpan.GcBitsBytes).Clear();
        public override void SetMarked(int i) => s.SetMarked(i);
    }

    private sealed class ReferenceSite : Site
    {
        private readonly GoAlloc.Reference.MHeap _heap;
        public ReferenceSite(int procs) => _heap = new GoAlloc.Reference.MHeap(new HeapOptions { Procs = procs });
        private static ReferenceSpan? Ref(GoAlloc.Reference.MSpan? s) => s == null ? null : new ReferenceSpan(s);
        private static GoAlloc.Reference.MSpan? Of(SpanRef? s) => ((ReferenceSpan?)s)?.Span;
        private GoAlloc.Reference.SpanSet Set(int spc, bool full, bool swept)
        {
            GoAlloc.Reference.MCentral c = _heap.Central[spc];
            return (full, swept) switch
            {
                (false, true) => c.PartialSwept(Sg),
                (false, false) => c.PartialUnswept(Sg),
                (true, true) => c.FullSwept(Sg),
                _ => c.FullUnswept(Sg),
            };
        }

        public override IHeap Heap => _heap;
        public override uint Sg => _heap.SweepGen;
        public override SpanRef SpanOf(nint p) => new ReferenceSpan(_heap.SpanOf(p)!);
        public override SpanRef Copy(SpanRef s)
        {
            GoAlloc.Reference.MSpan o = Of(s)!;
            return new ReferenceSpan(new GoAlloc.Reference.MSpan
            {
                StartAddr = o.StartAddr,
                NPages = o.NPages,
                SpanClass = o.SpanClass,
                ElemSize = o.ElemSize,
                NElems = o.NElems,
                Limit = o.Limit,
                AllocCount = o.AllocCount,
                FreeIndex = o.FreeIndex,
                SweepGen = o.SweepGen,
                State = o.State,
            });
        }
        public override void Push(SpanRef s, int spc, bool full, bool swept) => Set(spc, full, swept).Push(Of(s)!);
        public override object? Pop(int spc, bool full, bool swept) => Set(spc, full, swept).Pop();
        public override void FreePages(nint addr, int npages) => _heap.Pages.Free(addr, npages);
        public override SpanRef? MapOf(nint page) => Ref(_heap.SpanOf(page));
        public override void Map(nint page, SpanRef? s)
        {
            GoAlloc.Reference.HeapArena a = _heap.ArenaOf(page)!;
            a.Spans[a.PageIndex(page)] = Of(s);
        }
        public override void AddStat(string name, long delta)
        {
            GoAlloc.Reference.MemStats st = _heap.Stats;
            switch (name)
            {
                case "HeapReleased": st.HeapReleased += delta; break;
                case "HeapInuse": st.HeapInuse += delta; break;
                case "HeapSys": st.HeapSys += delta; break;
                case "Arenas": st.Arenas += delta; break;
                case "LargeFrees": st.LargeFrees += delta; break;
                default: throw new ArgumentException(name);
            }
        }
        public override void AddSmallAllocs(int p, int sizeClass, long delta) => _heap.AllP[p].MCache.NSmallAlloc[sizeClass] += delta;
        public override SpanRef? Cached(int p, int spc) => Ref(_heap.AllP[p].MCache.Alloc[spc]);
        public override void SetCached(int p, int spc, SpanRef? s) => _heap.AllP[p].MCache.Alloc[spc] = Of(s);
        public override uint FlushGen(int p) => _heap.AllP[p].MCache.FlushGen;
        public override void SetFlushGen(int p, uint flushGen) => _heap.AllP[p].MCache.FlushGen = flushGen;
        public override nint Tiny(int p) => _heap.AllP[p].MCache.Tiny;
        public override void SetTiny(int p, nint tiny) => _heap.AllP[p].MCache.Tiny = tiny;
        public override void SetTinyOffset(int p, long offset) => _heap.AllP[p].MCache.TinyOffset = offset;
        public override long ZeroedBase { get => _heap.Arenas[0].ZeroedBase; set => _heap.Arenas[0].ZeroedBase = value; }
        public override void CheckSweepDone() => _heap.CheckSweepDone();
        public override void Dispose() => _heap.Dispose();
    }
}

public sealed class OptimizedVerifyContractTests : VerifyContractTests
{
    private protected override Site Make(int procs) => new OptimizedSite(procs);

    private sealed unsafe class OptimizedSpan(GoAlloc.Optimized.MSpan* s) : SpanRef
    {
        public GoAlloc.Optimized.MSpan* Span => s;
        public override object Key => (nint)s;
        public override nint StartAddr => s->StartAddr;
        public override int NPages => s->NPages;
        public override int SpanClass => s->SpanClass;
        public override int NElems { get => s->NElems; set => s->NElems = value; }
        public override int AllocCount { get => s->AllocCount; set => s->AllocCount = value; }
        public override int FreeIndex { get => s->FreeIndex; set => s->FreeIndex = value; }
        public override uint SweepGen { get => s->SweepGen; set => s->SweepGen = value; }
        public override long ElemSize { get => s->ElemSize; set => s->ElemSize = value; }
        public override nint Limit { get => s->Limit; set => s->Limit = value; }
        public override string State { set => s->State = (int)Enum.Parse<GoAlloc.Optimized.SpanState>(value); }
        public override bool IsAllocBitSet(int i) => s->IsAllocBitSet(i);
        public override void SetAllocBit(int i) => s->AllocBits[i >> 3] |= (byte)(1 << (i & 7));
        public override void ClearAllocBits() => new Span<byte>(s->AllocBits, (s->NElems + 63) / 64 * 8).Clear();
        public override void SetMarked(int i) => s->SetMarked(i);
    }

    private sealed unsafe class OptimizedSite : Site
    {
        private readonly GoAlloc.Optimized.MHeap _heap;
        private readonly List<nint> _copies = [];
        public OptimizedSite(int procs) => _heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = procs });
        private OptimizedSpan? Ref(GoAlloc.Optimized.MSpan* s) => s == null || s == _heap.EmptySpan ? null : new OptimizedSpan(s);
        private GoAlloc.Optimized.MSpan* Of(SpanRef? s) => s == null ? _heap.EmptySpan : ((OptimizedSpan)s).Span;
        private GoAlloc.Optimized.SpanSet Set(int spc, bool full, bool swept)
        {
            GoAlloc.Optimized.MCentral c = _heap.Central[spc];
            return (full, swept) switch
            {
                (false, true) => c.PartialSwept(Sg),
                (false, false) => c.PartialUnswept(Sg),
                (true, true) => c.FullSwept(Sg),
                _ => c.FullUnswept(Sg),
            };
        }
        private GoAlloc.Optimized.MCache* Mc(int p) => _heap.AllP[p].MCache;

        public override IHeap Heap => _heap;
        public override uint Sg => _heap.SweepGen;
        public override SpanRef SpanOf(nint p) => new OptimizedSpan(_heap.SpanOf(p));
        public override SpanRef Copy(SpanRef s)
        {
            var fake = (GoAlloc.Optimized.MSpan*)NativeMemory.AllocZeroed((nuint)sizeof(GoAlloc.Optimized.MSpan));
            _copies.Add((nint)fake);
            *fake = *((OptimizedSpan)s).Span;
            return new OptimizedSpan(fake);
        }
        public override void Push(SpanRef s, int spc, bool full, bool swept) => Set(spc, full, swept).Push((nint)Of(s));
        public override object? Pop(int spc, bool full, bool swept) => Set(spc, full, swept).Pop() is var s and not 0 ? s : null;
        public override void FreePages(nint addr, int npages) => _heap.Pages.Free(addr, npages);
        public override SpanRef? MapOf(nint page) => Ref(_heap.SpanOf(page));
        public override void Map(nint page, SpanRef? s)
        {
            GoAlloc.Optimized.HeapArena* a = _heap.ArenaOf(page);
            a->Spans[(int)((page - a->Base) >> MallocConstants.PageShift)] = s == null ? 0 : (long)((OptimizedSpan)s).Span;
        }
        public override void AddStat(string name, long delta)
        {
            GoAlloc.Optimized.MemStats st = _heap.Stats;
            switch (name)
            {
                case "HeapReleased": st.HeapReleased += delta; break;
                case "HeapInuse": st.HeapInuse += delta; break;
                case "HeapSys": st.HeapSys += delta; break;
                case "Arenas": st.Arenas += delta; break;
                case "LargeFrees": st.LargeFrees += delta; break;
                default: throw new ArgumentException(name);
            }
        }
        public override void AddSmallAllocs(int p, int sizeClass, long delta) => Mc(p)->SmallAllocCount[sizeClass] += delta;
        public override SpanRef? Cached(int p, int spc) => Ref(Mc(p)->Span(spc));
        public override void SetCached(int p, int spc, SpanRef? s) => Mc(p)->Alloc[spc] = (long)Of(s);
        public override uint FlushGen(int p) => Mc(p)->FlushGen;
        public override void SetFlushGen(int p, uint flushGen) => Mc(p)->FlushGen = flushGen;
        public override nint Tiny(int p) => Mc(p)->Tiny;
        public override void SetTiny(int p, nint tiny) => Mc(p)->Tiny = tiny;
        public override void SetTinyOffset(int p, long offset) => Mc(p)->TinyOffset = offset;
        public override long ZeroedBase { get => _heap.ArenaOf(_heap.ArenaBase)->ZeroedBase; set => _heap.ArenaOf(_heap.ArenaBase)->ZeroedBase = value; }
        public override void CheckSweepDone() => _heap.CheckSweepDone();
        public override void Dispose()
        {
            _heap.Dispose();
            foreach (nint c in _copies)
                NativeMemory.Free((void*)c);
        }
    }
}
