// MHeap.Verify for the Optimized heap: the whole-heap validator. Walks every arena record, chunk,
// span record, span set and mcache and checks each INV-* of spec/SPEC.md, throwing a
// HeapInvariantException naming the first broken id; adds INV-PAGE-3 (radix summaries and
// searchAddr). Quiescent use only: takes the P lock and the heap lock.
namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    private static void Check(bool ok, string id, Func<string> detail)
    {
        if (!ok)
            throw new HeapInvariantException(id, detail());
    }

    /// <summary>spanOf without barriers (Verify runs quiescent, under the heap lock).</summary>
    private static MSpan* SpanOfPlain(Dictionary<nint, nint> arenas, nint p)
    {
        nint ab = p & ~(nint)(MallocConstants.HeapArenaBytes - 1);
        if (!arenas.TryGetValue(ab, out nint rec))
            return null;
        return (MSpan*)((HeapArena*)rec)->Spans[(int)((p - ab) >> MallocConstants.PageShift)];
    }

    /// <summary>
    /// INV-SWEEP-3 on its own, safe while Ps allocate once sweep is done (see the Reference). Plain
    /// reads only: one atomic step for a systematic scheduler.
    /// </summary>
    internal void CheckSweepDone()
    {
        if (!_activeSweep.IsDone)
            throw new HeapInvariantException("INV-SWEEP-3", "FinishSweep returned but the sweep-state word is not done");
        uint sg = SweepGen;
        foreach (P p in AllP)
            Check(p.MCache->FlushGen == sg, "INV-SWEEP-3", () => $"sweep is done but P{p.Id} is not flushed (flushGen {p.MCache->FlushGen}, sweepgen {sg})");
        nint[] bases;
        lock (Lock)
            bases = [.. _allArenas];
        foreach (nint ab in bases)
        {
            HeapArena* a = _arenaIndex.ArenaOf(ab);
            for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
            {
                var s = (MSpan*)a->Spans[pg];
                if (s == null)
                    continue;
                uint g = s->SweepGen;
                Check(g != sg - 2 && g != sg - 1 && g != sg + 1, "INV-SWEEP-3", () => $"sweep is done but {s->ToString()} has sweepgen {g} (heap {sg})");
            }
        }
    }

    /// <inheritdoc/>
    public void Verify()
    {
        ThrowIfDisposed();
        lock (_pLock)
            lock (Lock)
            {
                uint sg = SweepGen;
                var arenas = _allArenas.OrderBy(a => a).ToList();
                var records = arenas.ToDictionary(a => a, a => (nint)_arenaIndex.ArenaOf(a));

                // INV-ARENA-1
                for (int i = 0; i < arenas.Count; i++)
                {
                    nint a = arenas[i];
                    Check(a % MallocConstants.HeapArenaBytes == 0 && _arenaIndex.ArenaOf(a) != null && _arenaIndex.ArenaOf(a)->Base == a,
                        "INV-ARENA-1", () => $"arena 0x{a:x} is misaligned or not in the index");
                    Check(i == 0 || arenas[i - 1] + (nint)MallocConstants.HeapArenaBytes <= a, "INV-ARENA-1", () => $"arena 0x{a:x} overlaps");
                }
                Check(arenas.Count * MallocConstants.HeapArenaBytes == Stats.HeapSys && arenas.Count == Stats.Arenas,
                    "INV-ARENA-1", () => $"{arenas.Count} arenas but heap_sys={Stats.HeapSys} arenas={Stats.Arenas}");

                // In-use spans from the spans arrays (INV-SPAN-1).
                var spans = new List<nint>();
                var seen = new HashSet<nint>();
                foreach (nint ab in arenas)
                {
                    HeapArena* a = (HeapArena*)records[ab];
                    for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
                    {
                        var s = (MSpan*)a->Spans[pg];
                        if (s == null)
                            continue;
                        nint page = ab + pg * (nint)MallocConstants.PageSize;
                        Check((SpanState)s->State == SpanState.InUse, "INV-SPAN-1", () => $"page 0x{page:x} maps to a {(SpanState)s->State} span {s->ToString()}");
                        Check(page >= s->StartAddr && page < s->End, "INV-SPAN-1", () => $"page 0x{page:x} maps to {s->ToString()}, which does not contain it");
                        if (seen.Add((nint)s))
                            spans.Add((nint)s);
                    }
                }
                foreach (nint sp in spans)
                {
                    var s = (MSpan*)sp;
                    for (int k = 0; k < s->NPages; k++)
                    {
                        nint page = s->StartAddr + k * (nint)MallocConstants.PageSize;
                        Check(SpanOfPlain(records, page) == s, "INV-SPAN-1", () => $"spanOf(0x{page:x}) is not {s->ToString()}");
                    }
                }

                // INV-SWEEP-1
                foreach (nint sp in spans)
                {
                    var s = (MSpan*)sp;
                    uint g = s->SweepGen;
                    Check(g == sg - 2 || g == sg || g == sg + 1 || g == sg + 3, "INV-SWEEP-1", () => $"{s->ToString()} has sweepgen {g} at heap sweepgen {sg}");
                }

                // INV-PAGE-1 / 2 / 3
                var cachePages = new Dictionary<nint, (int P, bool Scav)>();
                foreach (P p in AllP)
                {
                    PageCache pc = p.MCache->PCache;
                    for (int k = 0; k < MallocConstants.PageCachePages; k++)
                    {
                        if ((pc.Cache & (1UL << k)) == 0)
                            continue;
                        nint page = pc.Base + k * (nint)MallocConstants.PageSize;
                        Check(cachePages.TryAdd(page, (p.Id, (pc.Scav & (1UL << k)) != 0)), "INV-PAGE-1", () => $"page 0x{page:x} is in two page caches");
                    }
                }
                long scavengedPages = 0;
                foreach (nint chunkBase in Pages.GrownChunkBases())
                {
                    for (int i = 0; i < MallocConstants.PallocChunkPages; i++)
                    {
                        nint page = chunkBase + i * (nint)MallocConstants.PageSize;
                        MSpan* s = SpanOfPlain(records, page);
                        bool inCache = cachePages.TryGetValue(page, out (int P, bool Scav) cached);
                        bool inSpan = s != null;
                        bool alloc = Pages.IsAllocated(page), scav = Pages.IsScavenged(page);
                        Check(!(inSpan && inCache), "INV-PAGE-1", () => $"page 0x{page:x} is in a span and in P{cached.P}'s page cache");
                        Check(alloc == (inSpan || inCache), "INV-PAGE-1",
                            () => $"page 0x{page:x}: bitmap says {(alloc ? "allocated" : "free")} but span={(inSpan ? s->ToString() : "none")} cache={inCache}");
                        Check(!scav || !alloc, "INV-PAGE-2", () => $"page 0x{page:x} is scavenged but allocated");
                        if (scav)
                            scavengedPages++;
                        if (inCache && cached.Scav)
                            scavengedPages++;
                    }
                }
                foreach (nint page in cachePages.Keys)
                    Check(Pages.Contains(page), "INV-PAGE-1", () => $"page-cache page 0x{page:x} is outside every grown chunk");
                Check(Stats.HeapReleased == scavengedPages * MallocConstants.PageSize + UngrownBytes, "INV-PAGE-2",
                    () => $"heap_released={Stats.HeapReleased} but scavenged pages={scavengedPages} and ungrown bytes={UngrownBytes}");
                string? summaries = Pages.CheckSummaries();
                Check(summaries == null, "INV-PAGE-3", () => summaries!);

                // Locations (INV-SWEEP-2, INV-CACHE-1).
                var cachedBy = new Dictionary<nint, int>();
                foreach (P p in AllP)
                {
                    MCache* mc = p.MCache;
                    uint fg = mc->FlushGen;
                    Check(fg == sg || fg == sg - 2, "INV-CACHE-1", () => $"P{p.Id} flushGen {fg} at sweepgen {sg}");
                    for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
                    {
                        MSpan* s = mc->Span(spc);
                        if (s == EmptySpan)
                            continue;
                        int cls = spc;
                        Check((SpanState)s->State == SpanState.InUse && s->SpanClass == spc, "INV-CACHE-1", () => $"P{p.Id} slot {cls} holds {s->ToString()}");
                        uint want = fg == sg ? sg + 3 : sg + 1;
                        Check(s->SweepGen == want, "INV-SWEEP-2", () => $"P{p.Id} caches {s->ToString()} with sweepgen {s->SweepGen}, expected {want}");
                        Check(cachedBy.TryAdd((nint)s, p.Id), "INV-SWEEP-2", () => $"{s->ToString()} is cached by two Ps");
                        // allocCache is the complement of freeindex's 64-bit group of alloc bits shifted to
                        // freeindex: it mirrors the group's bits from freeindex on, and the bits the shifts
                        // brought in at the top are zero (nextFreeFast would trust a set one there).
                        if (s->FreeIndex < s->NElems)
                        {
                            int fi = s->FreeIndex;
                            ulong expect = ~*(ulong*)(s->AllocBits + (fi & ~63) / 8) >> (fi % 64);
                            Check(s->AllocCache == expect, "INV-SPAN-4", () => $"allocCache {s->AllocCache:x} is not {expect:x}, the alloc bits of {s->ToString()} from freeindex");
                        }
                    }
                    Check(mc->TinyOffset is >= 0 and <= SizeClasses.MaxTinySize, "INV-CACHE-1", () => $"P{p.Id} tinyoffset {mc->TinyOffset}");
                    if (mc->Tiny != 0)
                    {
                        MSpan* ts = SpanOfPlain(records, mc->Tiny);
                        Check(ts != null && ts->SpanClass == MallocConstants.TinySpanClass && (mc->Tiny - ts->StartAddr) % SizeClasses.MaxTinySize == 0
                            && ts->IsAllocated(ts->ObjIndex(mc->Tiny)), "INV-CACHE-1", () => $"P{p.Id} tiny block 0x{mc->Tiny:x} is not an allocated tiny-class object");
                    }
                }
                var inSet = new Dictionary<nint, string>();
                var live = seen;
                foreach (MCentral central in Central)
                {
                    foreach ((SpanSet set, bool full, bool swept) in central.Sets(sg))
                    {
                        string where = $"mcentral[{central.SpanClass}].{(full ? "full" : "partial")}{(swept ? "Swept" : "Unswept")}";
                        foreach (nint sp in set.Snapshot())
                        {
                            var s = (MSpan*)sp;
                            Check(!swept || (live.Contains(sp) && (SpanState)s->State == SpanState.InUse), "INV-SWEEP-2", () => $"{where} holds a dead span record 0x{sp:x}");
                            if (!live.Contains(sp) || (SpanState)s->State != SpanState.InUse)
                                continue; // stale unswept entry for a freed record
                            if (!swept && s->SweepGen != sg - 2)
                                continue; // stale unswept entry: swept and placed elsewhere (or record reused)
                            Check(s->SpanClass == central.SpanClass, "INV-SWEEP-2", () => $"{where} holds {s->ToString()} of another class");
                            Check(s->SweepGen == (swept ? sg : sg - 2), "INV-SWEEP-2", () => $"{where} holds {s->ToString()} with sweepgen {s->SweepGen} (heap {sg})");
                            Check(full == (s->AllocCount == s->NElems), "INV-SWEEP-2", () => $"{where} holds {s->ToString()}");
                            Check(inSet.TryAdd(sp, where), "INV-SWEEP-2", () => $"{s->ToString()} is in {inSet[sp]} and {where}");
                            Check(!cachedBy.ContainsKey(sp), "INV-SWEEP-2", () => $"{s->ToString()} is in {where} and cached by P{cachedBy[sp]}");
                        }
                    }
                }
                // The overflow list stands for the sets its spans could not be pushed into: swept in
                // this cycle, or (sweep not done) unswept.
                foreach (nint sp in OverflowSnapshot())
                {
                    var s = (MSpan*)sp;
                    Check(live.Contains(sp) && (SpanState)s->State == SpanState.InUse && s->InOverflow == 1
                        && (s->SweepGen == sg || (!_activeSweep.IsDone && s->SweepGen == sg - 2)),
                        "INV-SWEEP-2", () => $"the overflow list holds 0x{sp:x}, not a span in use swept or waiting for this cycle's sweep");
                    Check(inSet.TryAdd(sp, "the overflow list"), "INV-SWEEP-2", () => $"{s->ToString()} is in {inSet[sp]} and the overflow list");
                    Check(!cachedBy.ContainsKey(sp), "INV-SWEEP-2", () => $"{s->ToString()} is in the overflow list and cached by P{cachedBy[sp]}");
                }

                bool sweepDone = _activeSweep.IsDone;
                bool marking = Marking;
                long heapAlloc = 0, inusePages = 0, largeLive = 0;
                var liveByClass = new long[SizeClasses.NumSizeClasses];
                foreach (nint sp in spans)
                {
                    var s = (MSpan*)sp;
                    inusePages += s->NPages;
                    Check(cachedBy.ContainsKey(sp) || inSet.ContainsKey(sp), "INV-SWEEP-2", () => $"{s->ToString()} is in use but neither cached nor in any span set");
                    Check(!sweepDone || (s->SweepGen != sg - 2 && s->SweepGen != sg + 1), "INV-SWEEP-3", () => $"sweep is done but {s->ToString()} is unswept");
                    int sc = s->SizeClass;
                    if (sc != 0)
                    {
                        DivMagic m = SizeClasses.ClassToDivMagic[sc];
                        Check(s->NPages == SizeClasses.ClassToAllocNPages[sc] && s->ElemSize == SizeClasses.ClassToSize[sc]
                            && s->NElems == s->NPages * MallocConstants.PageSize / s->ElemSize && s->Limit == s->StartAddr + (nint)(s->NElems * s->ElemSize)
                            && s->DivShift == m.Shift && s->DivShift2 == m.Shift2 && s->DivMul == m.Mul && s->BaseMask == m.BaseMask,
                            "INV-SPAN-2", () => $"bad geometry {s->ToString()}");
                    }
                    else
                    {
                        Check(s->NElems == 1 && s->ElemSize == s->NPages * MallocConstants.PageSize && s->Limit > s->StartAddr && s->Limit <= s->End,
                            "INV-SPAN-2", () => $"bad large geometry {s->ToString()}");
                    }
                    Check(s->FreeIndex >= 0 && s->FreeIndex <= s->NElems, "INV-SPAN-4", () => $"freeindex out of range {s->ToString()}");
                    int allocated = 0, marked = 0, allocBits = 0;
                    int bitsRounded = (s->NElems + 63) / 64 * 64;
                    for (int i = 0; i < bitsRounded; i++)
                    {
                        if (i >= s->NElems)
                        {
                            int bit = i;
                            Check(!s->IsAllocBitSet(bit) && !s->IsMarked(bit), "INV-SPAN-4", () => $"bit {bit} beyond nelems set in {s->ToString()}");
                            continue;
                        }
                        bool isAlloc = s->IsAllocated(i);
                        if (isAlloc)
                            allocated++;
                        if (s->IsAllocBitSet(i))
                            allocBits++;
                        if (s->IsMarked(i))
                        {
                            marked++;
                            int obj = i;
                            Check(isAlloc, "INV-SPAN-4", () => $"object {obj} of {s->ToString()} is marked but not allocated");
                        }
                    }
                    Check(allocated == s->AllocCount, "INV-SPAN-3", () => $"{s->ToString()}: {allocated} objects allocated by the bitmap, allocCount {s->AllocCount}");
                    bool swept = s->SweepGen == sg || s->SweepGen == sg + 3;
                    if (!cachedBy.ContainsKey(sp) && swept)
                        Check(s->AllocCount > 0 && allocBits <= s->AllocCount, "INV-SPAN-3", () => $"uncached swept {s->ToString()} has {allocBits} alloc bits");
                    if (!marking && swept)
                        Check(marked == 0, "INV-MARK-1", () => $"swept {s->ToString()} has {marked} mark bits outside the mark phase");
                    heapAlloc += s->AllocCount * s->ElemSize;
                    if (sc != 0)
                        liveByClass[sc] += s->AllocCount;
                    else
                        largeLive++;
                }

                int stalePs = AllP.Count(p => p.MCache->FlushGen != sg);
                Check(_activeSweep.Sweepers == stalePs, "INV-SWEEP-4", () => $"sweeper count {_activeSweep.Sweepers} but {stalePs} Ps are unflushed and no sweep is running");
                if (_activeSweep.IsDrained)
                {
                    foreach (MCentral central in Central)
                    {
                        bool empty = central.PartialUnswept(sg).Snapshot().All(sp => !live.Contains(sp) || ((MSpan*)sp)->SweepGen != sg - 2)
                            && central.FullUnswept(sg).Snapshot().All(sp => !live.Contains(sp) || ((MSpan*)sp)->SweepGen != sg - 2);
                        Check(empty, "INV-SWEEP-4", () => $"drained but mcentral[{central.SpanClass}] still has unswept spans");
                    }
                }

                Check(Stats.HeapInuse == inusePages * MallocConstants.PageSize, "INV-STATS-2", () => $"heap_inuse={Stats.HeapInuse} but spans hold {inusePages} pages");
                HeapStats st = ReadStatsLocked();
                Check(st.HeapAlloc == heapAlloc, "INV-STATS-1", () => $"heap_alloc={st.HeapAlloc} but spans hold {heapAlloc} bytes of objects");
                for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
                {
                    int cls = c;
                    Check(st.BySize[c].Mallocs - st.BySize[c].Frees == liveByClass[c], "INV-STATS-3",
                        () => $"class {cls}: mallocs {st.BySize[cls].Mallocs} - frees {st.BySize[cls].Frees} != {liveByClass[cls]} live objects");
                }
                Check(st.LargeAllocs - st.LargeFrees == largeLive, "INV-STATS-3", () => $"large: {st.LargeAllocs} - {st.LargeFrees} != {largeLive} live");

                foreach (nint ab in arenas)
                {
                    HeapArena* a = (HeapArena*)records[ab];
                    long zb = a->ZeroedBase;
                    Check(zb >= 0 && zb <= MallocConstants.HeapArenaBytes && zb % MallocConstants.PageSize == 0, "INV-ZERO-1", () => $"arena 0x{ab:x} zeroedBase {zb}");
                    for (long off = zb; off < MallocConstants.HeapArenaBytes; off += MallocConstants.PageSize)
                    {
                        nint page = ab + (nint)off;
                        Check(a->Spans[(int)(off >> MallocConstants.PageShift)] == 0, "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is in a span");
                        if (!Pages.Contains(page))
                            continue;
                        long first = *(long*)page, last = *(long*)(page + (nint)MallocConstants.PageSize - 8);
                        Check(first == 0 && last == 0, "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is not zero");
                    }
                }
            }
    }
}
