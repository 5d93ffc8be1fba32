// HeapChecker: the whole-heap validator over a HeapSnapshot, shared by both heaps. One method per
// INV family of spec/SPEC.md section 3, each throwing HeapInvariantException naming the first
// broken id. The families run in the order that names a corruption by its cause: the page map
// (SPAN-1) before the checks that read it (PAGE, CACHE), placement (SWEEP-2) before the per-span
// rules, counters last. No Go counterpart (Go checks these piecemeal with throw()s).
using System.Numerics;

namespace GoAlloc;

/// <summary>Checks every invariant a <see cref="HeapSnapshot"/> can show.</summary>
internal static class HeapChecker
{
    private static void Check(bool ok, string id, Func<string> detail)
    {
        if (!ok)
            throw new HeapInvariantException(id, detail());
    }

    /// <summary>Throws HeapInvariantException naming the first invariant the snapshot breaks.</summary>
    public static void Check(HeapSnapshot s)
    {
        CheckArenas(s);
        CheckSpanIndex(s);
        CheckSweepGens(s);
        CheckPages(s);
        int[] cachedBy = CheckCaches(s);
        string?[] placed = CheckSpanSets(s);
        CheckSpans(s, cachedBy, placed);
        CheckSweepState(s);
        CheckStats(s);
        CheckZero(s);
    }

    private static IEnumerable<int> MappedSpans(HeapSnapshot s) =>
        Enumerable.Range(0, s.Spans.Length).Where(i => s.Spans[i].Mapped);

    /// <summary>INV-ARENA-1: 64 MiB-aligned, indexed, sorted, disjoint, all counted in heap_sys and arenas.</summary>
    public static void CheckArenas(HeapSnapshot s)
    {
        for (int i = 0; i < s.Arenas.Length; i++)
        {
            HeapSnapshot.Arena a = s.Arenas[i];
            Check(a.Base % MallocConstants.HeapArenaBytes == 0 && a.Indexed, "INV-ARENA-1", () => $"arena 0x{a.Base:x} is misaligned or not in the index");
            Check(i == 0 || s.Arenas[i - 1].Base + (nint)MallocConstants.HeapArenaBytes <= a.Base, "INV-ARENA-1", () => $"arena 0x{a.Base:x} overlaps its predecessor");
        }
        Check(s.Arenas.Length * MallocConstants.HeapArenaBytes == s.HeapSys && s.Arenas.Length == s.ArenaCount,
            "INV-ARENA-1", () => $"{s.Arenas.Length} arenas but heap_sys={s.HeapSys} arenas={s.ArenaCount}");
    }

    /// <summary>INV-SPAN-1: every mapped page names an in-use span containing it, and every page of such a span maps to it.</summary>
    public static void CheckSpanIndex(HeapSnapshot s)
    {
        foreach (HeapSnapshot.Arena a in s.Arenas)
        {
            for (int pg = 0; pg < a.PageSpans.Length; pg++)
            {
                if (a.PageSpans[pg] < 0)
                    continue;
                HeapSnapshot.Span sp = s.Spans[a.PageSpans[pg]];
                nint page = a.Base + pg * (nint)MallocConstants.PageSize;
                Check(sp.State == HeapSnapshot.State.InUse, "INV-SPAN-1", () => $"page 0x{page:x} maps to a {sp.State} span {sp}");
                Check(page >= sp.Base && page < sp.End, "INV-SPAN-1", () => $"page 0x{page:x} maps to {sp}, which does not contain it");
            }
        }
        foreach (int i in MappedSpans(s))
        {
            HeapSnapshot.Span sp = s.Spans[i];
            for (int k = 0; k < sp.NPages; k++)
            {
                nint page = sp.Base + k * (nint)MallocConstants.PageSize;
                Check(s.SpanAt(page) == i, "INV-SPAN-1", () => $"spanOf(0x{page:x}) is not {sp}");
            }
        }
    }

    /// <summary>INV-SWEEP-1: at a quiescent point every in-use span is at sg-2, sg, sg+1 or sg+3 (none being swept).</summary>
    public static void CheckSweepGens(HeapSnapshot s)
    {
        uint sg = s.SweepGen;
        foreach (int i in MappedSpans(s))
        {
            HeapSnapshot.Span sp = s.Spans[i];
            Check(sp.SweepGen == sg - 2 || sp.SweepGen == sg || sp.SweepGen == sg + 1 || sp.SweepGen == sg + 3,
                "INV-SWEEP-1", () => $"{sp} has sweepgen {sp.SweepGen} at heap sweepgen {sg}");
        }
    }

    /// <summary>INV-PAGE-1 / INV-PAGE-2: the bitmap, the page caches and the spans agree; scavenged pages are free and accounted.</summary>
    public static void CheckPages(HeapSnapshot s)
    {
        var cachePages = new Dictionary<nint, (int P, bool Scav)>();
        foreach (HeapSnapshot.Cache p in s.Ps)
        {
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                if ((p.PageCacheFree & (1UL << k)) == 0)
                    continue;
                nint page = p.PageCacheBase + k * (nint)MallocConstants.PageSize;
                Check(cachePages.TryAdd(page, (p.Id, (p.PageCacheScav & (1UL << k)) != 0)), "INV-PAGE-1", () => $"page 0x{page:x} is in two page caches");
            }
        }
        long scavenged = 0;
        foreach (HeapSnapshot.Chunk c in s.Chunks)
        {
            for (int i = 0; i < c.Alloc.Length; i++)
            {
                nint page = c.Base + i * (nint)MallocConstants.PageSize;
                int sp = s.SpanAt(page);
                bool inCache = cachePages.TryGetValue(page, out (int P, bool Scav) cached);
                Check(sp < 0 || !inCache, "INV-PAGE-1", () => $"page 0x{page:x} is in a span and in P{cached.P}'s page cache");
                Check(c.Alloc[i] == (sp >= 0 || inCache), "INV-PAGE-1",
                    () => $"page 0x{page:x}: bitmap says {(c.Alloc[i] ? "allocated" : "free")} but span={(sp >= 0 ? s.Spans[sp].ToString() : "none")} cache={inCache}");
                Check(!c.Scavenged[i] || !c.Alloc[i], "INV-PAGE-2", () => $"page 0x{page:x} is scavenged but allocated");
                scavenged += (c.Scavenged[i] ? 1 : 0) + (inCache && cached.Scav ? 1 : 0);
            }
        }
        foreach (nint page in cachePages.Keys)
            Check(s.InChunk(page), "INV-PAGE-1", () => $"page-cache page 0x{page:x} is outside every grown chunk");
        Check(s.HeapReleased == scavenged * MallocConstants.PageSize + s.UngrownBytes, "INV-PAGE-2",
            () => $"heap_released={s.HeapReleased} but scavenged pages={scavenged} and ungrown bytes={s.UngrownBytes}");
    }

    /// <summary>INV-CACHE-1 (and INV-SWEEP-2 for cached spans): slots, flushGen, the tiny block. Returns the P caching each span, or -1.</summary>
    public static int[] CheckCaches(HeapSnapshot s)
    {
        uint sg = s.SweepGen;
        int[] cachedBy = new int[s.Spans.Length];
        Array.Fill(cachedBy, -1);
        foreach (HeapSnapshot.Cache p in s.Ps)
        {
            uint fg = p.FlushGen;
            Check(fg == sg || fg == sg - 2, "INV-CACHE-1", () => $"P{p.Id} flushGen {fg} at sweepgen {sg}");
            for (int spc = 0; spc < p.Slots.Length; spc++)
            {
                if (p.Slots[spc] < 0)
                    continue;
                int i = p.Slots[spc], cls = spc;
                HeapSnapshot.Span sp = s.Spans[i];
                Check(sp.State == HeapSnapshot.State.InUse && sp.SpanClass == spc, "INV-CACHE-1", () => $"P{p.Id} slot {cls} holds {sp}");
                uint want = fg == sg ? sg + 3 : sg + 1;
                Check(sp.SweepGen == want, "INV-SWEEP-2", () => $"P{p.Id} caches {sp} with sweepgen {sp.SweepGen}, expected {want}");
                Check(cachedBy[i] < 0, "INV-SWEEP-2", () => $"{sp} is cached by two Ps (P{cachedBy[i]} and P{p.Id})");
                cachedBy[i] = p.Id;
            }
            Check(p.TinyOffset is >= 0 and <= SizeClasses.MaxTinySize, "INV-CACHE-1", () => $"P{p.Id} tinyoffset {p.TinyOffset}");
            if (p.Tiny != 0)
            {
                int t = s.SpanAt(p.Tiny);
                HeapSnapshot.Span? ts = t < 0 ? null : s.Spans[t];
                Check(ts != null && ts.SpanClass == MallocConstants.TinySpanClass && (p.Tiny - ts.Base) % SizeClasses.MaxTinySize == 0
                    && ts.IsAllocated((int)((p.Tiny - ts.Base) / ts.ElemSize)), "INV-CACHE-1", () => $"P{p.Id} tiny block 0x{p.Tiny:x} is not an allocated 16-byte tiny-class object");
            }
        }
        return cachedBy;
    }

    /// <summary>INV-SWEEP-2 for the span sets and the overflow list: each live entry where its sweepgen and fullness say, once. Returns where each span is placed.</summary>
    public static string?[] CheckSpanSets(HeapSnapshot s)
    {
        uint sg = s.SweepGen;
        string?[] placed = new string?[s.Spans.Length];
        // No set or overflow entry that passes the sweepgen rule can be cached (at sg+3 or sg+1).
        void Place(int i, string where)
        {
            Check(placed[i] == null, "INV-SWEEP-2", () => $"{s.Spans[i]} is in {placed[i]} and {where}");
            placed[i] = where;
        }
        foreach (HeapSnapshot.SpanSet set in s.Sets)
        {
            foreach (int i in set.Members)
            {
                HeapSnapshot.Span sp = s.Spans[i];
                bool live = sp.Mapped && sp.State == HeapSnapshot.State.InUse;
                Check(!set.Swept || live, "INV-SWEEP-2", () => $"{set} holds a dead span record {sp}");
                if (!live)
                    continue; // a stale unswept entry for a freed span
                if (!set.Swept && sp.SweepGen != sg - 2)
                {
                    // A stale entry: swept by another path, which put it where it belongs.
                    Check(sp.SweepGen == sg || sp.SweepGen == sg + 3, "INV-SWEEP-2", () => $"{set} holds stale entry {sp} in sweepgen {sp.SweepGen}");
                    continue;
                }
                Check(sp.SpanClass == set.SpanClass, "INV-SWEEP-2", () => $"{set} holds {sp} of another class");
                Check(sp.SweepGen == (set.Swept ? sg : sg - 2), "INV-SWEEP-2", () => $"{set} holds {sp} with sweepgen {sp.SweepGen} (heap {sg})");
                Check(set.Full == (sp.AllocCount == sp.NElems), "INV-SWEEP-2", () => $"{set} holds {sp}");
                Place(i, set.ToString());
            }
        }
        foreach (int i in s.Overflow)
        {
            HeapSnapshot.Span sp = s.Spans[i];
            Check(sp.Mapped && sp.State == HeapSnapshot.State.InUse && sp.InOverflow && (sp.SweepGen == sg || (!s.SweepDone && sp.SweepGen == sg - 2)),
                "INV-SWEEP-2", () => $"the overflow list holds {sp}, not a span in use swept or waiting for this cycle's sweep");
            Place(i, "the overflow list");
        }
        return placed;
    }

    /// <summary>Per in-use span: INV-SWEEP-2 (placed somewhere), INV-SWEEP-3, INV-SPAN-2, INV-SPAN-4, INV-SPAN-3, INV-MARK-1.</summary>
    public static void CheckSpans(HeapSnapshot s, int[] cachedBy, string?[] placed)
    {
        uint sg = s.SweepGen;
        foreach (int i in MappedSpans(s))
        {
            HeapSnapshot.Span sp = s.Spans[i];
            Check(cachedBy[i] >= 0 || placed[i] != null, "INV-SWEEP-2", () => $"{sp} is in use but neither cached nor in any span set");
            Check(!s.SweepDone || (sp.SweepGen != sg - 2 && sp.SweepGen != sg + 1), "INV-SWEEP-3", () => $"sweep is done but {sp} is unswept");
            CheckGeometry(sp);
            Check(sp.FreeIndex >= 0 && sp.FreeIndex <= sp.NElems, "INV-SPAN-4", () => $"freeindex out of range {sp}");
            // The bits a word at a time (64 objects per step: a heap of millions of small objects
            // is checked in a few thousand steps). Per bit b of either bitmap, as the spec states it:
            // b < nelems unless neither bit is set; a marked object is allocated (b < freeindex or
            // its alloc bit); allocated counts the objects below nelems that are allocated.
            int allocated = 0, marked = 0;
            int bitCount = Math.Max(sp.AllocBits.Length, sp.MarkBits.Length);
            for (int w = 0; w < (bitCount + 63) >> 6; w++)
            {
                ulong a = sp.AllocBits.Word(w), m = sp.MarkBits.Word(w);
                ulong isAllocated = a | Below(sp.FreeIndex, w);
                ulong pastNElems = (a | m) & ~Below(sp.NElems, w);
                ulong markedFree = m & ~isAllocated;
                if ((pastNElems | markedFree) != 0)
                {
                    // The lowest bad bit, and the first of the two checks it fails.
                    int k = BitOperations.TrailingZeroCount(pastNElems | markedFree), bit = (w << 6) + k;
                    Check((pastNElems >> k & 1) == 0, "INV-SPAN-4", () => $"bit {bit} beyond nelems set in {sp}");
                    Check(false, "INV-SPAN-4", () => $"object {bit} of {sp} is marked but not allocated");
                }
                allocated += BitOperations.PopCount(isAllocated & Below(sp.NElems, w) & Below(bitCount, w));
                marked += BitOperations.PopCount(m);
            }
            Check(allocated == sp.AllocCount, "INV-SPAN-3", () => $"{sp}: {allocated} objects allocated by the bitmap, allocCount {sp.AllocCount}");
            bool swept = sp.SweepGen == sg || sp.SweepGen == sg + 3;
            // A sweep frees a span it leaves empty, and uncacheSpan refuses one (the alloc bits, all
            // within the allocCount just checked, need no check of their own).
            Check(cachedBy[i] >= 0 || !swept || sp.AllocCount > 0, "INV-SPAN-3", () => $"uncached swept {sp} has no object allocated");
            Check(s.Marking || !swept || marked == 0, "INV-MARK-1", () => $"swept {sp} has {marked} mark bits outside the mark phase");
        }
    }

    /// <summary>The bits of word w (bits [64w, 64w + 64)) whose index is below limit.</summary>
    private static ulong Below(int limit, int w)
    {
        int n = limit - (w << 6);
        return n <= 0 ? 0 : n >= 64 ? ulong.MaxValue : (1UL << n) - 1;
    }

    /// <summary>INV-SPAN-2: small spans have their class's geometry (and division magic, where kept); large spans one object.</summary>
    private static void CheckGeometry(HeapSnapshot.Span sp)
    {
        int c = sp.SizeClass;
        if (c != 0)
        {
            Check(sp.NPages == SizeClasses.ClassToAllocNPages[c] && sp.ElemSize == SizeClasses.ClassToSize[c]
                && sp.NElems == sp.NPages * MallocConstants.PageSize / sp.ElemSize && sp.Limit == sp.Base + (nint)(sp.NElems * sp.ElemSize)
                && (sp.Div is null || sp.Div == SizeClasses.ClassToDivMagic[c]), "INV-SPAN-2", () => $"bad geometry {sp}");
        }
        else
        {
            Check(sp.NElems == 1 && sp.ElemSize == sp.NPages * MallocConstants.PageSize && sp.Limit > sp.Base && sp.Limit <= sp.End,
                "INV-SPAN-2", () => $"bad large geometry {sp}");
        }
    }

    /// <summary>
    /// INV-SWEEP-4: the sweepers counted equal the unflushed Ps (a heap with a sweep-state word), and
    /// the unswept sets of every sweep class below the sweep cursor are empty (all once drained).
    /// </summary>
    public static void CheckSweepState(HeapSnapshot s)
    {
        uint sg = s.SweepGen;
        int stale = s.Ps.Count(p => p.FlushGen != sg);
        Check(s.Sweepers is null || s.Sweepers == stale, "INV-SWEEP-4", () => $"sweeper count {s.Sweepers} but {stale} Ps are unflushed and no sweep is running");
        Check(s.SweepCursor is >= 0 and <= HeapSnapshot.NumSweepClasses, "INV-SWEEP-4", () => $"sweep cursor {s.SweepCursor} out of range");
        foreach (HeapSnapshot.SpanSet set in s.Sets)
        {
            int sc = set.SpanClass * 2 + (set.Full ? 0 : 1);
            Check(set.Swept || sc >= s.SweepCursor || set.Members.Length == 0, "INV-SWEEP-4",
                () => $"sweep cursor at class {s.SweepCursor}{(s.SweepCursor == HeapSnapshot.NumSweepClasses ? " (drained)" : "")} but {set} (sweep class {sc}) still has unswept spans");
        }
    }

    /// <summary>INV-SWEEP-3 alone, for a heap whose sweep just finished: drained, no sweeper, every P flushed, no span unswept or being swept.</summary>
    public static void CheckSweepDone(HeapSnapshot s)
    {
        uint sg = s.SweepGen;
        Check(s.SweepCursor == HeapSnapshot.NumSweepClasses && (s.Sweepers ?? 0) == 0, "INV-SWEEP-3",
            () => $"FinishSweep returned but sweep is not done (sweep cursor {s.SweepCursor}, sweepers {s.Sweepers})");
        foreach (HeapSnapshot.Cache p in s.Ps)
            Check(p.FlushGen == sg, "INV-SWEEP-3", () => $"sweep is done but P{p.Id} is not flushed (flushGen {p.FlushGen}, sweepgen {sg})");
        foreach (int i in MappedSpans(s))
        {
            uint g = s.Spans[i].SweepGen;
            Check(g != sg - 2 && g != sg - 1 && g != sg + 1, "INV-SWEEP-3", () => $"sweep is done but {s.Spans[i]} has sweepgen {g} (heap {sg})");
        }
    }

    /// <summary>INV-STATS-2, INV-STATS-1, INV-STATS-3: heap_inuse, heap_alloc and the per-class and large counts match the spans.</summary>
    public static void CheckStats(HeapSnapshot s)
    {
        long inusePages = 0, heapAlloc = 0, largeLive = 0;
        long[] live = new long[SizeClasses.NumSizeClasses];
        foreach (int i in MappedSpans(s))
        {
            HeapSnapshot.Span sp = s.Spans[i];
            inusePages += sp.NPages;
            heapAlloc += sp.AllocCount * sp.ElemSize;
            if (sp.SizeClass != 0)
                live[sp.SizeClass] += sp.AllocCount;
            else
                largeLive++;
        }
        HeapStats st = s.Stats;
        Check(s.HeapInuse == inusePages * MallocConstants.PageSize, "INV-STATS-2", () => $"heap_inuse={s.HeapInuse} but spans hold {inusePages} pages");
        Check(st.HeapAlloc == heapAlloc, "INV-STATS-1", () => $"heap_alloc={st.HeapAlloc} but spans hold {heapAlloc} bytes of objects");
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            int cls = c;
            Check(st.BySize[c].Mallocs - st.BySize[c].Frees == live[c], "INV-STATS-3",
                () => $"class {cls}: mallocs {st.BySize[cls].Mallocs} - frees {st.BySize[cls].Frees} != {live[cls]} live objects");
        }
        Check(st.LargeAllocs - st.LargeFrees == largeLive, "INV-STATS-3", () => $"large: {st.LargeAllocs} - {st.LargeFrees} != {largeLive} live");
    }

    /// <summary>INV-ZERO-1: zeroedBase is a page boundary inside the arena, and no page at or past it is in a span or dirty.</summary>
    public static void CheckZero(HeapSnapshot s)
    {
        foreach (HeapSnapshot.Arena a in s.Arenas)
        {
            long zb = a.ZeroedBase;
            Check(zb >= 0 && zb <= MallocConstants.HeapArenaBytes && zb % MallocConstants.PageSize == 0, "INV-ZERO-1", () => $"arena 0x{a.Base:x} zeroedBase {zb}");
            for (int pg = (int)(zb >> MallocConstants.PageShift); pg < a.PageSpans.Length; pg++)
            {
                nint page = a.Base + pg * (nint)MallocConstants.PageSize;
                Check(a.PageSpans[pg] < 0, "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is in a span");
                Check(!a.Dirty[pg], "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is not zero");
            }
        }
    }
}
