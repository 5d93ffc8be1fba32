// End-to-end tests of the IHeap contract, written once and run against every allocator
// (ReferenceHeapTests today; the Optimized allocator derives the same class). Each test is named
// after the spec invariant (INV-*) or Go behaviour it checks.
using System.Runtime.InteropServices;
using GoAlloc.Model;
using GoAlloc.Tests.Helpers;
using Xunit;
using static GoAlloc.Tests.Contract.HeapTestUtil;

namespace GoAlloc.Tests.Contract;

public abstract unsafe class HeapContractTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    private static readonly long[] s_sizes = BuildSizes();

    /// <summary>Every class size, its neighbours, tiny sizes and large sizes around the 32 KiB boundary.</summary>
    private static long[] BuildSizes()
    {
        var sizes = new SortedSet<long> { 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 1016, 1017, 1024, 1025, 32767, 32768, 32769, 40000, 65536, 100000, 131073, 1 << 20 };
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            sizes.Add(SizeClasses.ClassToSize[c]);
            sizes.Add(SizeClasses.ClassToSize[c] - 1);
        }
        return [.. sizes];
    }

    [Fact]
    public void INV_OBJ_1_ObjectsNeverOverlapAcrossEveryClass()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        var objs = new List<(nint Addr, long Size)>();
        for (int round = 0; round < 3; round++)
        {
            foreach (long size in s_sizes)
            {
                foreach (bool noscan in new[] { false, true })
                {
                    nint a = p.Alloc(size, noscan);
                    objs.Add((a, size));
                    Assert.True(heap.FindObject(a, out ObjectInfo info), $"FindObject(0x{a:x}) for size {size}");
                    Assert.True(info.Allocated);
                    Assert.True(info.Size >= size);
                    Assert.True(a >= info.Base && a + size <= info.Base + info.Size);
                }
            }
        }
        p.Release();
        objs.Sort((x, y) => x.Addr.CompareTo(y.Addr));
        for (int i = 1; i < objs.Count; i++)
            Assert.True(objs[i - 1].Addr + objs[i - 1].Size <= objs[i].Addr, $"0x{objs[i - 1].Addr:x}+{objs[i - 1].Size} overlaps 0x{objs[i].Addr:x}");
        heap.Verify();
    }

    [Fact]
    public void Alloc_ZeroSizeReturnsZeroBaseOutsideTheHeap()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint z = p.Alloc(0);
        Assert.Equal(heap.ZeroBase, z);
        Assert.Equal(z, p.Alloc(0, noscan: true));
        Assert.False(heap.FindObject(z, out _));
        p.Release();
        Assert.Equal(0, heap.ReadStats().Mallocs);
    }

    [Fact]
    public void FindObject_ResolvesInteriorPointersToTheObjectBase()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint small = p.Alloc(100);      // class 112
        nint large = p.Alloc(100_000);  // 13 pages
        nint largeNoscan = p.Alloc(40_000, noscan: true); // 5 pages, span class 1 (Go's makeSpanClass(0, true))
        p.Release();
        Assert.True(heap.FindObject(small + 111, out ObjectInfo si));
        Assert.Equal(small, si.Base);
        Assert.Equal(112, si.Size);
        Assert.Equal(SpanClass.Make(9, noscan: false), si.SpanClass);
        Assert.True(heap.FindObject(large + 99_999, out ObjectInfo li));
        Assert.Equal(large, li.Base);
        Assert.Equal(13 * MallocConstants.PageSize, li.Size);
        Assert.Equal(0, li.SpanClass);
        Assert.True(heap.FindObject(largeNoscan, out ObjectInfo ni));
        Assert.Equal(SpanClass.Make(0, noscan: true), ni.SpanClass);
        Assert.Equal(5 * MallocConstants.PageSize, ni.Size);
        Assert.False(heap.FindObject(large + 100_000, out _)); // past the requested size: Go's s.limit
        Assert.False(heap.FindObject(heap.ArenaBase - 1, out _));
        Assert.False(heap.FindObject(1, out _));
        heap.Verify();
    }

    /// <summary>
    /// FindObject after FinishMark and before the sweep answers for the cycle just marked: an
    /// unswept span is swept on demand (Go's ensureSwept), so its dead objects read free and a
    /// span whose objects all died is gone; an idle P's stale cached span (sg+1) is left for the P
    /// to flush, and its objects read as marked.
    /// </summary>
    [Fact]
    public void FindObject_BeforeTheSweepAnswersForTheCycleJustMarked()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint live = p.Alloc(64), dead = p.Alloc(64);
        nint large = p.Alloc(100_000);
        p.Flush();                                          // the 64-byte span goes to its mcentral
        nint cachedLive = p.Alloc(128), cachedDead = p.Alloc(128); // stays cached by the idle P
        p.Release();
        heap.StartMark();
        Assert.True(heap.Mark(live));
        Assert.True(heap.Mark(cachedLive));
        heap.FinishMark();

        Assert.True(heap.FindObject(live, out ObjectInfo li) && li.Allocated);
        Assert.True(heap.FindObject(dead + 10, out ObjectInfo di));
        Assert.Equal((dead, false), (di.Base, di.Allocated));
        Assert.False(heap.FindObject(large, out _), "the large span died in the sweep FindObject ran");
        Assert.True(heap.FindObject(cachedLive, out ObjectInfo cl) && cl.Allocated);
        Assert.True(heap.FindObject(cachedDead, out ObjectInfo cd));
        Assert.Equal((cachedDead, false), (cd.Base, cd.Allocated));
        heap.FinishSweep();
        Assert.True(heap.FindObject(cachedLive, out cl) && cl.Allocated);
        Assert.False(heap.FindObject(cachedDead, out cd) && cd.Allocated);
        heap.Verify();
    }

    [Fact]
    public void ArenaHints_FirstArenaIsAtAGoHintAddress()
    {
        using IHeap a = CreateHeap();
        using IHeap b = CreateHeap();
        IProcessor pa = a.AcquireP();
        IProcessor pb = b.AcquireP();
        pa.Alloc(8);
        pb.Alloc(8);
        pa.Release();
        pb.Release();
        foreach (IHeap h in new[] { a, b })
        {
            long arena = h.ArenaBase;
            Assert.Equal(0, arena % MallocConstants.HeapArenaBytes);
            Assert.Equal(0x00c0L << 32, arena & ((1L << 40) - 1)); // i<<40 | 0x00c0<<32
        }
        Assert.NotEqual(a.ArenaBase, b.ArenaBase);
    }

    [Fact]
    public void ArenaHints_OffPlacesArenasAnywhereAligned()
    {
        using IHeap heap = CreateHeap(new HeapOptions { UseArenaHints = false });
        IProcessor p = heap.AcquireP();
        p.Alloc(8);
        p.Release();
        Assert.Equal(0, heap.ArenaBase % MallocConstants.HeapArenaBytes);
        heap.Verify();
    }

    [Fact]
    public void Heap_GrowsIntoASecondArenaWhenTheFirstIsFull()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        for (int i = 0; i < 5; i++)
            objs.Add(p.Alloc(20L << 20)); // 100 MiB in all
        p.Release();
        HeapStats st = heap.ReadStats();
        Assert.True(st.Arenas >= 2, st.ToString());
        Assert.Equal(st.Arenas * MallocConstants.HeapArenaBytes, st.HeapSys);
        Assert.Equal(5 * (20L << 20), st.HeapInuse);
        heap.Verify();
        Collect(heap, []);
        Assert.Equal(0, heap.ReadStats().HeapInuse);
        heap.Verify();
    }

    [Fact]
    public void INV_MARK_1_SweepFreesExactlyTheUnmarkedObjects()
    {
        var freed = new HashSet<nint>();
        using IHeap heap = CreateHeap(new HeapOptions { OnFree = (a, _) => { lock (freed) freed.Add(a); } });
        var rng = new Random(1234);
        var live = new List<(nint Addr, long Size)>();
        for (int cycle = 0; cycle < 8; cycle++)
        {
            IProcessor p = heap.AcquireP();
            for (int i = 0, n = TestBudget.Count(20_000, min: 1_000); i < n; i++)
            {
                long size = rng.Next(10) == 0 ? rng.Next(32769, 200_000) : rng.Next(16, 2048);
                live.Add((p.Alloc(size, noscan: rng.Next(2) == 0), size));
            }
            p.Release();
            var keep = live.Where(_ => rng.Next(3) == 0).ToList();
            var die = live.Except(keep).Select(o => o.Addr).ToHashSet();
            freed.Clear();
            Collect(heap, keep.Select(o => o.Addr + (nint)(o.Size / 2))); // interior pointers
            Assert.True(die.SetEquals(freed), $"cycle {cycle}: freed {freed.Count}, expected {die.Count}; missing {die.Except(freed).Count()}, extra {freed.Except(die).Count()}");
            foreach ((nint a, _) in keep)
            {
                Assert.True(heap.FindObject(a, out ObjectInfo info) && info.Allocated && info.Base == a, $"live 0x{a:x} lost");
            }
            foreach (nint a in die)
            {
                Assert.False(heap.FindObject(a, out ObjectInfo info) && info.Allocated && info.Base == a, $"dead 0x{a:x} still allocated");
            }
            heap.Verify();
            live = keep;
        }
    }

    /// <summary>
    /// The OnFree hook (Go's allocfreetrace) reports exactly the allocated, unmarked objects of
    /// spans over 64 objects: those below freeindex in a half-used span (16 B: 512 slots), every
    /// word of a full span whose last word is partial (48 B: 170 slots), and in the next cycle
    /// objects allocated through the alloc bits of a swept span.
    /// </summary>
    [Fact]
    public void OnFree_ReportsExactlyTheUnmarkedObjectsOfMultiWordSpans()
    {
        var freed = new List<nint>();
        using IHeap heap = CreateHeap(new HeapOptions { OnFree = (a, _) => { lock (freed) freed.Add(a); } });
        IProcessor p = heap.AcquireP();
        nint[] small = [.. Enumerable.Range(0, 300).Select(_ => p.Alloc(16))];
        nint[] mid = [.. Enumerable.Range(0, 170).Select(_ => p.Alloc(48, noscan: true))];
        p.Flush();
        p.Release();
        Assert.Equal(170, mid.Select(a => a & ~(nint)(MallocConstants.PageSize - 1)).Distinct().Count() * 170);

        nint[] all = [.. small, .. mid];
        nint[] keep = [.. all.Where((_, i) => i % 3 == 0 || i % 64 == 63)];
        Collect(heap, keep);
        Assert.Equal(all.Except(keep).Order(), freed.Order());

        // Cycle 2: the swept spans hand out their dead slots again (through the alloc bits).
        freed.Clear();
        p = heap.AcquireP();
        nint[] again = [.. Enumerable.Range(0, 100).Select(_ => p.Alloc(16))];
        p.Flush();
        p.Release();
        Assert.All(again, a => Assert.Contains(a, small));
        nint[] live = [.. keep, .. again];
        nint[] keep2 = [.. live.Where((_, i) => i % 2 == 0)];
        Collect(heap, keep2);
        Assert.Equal(live.Except(keep2).Order(), freed.Order());
        heap.Verify();
    }

    [Fact]
    public void INV_ZERO_1_ReusedMemoryIsZeroedWhenNeedZero()
    {
        using IHeap heap = CreateHeap();
        var rng = new Random(42);
        for (int cycle = 0; cycle < 6; cycle++)
        {
            IProcessor p = heap.AcquireP();
            var objs = new List<(nint, long)>();
            for (int i = 0, n = TestBudget.Count(30_000, min: 1_000); i < n; i++)
            {
                long size = i % 50 == 0 ? rng.Next(32769, 300_000) : rng.Next(1, 4096);
                bool noscan = rng.Next(2) == 0;
                nint a = p.Alloc(size, noscan, needzero: true);
                Assert.True(IsZero(a, size), $"cycle {cycle}: object 0x{a:x} of {size} bytes (noscan={noscan}) is not zero");
                Fill(a, size, 0xAB); // the object dies dirty
                objs.Add((a, size));
            }
            p.Release();
            Collect(heap, []);
            heap.Verify();
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(64)]
    [InlineData(80)]
    [InlineData(1024)]
    public void INV_ZERO_1_PartlyFreedSpanZeroesEachReusedSlotAndNoNeighbour(long size)
    {
        // Every other object survives, so the span stays in use with needzero set: the freed slots
        // are cleared one by one at allocation, each over its whole size class and not a byte more.
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        int perSpan = (int)(8192 / size); // these classes have one-page spans: two spans, filled
        nint[] first = [.. Enumerable.Range(0, 2 * perSpan).Select(_ => p.Alloc(size))];
        foreach (nint a in first)
            Fill(a, size, 0xAB);
        p.Release();
        nint[] live = [.. first.Where((_, i) => i % 2 == 0)];
        Collect(heap, live);
        p = heap.AcquireP();
        nint[] again = [.. Enumerable.Range(0, perSpan).Select(_ => p.Alloc(size))];
        p.Release();
        Assert.All(again, a => Assert.Contains(a, first));
        Assert.All(again, a => Assert.True(IsZero(a, size), $"reused slot 0x{a:x} of {size} bytes is not zero"));
        Assert.All(live, a => Assert.True(IsFilled(a, size, 0xAB), $"live object 0x{a:x} of {size} bytes was overwritten"));
        heap.Verify();
    }

    [Fact]
    public void INV_STATS_1_HeapAllocEqualsTheSumOfLiveObjects()
    {
        using IHeap heap = CreateHeap();
        var rng = new Random(7);
        var live = new List<(nint Addr, long Size, bool Noscan)>();
        var mallocsByClass = new long[SizeClasses.NumSizeClasses];
        long large = 0;
        for (int cycle = 0; cycle < 5; cycle++)
        {
            IProcessor p = heap.AcquireP();
            for (int i = 0, n = TestBudget.Count(10_000, min: 400); i < n; i++)
            {
                long size = rng.Next(20) == 0 ? rng.Next(32769, 100_000) : rng.Next(16, 32769);
                live.Add((p.Alloc(size), size, false));
                if (size > SizeClasses.MaxSmallSize)
                    large++;
                else
                    mallocsByClass[SizeOracle.SizeClassOf(size)]++;
            }
            p.Release();
            live = live.Where(_ => rng.Next(2) == 0).ToList();
            Collect(heap, live.Select(o => o.Addr));
            HeapStats st = heap.ReadStats();
            Assert.Equal(live.Sum(o => SizeOracle.RoundedSize(o.Size)), st.HeapAlloc);
            Assert.Equal(live.Count, st.HeapObjects);
            for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
            {
                int cls = c;
                Assert.Equal(mallocsByClass[c], st.BySize[c].Mallocs);
                Assert.Equal(live.Count(o => o.Size <= SizeClasses.MaxSmallSize && SizeOracle.SizeClassOf(o.Size) == cls), st.BySize[c].Mallocs - st.BySize[c].Frees);
            }
            Assert.Equal(large, st.LargeAllocs);
            Assert.Equal(st.HeapSys - st.HeapInuse, st.HeapIdle);
            Assert.Equal(st.HeapInuse / MallocConstants.PageSize, st.PagesInUse);
            Assert.Equal(st.Mallocs - st.Frees, st.HeapObjects);
            heap.Verify();
        }
    }

    [Fact]
    public void Alloc_MillionsOfObjectsAcrossEveryClassWithRandomMarkCycles()
    {
        using IHeap heap = CreateHeap();
        var rng = new Random(99);
        var live = new List<nint>();
        long total = 0;
        for (int cycle = 0; cycle < 10; cycle++)
        {
            IProcessor p = heap.AcquireP();
            int perCycle = TestBudget.Count(150_000, min: 1_500);
            for (int i = 0; i < perCycle; i++)
            {
                long size = s_sizes[rng.Next(s_sizes.Length - 6)]; // up to 100000 bytes
                live.Add(p.Alloc(size, noscan: (i & 1) == 0));
            }
            total += perCycle;
            p.Release();
            live = live.Where(_ => rng.Next(4) == 0).ToList();
            Collect(heap, live);
            heap.Verify();
        }
        Assert.Equal(total, heap.ReadStats().Mallocs + heap.ReadStats().TinyAllocs);
    }

    [Fact]
    public void TinyAlloc_CombinesSmallNoscanObjectsInOneBlock()
    {
        // Go's TestTinyAlloc: 16 one-byte allocations must share 8-byte chunks.
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        var v = Enumerable.Range(0, 16).Select(_ => p.Alloc(1, noscan: true)).ToList();
        Assert.NotEqual(16, v.Select(a => a & ~(nint)7).Distinct().Count());
        p.Release();
        HeapStats st = heap.ReadStats();
        Assert.Equal(15, st.TinyAllocs);        // one block, 15 combined into it
        Assert.Equal(1, st.BySize[SizeClasses.TinySizeClass].Mallocs);
        heap.Verify();
    }

    [Theory]
    [InlineData(new long[] { 1, 8 }, new long[] { 0, 8 })]     // 8-byte size aligns to 8
    [InlineData(new long[] { 1, 4 }, new long[] { 0, 4 })]     // 4-byte size aligns to 4
    [InlineData(new long[] { 1, 2 }, new long[] { 0, 2 })]     // 2-byte size aligns to 2
    [InlineData(new long[] { 1, 1, 3 }, new long[] { 0, 1, 2 })] // odd sizes pack
    [InlineData(new long[] { 12, 8 }, new long[] { 0, 16 })]   // does not fit: new block at +16
    [InlineData(new long[] { 3, 12 }, new long[] { 0, 4 })]    // 12 = 4-aligned
    public void TinyAlloc_AlignmentRules(long[] sizes, long[] offsets)
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint first = p.Alloc(sizes[0], noscan: true);
        Assert.Equal(0, first % 16);
        for (int i = 1; i < sizes.Length; i++)
            Assert.Equal(first + (nint)offsets[i], p.Alloc(sizes[i], noscan: true));
        p.Release();
        heap.Verify();
    }

    [Fact]
    public void TinyAlloc_Issue37262_FreshBlockStartIs8ByteAligned()
    {
        // golang/go#37262: after filling a block byte by byte, a 12-byte tiny object (a 4-word
        // struct whose first field is accessed atomically on 32-bit) must start 8-byte aligned.
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        bool fresh = false;
        for (int i = 0; i < 16; i++)
        {
            if ((p.Alloc(1, noscan: true) & 0xf) == 0xf)
            {
                fresh = true;
                break;
            }
        }
        Assert.True(fresh, "unable to get a fresh tiny slot");
        nint obj = p.Alloc(8, noscan: true);
        Assert.Equal(0, obj & 7);
        p.Release();
    }

    [Fact]
    public void TinyAlloc_NewBlockReplacesTheCurrentOneOnlyIfItHasMoreRoom()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(4, noscan: true);   // block A, offset 4
        nint b = p.Alloc(14, noscan: true);  // does not fit: block B, but 14 >= 4 keeps A current
        nint c = p.Alloc(4, noscan: true);   // goes into A at 4
        Assert.NotEqual(a & ~(nint)15, b & ~(nint)15);
        Assert.Equal(a + 4, c);
        p.Release();
    }

    [Fact]
    public void Alloc_BadSizesThrowAndLeaveTheHeapConsistent()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        p.Alloc(64);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Alloc(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Alloc(long.MinValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Alloc(MallocConstants.MaxAlloc + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.Alloc(long.MaxValue));
        p.Release();
        heap.Verify();
        Assert.Equal(1, heap.ReadStats().Mallocs);
    }

    [Fact]
    public void MemoryLimit_OutOfMemoryLeavesTheHeapConsistentAndUsableAfterFree()
    {
        using IHeap heap = CreateHeap(new HeapOptions { MemoryLimit = MallocConstants.HeapArenaBytes });
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        Assert.Throws<OutOfMemoryException>(() =>
        {
            for (int i = 0; i < 1000; i++)
                objs.Add(p.Alloc(1 << 20));
        });
        Assert.True(objs.Count is > 50 and <= 64, $"{objs.Count} MiB fitted in one arena");
        Assert.Throws<OutOfMemoryException>(() => p.Alloc(40_000));
        p.Release();
        heap.Verify();
        Assert.Equal(MallocConstants.HeapArenaBytes, heap.ReadStats().HeapSys);
        Collect(heap, objs.Take(10)); // free most of it
        heap.Verify();
        p = heap.AcquireP();
        for (int i = 0; i < 40; i++)
            p.Alloc(1 << 20);
        for (int i = 0; i < 10_000; i++)
            p.Alloc(100);
        p.Release();
        heap.Verify();
    }

    [Fact]
    public void Alloc_HugeRequestFailsWithOutOfMemoryNotCorruption()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint before = p.Alloc(1000);
        // 1 TiB: the reservation or the read/write mapping is refused by the kernel.
        Assert.Throws<OutOfMemoryException>(() => p.Alloc(MallocConstants.MaxAlloc));
        nint after = p.Alloc(1000);
        Assert.NotEqual(before, after);
        p.Release();
        heap.Verify();
    }

    [Fact]
    public void Mark_OutsideTheHeapIsCountedAndIgnored()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(64);
        p.Alloc(64);
        nint large = p.Alloc(40_000); // 5 pages: the span covers more than the object
        p.Release();
        heap.StartMark();
        Assert.False(heap.Mark(12345));
        Assert.False(heap.Mark(heap.ZeroBase));
        Assert.False(heap.Mark(a + 64 * 100)); // a free slot in the same span
        Assert.False(heap.Mark(large + 40_000)); // just past the large object, inside its span
        Assert.True(heap.Mark(a));
        Assert.True(heap.Mark(large + 39_999));
        heap.FinishMark();
        heap.FinishSweep();
        HeapStats st = heap.ReadStats();
        Assert.Equal(4, st.BadMarks);
        Assert.Equal(2, st.HeapObjects);
        heap.Verify();
    }

    [Fact]
    public void MCentral_CacheSpanSweepsAtMostGosBudgetOfUnsweptSpansThenGrows()
    {
        // 150 full one-page spans of 1024-byte objects, every object live: after the cycle they
        // are all unswept and sweeping frees nothing. A refill tries the budget (spanBudget 100:
        // 101 tries, as Go's `for ; spanBudget >= 0; spanBudget--`), then grows a fresh span.
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        for (int i = 0; i < 150 * 8; i++)
            objs.Add(p.Alloc(1024));
        p.Release();
        heap.StartMark();
        foreach (nint a in objs)
            heap.Mark(a);
        heap.FinishMark();
        p = heap.AcquireP(); // sweeps the P's stale cached span (one page)
        HeapStats before = heap.ReadStats();
        nint fresh = p.Alloc(1024);
        HeapStats after = heap.ReadStats();
        p.Release();
        Assert.DoesNotContain(fresh, objs);
        Assert.Equal(MallocConstants.CacheSpanSweepBudget + 1, after.PagesSwept - before.PagesSwept);
        Assert.Equal(before.HeapInuse + MallocConstants.PageSize, after.HeapInuse);
        Assert.False(heap.SweepDone);
        heap.FinishSweep();
        heap.Verify();
    }

    [Fact]
    public void StartMark_FinishesTheUnfinishedSweepAndEachCycleCountsOnce()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 5_000; i++)
            p.Alloc(64);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        Assert.Equal(1, heap.ReadStats().NumGC);
        Assert.False(heap.SweepDone);
        heap.StartMark(); // gcStart: the previous cycle's sweep is finished first
        Assert.True(heap.SweepDone);
        HeapStats swept = heap.ReadStats();
        Assert.Equal(0, swept.HeapObjects);
        Assert.True(swept.PagesSwept > 0, "the unfinished sweep swept no page");
        heap.FinishMark();
        HeapStats st = heap.ReadStats();
        Assert.Equal(2, st.NumGC);
        Assert.Equal(0, st.PagesSwept); // a new sweep cycle counts from zero
        heap.FinishSweep();
        heap.Verify();
    }

    [Fact]
    public void Mark_StrictModeThrowsOnABadPointer()
    {
        using IHeap heap = CreateHeap(new HeapOptions { StrictMarks = true });
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(64);
        p.Release();
        heap.StartMark();
        Assert.Throws<ArgumentOutOfRangeException>(() => heap.Mark(12345));
        Assert.True(heap.Mark(a));
        heap.FinishMark();
        heap.Verify();
    }

    [Fact]
    public void StopTheWorld_StartAndFinishMarkRefuseWhileAPIsHeld()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(64);
        Assert.Throws<InvalidOperationException>(heap.StartMark);
        p.Release();
        Assert.Equal(GcPhase.Off, heap.Phase);
        heap.StartMark();
        Assert.Equal(GcPhase.Mark, heap.Phase);
        p = heap.AcquireP();
        nint b = p.Alloc(64); // allocate black
        Assert.Throws<InvalidOperationException>(heap.FinishMark);
        Assert.Throws<InvalidOperationException>(heap.StartMark);
        p.Release();
        Assert.Throws<InvalidOperationException>(heap.StartMark); // world stopped, but already marking
        heap.FinishMark();
        Assert.Equal(GcPhase.Off, heap.Phase);
        Assert.Throws<InvalidOperationException>(() => heap.Mark(a)); // not marking any more
        Assert.Throws<InvalidOperationException>(heap.FinishMark);
        heap.FinishSweep();
        Assert.False(heap.FindObject(a, out ObjectInfo ai) && ai.Allocated);
        Assert.True(heap.FindObject(b, out ObjectInfo bi) && bi.Allocated, "allocate-black kept the object allocated during marking");
        heap.Verify();
    }

    [Fact]
    public void Dispose_EveryCallAfterwardsThrowsObjectDisposed()
    {
        IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(100);
        p.Release();
        heap.Dispose();
        heap.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => heap.AcquireP());
        Assert.Throws<ObjectDisposedException>(() => p.Alloc(8));
        Assert.Throws<ObjectDisposedException>(heap.StartMark);
        Assert.Throws<ObjectDisposedException>(() => heap.Mark(a));
        Assert.Throws<ObjectDisposedException>(heap.FinishMark);
        Assert.Throws<ObjectDisposedException>(() => heap.SweepOne());
        Assert.Throws<ObjectDisposedException>(heap.FinishSweep);
        Assert.Throws<ObjectDisposedException>(() => heap.Scavenge(1));
        Assert.Throws<ObjectDisposedException>(() => heap.ReadStats());
        Assert.Throws<ObjectDisposedException>(() => heap.FindObject(a, out _));
        Assert.Throws<ObjectDisposedException>(heap.Verify);
        Assert.Throws<ObjectDisposedException>(heap.StartBackgroundSweeper);
        Assert.Throws<ObjectDisposedException>(heap.StopBackgroundSweeper);
        Assert.Throws<ObjectDisposedException>(() => heap.SetGcPercent(50));
        Assert.Throws<ObjectDisposedException>(p.Flush);
    }

    /// <summary>
    /// mcentral.cacheSpan steps 2-3 (proportional sweeping off, so nothing sweeps ahead of it): a
    /// partial unswept span is swept by the P that takes it and its dead slots are reused lowest
    /// first; a full unswept span whose objects all survive is swept, pushed to fullSwept, and a new
    /// span is grown instead.
    /// </summary>
    [Fact]
    public void CacheSpan_SweepsUnsweptSpansItTakes()
    {
        var events = new List<HeapTraceEvent>();
        using IHeap heap = CreateHeap(new HeapOptions { GcPercent = -1, OnTrace = e => { lock (events) events.Add(e); } });
        IProcessor p = heap.AcquireP();
        nint[] part = [.. Enumerable.Range(0, 300).Select(_ => p.Alloc(16))];   // class 2: 300 of 512 slots
        nint[] full = [.. Enumerable.Range(0, 512).Select(_ => p.Alloc(32))];   // class 3: 256 slots per span, two full spans
        p.Flush();
        p.Release();
        heap.StartMark();
        for (int i = 1; i < part.Length; i += 2)
            Assert.True(heap.Mark(part[i]));
        foreach (nint a in full)
            Assert.True(heap.Mark(a));
        heap.FinishMark();
        events.Clear();

        p = heap.AcquireP();
        Assert.Equal(part[0], p.Alloc(16));   // swept by cacheSpan: the first dead slot
        Assert.Equal(part[2], p.Alloc(16));
        // Taken at sg-2 and owned for sweeping at sg-1 (the sweepgen CAS of INV-SWEEP-1).
        Assert.Contains(events, e => e.Kind == HeapTraceKind.CacheSpanSweepUnswept && e.Detail == "partialUnswept" && e.P == p.Id
            && e.SweepGenBefore == e.HeapSweepGen - 2 && e.SweepGenAfter == e.HeapSweepGen - 1);

        nint fresh = p.Alloc(32);             // both class-3 spans are full and stay full
        Assert.DoesNotContain(fresh, full);
        // Two distinct spans (the lock-step heap sends both of its heaps' events to one hook).
        Assert.Equal(2, events.Where(e => e.Kind == HeapTraceKind.CacheSpanSweepUnswept && e.Detail == "nothing freed, pushed to fullSwept")
            .Select(e => e.SpanOffset).Distinct().Count());
        p.Release();
        heap.Verify();
        foreach (nint a in full)
            Assert.True(heap.FindObject(a, out ObjectInfo info) && info.Allocated);
    }

    [Fact]
    public void Scavenge_NegativeByteCountThrowsAndLeavesTheHeapConsistent()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        p.Alloc(8L << 20);
        p.Release();
        HeapStats before = heap.ReadStats();
        Assert.Throws<ArgumentOutOfRangeException>(() => heap.Scavenge(-1));
        Assert.Equal(before.HeapReleased, heap.ReadStats().HeapReleased);
        heap.Verify();
    }

    /// <summary>
    /// heap_marked (INV-STATS): at FinishMark it is exactly the bytes of the marked objects: marked
    /// once however often Mark is called, objects allocated black during the mark, the P's current
    /// tiny block (gcMarkTinyAllocs) and a tiny block that took an object while marking.
    /// </summary>
    [Fact]
    public void HeapMarked_CountsMarkedAllocatedBlackAndTinyBlocksExactly()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(100);                 // size class 112
        nint dead = p.Alloc(100);
        nint tiny = p.Alloc(4, noscan: true);  // opens the P's tiny block (16 bytes)
        p.Release();

        // Cycle 1: a marked twice, one object allocated black, one tiny object combined while marking.
        heap.StartMark();
        Assert.True(heap.Mark(a));
        Assert.True(heap.Mark(a));
        p = heap.AcquireP();
        nint black = p.Alloc(100);
        nint tiny2 = p.Alloc(8, noscan: true);
        Assert.Equal(tiny + 8, tiny2);         // the same block (now full), so it is marked now
        nint tiny4 = p.Alloc(4, noscan: true); // does not fit: a new block (allocated black) that
        Assert.NotEqual(tiny, tiny4 & ~15);     // replaces the full one as the P's current block, so
                                                // FinishMark's marking of current blocks misses the first
        p.Release();
        heap.FinishMark();
        Assert.Equal(112 + 112 + 16 + 16, heap.ReadStats().HeapMarked);
        heap.FinishSweep();
        Assert.True(heap.FindObject(black, out ObjectInfo bi) && bi.Allocated);
        Assert.True(heap.FindObject(tiny, out ObjectInfo ti) && ti.Allocated, "the tiny block that took an object while marking was swept");
        Assert.True(heap.FindObject(tiny4, out ObjectInfo t4) && t4.Allocated);
        Assert.False(heap.FindObject(dead, out ObjectInfo di) && di.Allocated);

        // Cycle 2: nothing marked, nothing allocated while marking: only a P's current tiny block
        // survives, marked by FinishMark itself.
        p = heap.AcquireP();
        nint tiny3 = p.Alloc(8, noscan: true);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        Assert.Equal(16, heap.ReadStats().HeapMarked);
        heap.FinishSweep();
        Assert.True(heap.FindObject(tiny3, out ObjectInfo t3) && t3.Allocated, "the current tiny block was swept");
        Assert.False(heap.FindObject(a, out ObjectInfo ai) && ai.Allocated);
        heap.Verify();
    }

    /// <summary>
    /// heap_live: refill counts a cached span's free slots as live (Go's mcache.refill); a flush
    /// gives back the slots still free (releaseAll), leaving exactly the allocated bytes.
    /// </summary>
    [Fact]
    public void HeapLive_FlushGivesBackTheCachedSpansFreeSlots()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        p.Alloc(16);
        Assert.Equal(MallocConstants.PageSize, heap.ReadStats().HeapLive); // one 8 KiB span of 512 x 16 B
        p.Alloc(16);
        p.Alloc(48);
        p.Flush();
        Assert.Equal(16 + 16 + 48, heap.ReadStats().HeapLive);
        p.Release();
        heap.Verify();
    }

    [Fact]
    public void Scavenge_ReleasesFreePagesToTheOsAndReuseSeesZeroes()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint big = p.Alloc(8L << 20);
        Fill(big, 8L << 20, 0x5A);
        p.Release();
        Assert.Equal(8L << 20 >> 12, SysMem.ResidentPages(big, 8 << 20));
        long releasedBefore = heap.ReadStats().HeapReleased;
        Collect(heap, []);
        long got = heap.Scavenge(long.MaxValue);
        Assert.True(got >= 8L << 20, $"scavenged {got}");
        Assert.Equal(releasedBefore + got, heap.ReadStats().HeapReleased);
        Assert.Equal(0, SysMem.ResidentPages(big, 8 << 20));
        Assert.Equal(0, heap.Scavenge(long.MaxValue)); // nothing left to release
        heap.Verify();
        p = heap.AcquireP();
        nint again = p.Alloc(8L << 20, needzero: false);
        Assert.Equal(big, again); // lowest-address first fit reuses the same pages
        Assert.True(IsZero(again, 8L << 20), "scavenged pages must read back as zero");
        p.Release();
        Assert.Equal(releasedBefore + got - (8L << 20), heap.ReadStats().HeapReleased);
        heap.Verify();
    }

    [Fact]
    public void Scavenge_ReleasesHighestAddressesFirstAndOnlyWhatWasAsked()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint lo = p.Alloc(1L << 20);
        nint hi = p.Alloc(1L << 20);
        Fill(lo, 1L << 20, 1);
        Fill(hi, 1L << 20, 1);
        p.Release();
        Collect(heap, []);
        Assert.True(hi > lo, $"first fit: 0x{lo:x} then 0x{hi:x}");
        Assert.Equal(MallocConstants.PageSize, heap.Scavenge(1)); // rounds up to one page
        Assert.Equal(2 * MallocConstants.PageSize, heap.Scavenge(2 * MallocConstants.PageSize));
        // The rest of the chunk was never used (still scavenged), so the highest free unscavenged
        // pages are hi's top three: exactly those left RSS.
        Assert.Equal(256, SysMem.ResidentPages(lo, 1 << 20));
        nint top3 = hi + (1 << 20) - 3 * (nint)MallocConstants.PageSize;
        Assert.Equal(256 - 6, SysMem.ResidentPages(hi, 1 << 20));
        Assert.Equal(0, SysMem.ResidentPages(top3, 3 * (nint)MallocConstants.PageSize));
        heap.Verify();
    }

    [Fact]
    public void Sampling_RateOneSamplesEveryAllocationWithItsRoundedSize()
    {
        var samples = new List<SampledAllocation>();
        using IHeap heap = CreateHeap(new HeapOptions { MemProfileRate = 1, OnSample = samples.Add });
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(100);
        nint b = p.Alloc(40_000);
        p.Alloc(1, noscan: true);
        p.Alloc(1, noscan: true); // combined into the tiny block: not sampled (Go returns early)
        p.Release();
        Assert.Equal(3, samples.Count);
        Assert.Equal(new SampledAllocation(a, 112, p.Id), samples[0]);
        Assert.Equal(new SampledAllocation(b, 40_960, p.Id), samples[1]);
        Assert.Equal(16, samples[2].Size);
        Assert.Equal(3, heap.ReadStats().ProfileSamples);
    }

    [Fact]
    public void Sampling_IsReproducibleForASeedAndAverageRate()
    {
        long Run(ulong seed, out List<nint> addrs)
        {
            var got = new List<nint>();
            IHeap? h = null;
            using IHeap heap = h = CreateHeap(new HeapOptions { MemProfileRate = 4096, SampleSeed = seed, OnSample = s => got.Add(s.Address - h!.ArenaBase) });
            IProcessor p = heap.AcquireP();
            for (int i = 0; i < 20_000; i++)
                p.Alloc(64);
            p.Release();
            addrs = got;
            return heap.ReadStats().ProfileSamples;
        }
        long n1 = Run(1, out var a1);
        long n2 = Run(1, out var a2);
        Run(2, out var a3);
        Assert.Equal(a1, a2);
        Assert.NotEqual(a1, a3);
        // 20000 * 64 bytes at one sample per 4096 bytes on average: ~312 samples.
        Assert.InRange(n1, 250, 380);
        Assert.Equal(n1, n2);
    }

    [Fact]
    public void SweepOne_ReturnsFreedPagesThenMinusOneWhenDone()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        nint keep = p.Alloc(64);
        p.Alloc(100_000);             // 13 pages, dies
        p.Alloc(2048);                // a one-page span of 4 objects, all dead: freed whole
        p.Flush();                    // put the small spans in mcentral sets
        p.Release();
        heap.StartMark();
        heap.Mark(keep);
        heap.FinishMark();
        var results = new List<long>();
        long r;
        while ((r = heap.SweepOne()) != -1)
            results.Add(r);
        // The 64-byte span survived (one marked object, 0 pages freed); the 2048-byte span and
        // the large span went back to the heap.
        Assert.Equal([0L, 1L, 13L], results.Order());
        Assert.False(heap.SweepDone);  // idle Ps still hold last cycle's caches
        heap.FinishSweep();
        Assert.True(heap.SweepDone);
        heap.Verify();
    }

    [Fact]
    public void PrepareForSweep_AcquiringAPFlushesItsStaleCache()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        nint a = p.Alloc(64);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        Assert.False(heap.SweepDone);
        Assert.Equal(-1, heap.SweepOne()); // the only span sits in the stale mcache
        Assert.False(heap.SweepDone);
        p = heap.AcquireP();               // prepareForSweep: uncache + sweep the stale span
        Assert.True(heap.SweepDone);
        Assert.False(heap.FindObject(a, out ObjectInfo info) && info.Allocated);
        nint b = p.Alloc(64);
        p.Release();
        Assert.True(heap.FindObject(b, out info) && info.Allocated);
        heap.Verify();
    }

    /// <summary>
    /// Proportional sweep pacing (Go 1.16 gcPaceSweeper + deductSweepCredit) to the page: after a
    /// cycle with 1,600 unswept pages, each 64 KiB allocation must have swept the pages the pacing
    /// line asks for (in whole 8-page spans), with the trigger at 7/8 of GOGC above the marked heap;
    /// SetGcPercent re-paces from the current heap_live and pages swept; GOGC &lt; 0 stops it.
    /// </summary>
    [Fact]
    public void SweepCredit_PacingFollowsGosFormulaPerGogc()
    {
        const long Span = 64 << 10, SpanPages = Span / MallocConstants.PageSize;
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        for (int i = 0; i < 200; i++)
            objs.Add(p.Alloc(Span, noscan: true));
        p.Release();
        heap.StartMark();
        for (int i = 0; i < objs.Count; i += 2)
            heap.Mark(objs[i]);
        heap.FinishMark();
        HeapStats s0 = heap.ReadStats();
        Assert.Equal(100 * Span, s0.HeapMarked);
        Assert.Equal(s0.HeapMarked, s0.HeapLive);
        Assert.Equal(200 * SpanPages, s0.HeapInuse / MallocConstants.PageSize);
        Assert.Equal(0, s0.PagesSwept);

        // trigger = max(heapMinimum, marked * (1 + 7/8 * GOGC/100)); the pacing line spans the heap
        // distance trigger - heap_live - 1 MiB (at least a page) over the pages still to sweep.
        static double PagesPerByte(long pagesToSweep, long marked, long liveBasis, int gogc)
        {
            long trigger = Math.Max(MallocConstants.HeapMinimum, marked + marked * gogc * 7 / 800);
            long distance = Math.Max(MallocConstants.PageSize, trigger - liveBasis - (1L << 20));
            return (double)pagesToSweep / distance;
        }
        // The loop sweeps whole spans until the pages swept since the basis reach the target.
        static long SweptAfter(long sweptBasis, double pagesPerByte, long bytesSinceBasis, long callerPages)
        {
            long target = (long)(pagesPerByte * bytesSinceBasis) - callerPages;
            return sweptBasis + (target <= 0 ? 0 : (target + SpanPages - 1) / SpanPages * SpanPages);
        }

        p = heap.AcquireP();
        double ppb = PagesPerByte(200 * SpanPages, s0.HeapMarked, s0.HeapLive, 100);
        p.Alloc(Span, noscan: true);
        long swept1 = heap.ReadStats().PagesSwept;
        Assert.Equal(SweptAfter(0, ppb, Span, SpanPages), swept1);
        Assert.Equal(16, swept1); // (long)(1600 * 65536 / 4685824) - 8 = 14 -> two spans
        p.Alloc(Span, noscan: true);
        long swept2 = heap.ReadStats().PagesSwept;
        Assert.Equal(SweptAfter(0, ppb, 2 * Span, SpanPages), swept2);
        Assert.Equal(40, swept2);

        heap.SetGcPercent(50);
        HeapStats s1 = heap.ReadStats();
        Assert.Equal(s0.HeapLive + 2 * Span, s1.HeapLive);
        double ppb50 = PagesPerByte(s1.HeapInuse / MallocConstants.PageSize - swept2, s0.HeapMarked, s1.HeapLive, 50);
        p.Alloc(Span, noscan: true);
        long swept3 = heap.ReadStats().PagesSwept;
        Assert.Equal(SweptAfter(swept2, ppb50, Span, SpanPages), swept3);
        Assert.True(swept3 - swept2 > swept1, "a lower GOGC must sweep faster");

        heap.SetGcPercent(-1);
        p.Alloc(Span, noscan: true);
        Assert.Equal(swept3, heap.ReadStats().PagesSwept);
        p.Release();
        heap.Verify();
    }

    [Fact]
    public void SweepCredit_AllocationAfterACycleSweepsProportionally()
    {
        using IHeap heap = CreateHeap();
        IProcessor p = heap.AcquireP();
        var live = new List<nint>();
        for (int i = 0; i < 200_000; i++)
        {
            nint a = p.Alloc(256);
            if (i % 3 == 0)
                live.Add(a);
        }
        p.Release();
        heap.StartMark();
        foreach (nint a in live)
            heap.Mark(a);
        heap.FinishMark();
        Assert.Equal(0, heap.ReadStats().PagesSwept);
        p = heap.AcquireP(); // sweeps the one stale cached span
        long afterAcquire = heap.ReadStats().PagesSwept;
        for (int i = 0; i < 2_000; i++)
            p.Alloc(4096); // fresh spans of another class: pays sweep credit
        HeapStats st = heap.ReadStats();
        p.Release();
        Assert.True(st.PagesSwept > afterAcquire, "no proportional sweeping happened");
        Assert.True(st.PagesSwept < st.PagesInUse, $"swept {st.PagesSwept} of {st.PagesInUse} pages: not proportional");
        heap.FinishSweep();
        heap.Verify();
    }

    [Fact]
    public void TinyAlloc_CombinedDuringMarkingIsAllocatedBlack()
    {
        // Found by the property suite: a tiny object combined into a block opened before
        // StartMark was freed by the sweep. FinishMark now marks every P's tiny block
        // (Go's gcMarkTinyAllocs).
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        p.Alloc(2, noscan: true);
        p.Release();
        heap.StartMark();
        p = heap.AcquireP();
        nint black = p.Alloc(2, noscan: true);
        p.Release();
        heap.FinishMark();
        heap.FinishSweep();
        Assert.True(heap.FindObject(black, out ObjectInfo info) && info.Allocated, $"0x{black:x}, allocated while marking, was freed");
        heap.Verify();
    }

    /// <summary>Allocate black for large objects too: one allocated while marking is marked and survives the sweep.</summary>
    [Fact]
    public void AllocBlack_LargeObjectAllocatedWhileMarkingSurvivesTheSweep()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        heap.StartMark();
        IProcessor p = heap.AcquireP();
        nint large = p.Alloc(100_000, noscan: true);
        nint small = p.Alloc(100);
        p.Release();
        heap.FinishMark();
        Assert.Equal(13 * MallocConstants.PageSize + 112, heap.ReadStats().HeapMarked);
        heap.FinishSweep();
        Assert.True(heap.FindObject(large, out ObjectInfo li) && li.Allocated, "the large object allocated while marking was freed");
        Assert.True(heap.FindObject(small, out ObjectInfo si) && si.Allocated);
        Collect(heap, []); // the next cycle marks nothing: now both die
        Assert.False(heap.FindObject(large, out _));
        heap.Verify();
    }

    /// <summary>
    /// Large objects count against the sampling distance like small ones (Go's nextSample): at an
    /// average rate of 256 KiB, 100 objects of 40 KiB (4 MiB) give about 16 samples.
    /// </summary>
    [Fact]
    public void Sampling_LargeObjectsCountAgainstTheSamplingDistance()
    {
        var samples = new List<SampledAllocation>();
        using IHeap heap = CreateHeap(new HeapOptions { MemProfileRate = 256 << 10, SampleSeed = 7, OnSample = samples.Add });
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 100; i++)
            p.Alloc(40_000, noscan: true);
        p.Release();
        Assert.InRange(samples.Count, 6, 30);
        Assert.All(samples, s => Assert.Equal(40_960, s.Size));
        Assert.Equal(samples.Count, heap.ReadStats().ProfileSamples);
    }

    [Fact]
    public void INV_CACHE_1_AnIdlePsTinyBlockSurvivesTheSweepUntilItsCacheIsFlushed()
    {
        // Found by the property suite (shrunk): the stale P's tiny block was swept while its
        // cache still pointed at it, and Verify reported INV-CACHE-1.
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 513; i++)
            p.Alloc(9, noscan: true);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        while (heap.SweepOne() != -1)
            heap.Verify();
        heap.FinishSweep();
        heap.Verify();
    }
}
