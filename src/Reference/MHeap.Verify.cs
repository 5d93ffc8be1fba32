// MHeap.Verify: the whole-heap validator (the expensive tier of checks). It walks every arena,
// chunk, span, span set and P and checks each invariant of spec/SPEC.md, throwing a
// HeapInvariantException that names the first broken INV id. Call it at a quiescent point: no
// thread allocating, marking or sweeping (it takes the P lock and the heap lock).
namespace GoAlloc.Reference;

public sealed unsafe partial class MHeap
{
    private static void Check(bool ok, string id, Func<string> detail)
    {
        if (!ok)
            throw new HeapInvariantException(id, detail());
    }

    /// <summary>spanOf without barriers (Verify runs with the heap quiescent and its locks held).</summary>
    private static MSpan? SpanOfPlain(IReadOnlyList<HeapArena> arenas, nint p)
    {
        foreach (HeapArena a in arenas)
        {
            if (a.Contains(p))
                return a.Spans[a.PageIndex(p)];
        }
        return null;
    }

    /// <summary>
    /// INV-SWEEP-3 on its own: once sweep is done no span is unswept or being swept and every P is
    /// flushed. Unlike Verify it is safe while Ps allocate (after sweep done nothing sweeps, and new
    /// spans are born swept), so concurrency tests call it right after FinishSweep returns. Plain
    /// reads only: it is one atomic step for a systematic scheduler.
    /// </summary>
    internal void CheckSweepDone()
    {
        if (!ActiveSweep.IsDone)
            throw new HeapInvariantException("INV-SWEEP-3", "FinishSweep returned but the sweep-state word is not done");
        uint sg = SweepGen;
        foreach (P p in AllP)
            Check(p.MCache.FlushGen == sg, "INV-SWEEP-3", () => $"sweep is done but P{p.Id} is not flushed (flushGen {p.MCache.FlushGen}, sweepgen {sg})");
        foreach (HeapArena a in Arenas)
        {
            foreach (MSpan? s in a.Spans)
            {
                if (s == null)
                    continue;
                uint g = s.SweepGen;
                Check(g != sg - 2 && g != sg - 1 && g != sg + 1, "INV-SWEEP-3", () => $"sweep is done but {s} has sweepgen {g} (heap {sg})");
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
                IReadOnlyList<HeapArena> arenas = Arenas;

                // INV-ARENA-1: 64 MiB, aligned, sorted, disjoint, all counted in heap_sys.
                for (int i = 0; i < arenas.Count; i++)
                {
                    HeapArena a = arenas[i];
                    Check(a.Base % MallocConstants.HeapArenaBytes == 0, "INV-ARENA-1", () => $"arena 0x{a.Base:x} is not 64 MiB aligned");
                    Check(i == 0 || arenas[i - 1].End <= a.Base, "INV-ARENA-1", () => $"arena 0x{a.Base:x} overlaps its predecessor");
                }
                Check(arenas.Count * MallocConstants.HeapArenaBytes == Stats.HeapSys && arenas.Count == Stats.Arenas,
                    "INV-ARENA-1", () => $"{arenas.Count} arenas but heap_sys={Stats.HeapSys} arenas={Stats.Arenas}");

                // Collect the in-use spans from the arena spans arrays, checking INV-SPAN-1 on the way.
                var spans = new List<MSpan>();
                var seen = new HashSet<MSpan>();
                foreach (HeapArena a in arenas)
                {
                    for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
                    {
                        MSpan? s = a.Spans[pg];
                        if (s == null)
                            continue;
                        nint page = a.Base + pg * (nint)MallocConstants.PageSize;
                        Check(s.StatePlain == SpanState.InUse, "INV-SPAN-1", () => $"page 0x{page:x} maps to a {s.StatePlain} span {s}");
                        Check(page >= s.StartAddr && page < s.End, "INV-SPAN-1", () => $"page 0x{page:x} maps to {s}, which does not contain it");
                        if (seen.Add(s))
                            spans.Add(s);
                    }
                }
                foreach (MSpan s in spans)
                {
                    for (int k = 0; k < s.NPages; k++)
                    {
                        nint page = s.StartAddr + k * (nint)MallocConstants.PageSize;
                        Check(SpanOfPlain(arenas, page) == s, "INV-SPAN-1", () => $"spanOf(0x{page:x}) is not {s}");
                    }
                }

                // INV-SWEEP-1: at a quiescent point no span is being swept.
                foreach (MSpan s in spans)
                {
                    Check(s.SweepGen == sg - 2 || s.SweepGen == sg || s.SweepGen == sg + 1 || s.SweepGen == sg + 3,
                        "INV-SWEEP-1", () => $"{s} has sweepgen {s.SweepGen} at heap sweepgen {sg}");
                }

                // INV-PAGE-1 / INV-PAGE-2: bitmap, page caches and spans agree; scavenged pages are free.
                var cachePages = new Dictionary<nint, (P P, bool Scav)>();
                foreach (P p in AllP)
                {
                    for (int k = 0; k < MallocConstants.PageCachePages; k++)
                    {
                        if (!p.PCache.Free[k])
                            continue;
                        nint page = p.PCache.Base + k * (nint)MallocConstants.PageSize;
                        Check(cachePages.TryAdd(page, (p, p.PCache.Scavenged[k])), "INV-PAGE-1", () => $"page 0x{page:x} is in two page caches");
                    }
                }
                long scavengedPages = 0;
                foreach (PageAlloc.Chunk c in Pages.Chunks)
                {
                    for (int i = 0; i < MallocConstants.PallocChunkPages; i++)
                    {
                        nint page = c.Base + i * (nint)MallocConstants.PageSize;
                        MSpan? s = SpanOfPlain(arenas, page);
                        bool inCache = cachePages.TryGetValue(page, out (P P, bool Scav) cached);
                        bool inSpan = s != null;
                        Check(!(inSpan && inCache), "INV-PAGE-1", () => $"page 0x{page:x} is both in {s} and in P{cached.P.Id}'s page cache");
                        Check(c.Alloc[i] == (inSpan || inCache), "INV-PAGE-1",
                            () => $"page 0x{page:x}: bitmap says {(c.Alloc[i] ? "allocated" : "free")} but span={s?.ToString() ?? "none"} cache={inCache}");
                        Check(!c.Scavenged[i] || !c.Alloc[i], "INV-PAGE-2", () => $"page 0x{page:x} is scavenged but allocated");
                        if (c.Scavenged[i])
                            scavengedPages++;
                        if (inCache && cached.Scav)
                            scavengedPages++;
                    }
                }
                foreach (nint page in cachePages.Keys)
                    Check(Pages.Contains(page), "INV-PAGE-1", () => $"page-cache page 0x{page:x} is outside every grown chunk");
                Check(Stats.HeapReleased == scavengedPages * MallocConstants.PageSize + UngrownBytes, "INV-PAGE-2",
                    () => $"heap_released={Stats.HeapReleased} but scavenged pages={scavengedPages} and ungrown bytes={UngrownBytes}");

                // Where each span is: mcache slots and span sets (INV-SWEEP-2, INV-CACHE-1).
                var cachedBy = new Dictionary<MSpan, P>();
                foreach (P p in AllP)
                {
                    MCache mc = p.MCache;
                    uint fg = mc.FlushGen;
                    Check(fg == sg || fg == sg - 2, "INV-CACHE-1", () => $"P{p.Id} flushGen {fg} at sweepgen {sg}");
                    for (int spc = 0; spc < mc.Alloc.Length; spc++)
                    {
                        MSpan? s = mc.Alloc[spc];
                        if (s == null)
                            continue;
                        Check(s.StatePlain == SpanState.InUse && s.SpanClass == spc, "INV-CACHE-1", () => $"P{p.Id} slot {spc} holds {s}");
                        uint want = fg == sg ? sg + 3 : sg + 1;
                        Check(s.SweepGen == want, "INV-SWEEP-2", () => $"P{p.Id} caches {s} with sweepgen {s.SweepGen}, expected {want}");
                        Check(cachedBy.TryAdd(s, p), "INV-SWEEP-2", () => $"{s} is cached by P{cachedBy[s].Id} and P{p.Id}");
                    }
                    Check(mc.TinyOffset is >= 0 and <= SizeClasses.MaxTinySize, "INV-CACHE-1", () => $"P{p.Id} tinyoffset {mc.TinyOffset}");
                    if (mc.Tiny != 0)
                    {
                        MSpan? ts = SpanOfPlain(arenas, mc.Tiny);
                        Check(ts != null && ts.SpanClass == MallocConstants.TinySpanClass && (mc.Tiny - ts.StartAddr) % SizeClasses.MaxTinySize == 0
                            && ts.IsAllocated(ts.ObjIndex(mc.Tiny)), "INV-CACHE-1", () => $"P{p.Id} tiny block 0x{mc.Tiny:x} is not an allocated 16-byte tiny-class object");
                    }
                }
                var inSet = new Dictionary<MSpan, string>();
                foreach (MCentral central in Central)
                {
                    foreach ((SpanSet set, bool full, bool swept) in central.Sets(sg))
                    {
                        string where = $"mcentral[{central.SpanClass}].{(full ? "full" : "partial")}{(swept ? "Swept" : "Unswept")}";
                        foreach (MSpan s in set.SnapshotUnsynchronized())
                        {
                            Check(!swept || s.StatePlain == SpanState.InUse, "INV-SWEEP-2", () => $"{where} holds a {s.StatePlain} span {s}");
                            if (s.StatePlain != SpanState.InUse)
                                continue; // a stale unswept entry for a span already freed
                            bool stale = !swept && s.SweepGen != sg - 2;
                            if (stale)
                            {
                                Check(s.SweepGen == sg || s.SweepGen == sg + 3, "INV-SWEEP-2", () => $"{where} holds stale entry {s} in sweepgen {s.SweepGen}");
                                continue; // swept by another path, which put it where it belongs
                            }
                            Check(s.SpanClass == central.SpanClass, "INV-SWEEP-2", () => $"{where} holds {s} of another class");
                            Check(s.SweepGen == (swept ? sg : sg - 2), "INV-SWEEP-2", () => $"{where} holds {s} with sweepgen {s.SweepGen} (heap {sg})");
                            Check(full == (s.AllocCount == s.NElems), "INV-SWEEP-2", () => $"{where} holds {s}");
                            Check(inSet.TryAdd(s, where), "INV-SWEEP-2", () => $"{s} is in {inSet[s]} and {where}");
                            Check(!cachedBy.ContainsKey(s), "INV-SWEEP-2", () => $"{s} is in {where} and cached by P{cachedBy[s].Id}");
                        }
                    }
                }

                bool sweepDone = ActiveSweep.IsDone;
                long heapAlloc = 0, inusePages = 0;
                var liveByClass = new long[SizeClasses.NumSizeClasses];
                long largeLive = 0;
                GcPhase phase = Phase;
                foreach (MSpan s in spans)
                {
                    inusePages += s.NPages;
                    Check(cachedBy.ContainsKey(s) || inSet.ContainsKey(s), "INV-SWEEP-2", () => $"{s} is in use but neither cached nor in any span set");
                    Check(!sweepDone || (s.SweepGen != sg - 2 && s.SweepGen != sg + 1), "INV-SWEEP-3", () => $"sweep is done but {s} is unswept");
                    // INV-SPAN-2 geometry.
                    if (s.SizeClass != 0)
                    {
                        Check(s.NPages == SizeClasses.ClassToAllocNPages[s.SizeClass] && s.ElemSize == SizeClasses.ClassToSize[s.SizeClass]
                            && s.NElems == s.NPages * MallocConstants.PageSize / s.ElemSize && s.Limit == s.StartAddr + (nint)(s.NElems * s.ElemSize),
                            "INV-SPAN-2", () => $"bad geometry {s}");
                    }
                    else
                    {
                        Check(s.NElems == 1 && s.ElemSize == s.NPages * MallocConstants.PageSize && s.Limit > s.StartAddr && s.Limit <= s.End,
                            "INV-SPAN-2", () => $"bad large geometry {s}");
                    }
                    // INV-SPAN-3 / INV-SPAN-4 counts and bits.
                    Check(s.FreeIndex >= 0 && s.FreeIndex <= s.NElems, "INV-SPAN-4", () => $"freeindex out of range {s}");
                    int allocated = 0, marked = 0, allocBits = 0;
                    for (int i = 0; i < MSpan.GcBitsBytes * 8; i++)
                    {
                        if (i >= s.NElems)
                        {
                            int bit = i;
                            Check(!s.IsAllocBitSet(bit) && !s.IsMarked(bit), "INV-SPAN-4", () => $"bit {bit} beyond nelems set in {s}");
                            continue;
                        }
                        bool isAlloc = s.IsAllocated(i);
                        if (isAlloc)
                            allocated++;
                        if (s.IsAllocBitSet(i))
                            allocBits++;
                        if (s.IsMarked(i))
                        {
                            marked++;
                            int obj = i;
                            Check(isAlloc, "INV-SPAN-4", () => $"object {obj} of {s} is marked but not allocated");
                        }
                    }
                    Check(allocated == s.AllocCount, "INV-SPAN-3", () => $"{s}: {allocated} objects allocated by the bitmap, allocCount {s.AllocCount}");
                    bool swept = s.SweepGen == sg || s.SweepGen == sg + 3;
                    if (!cachedBy.ContainsKey(s) && swept)
                    {
                        Check(s.AllocCount > 0 && allocBits <= s.AllocCount, "INV-SPAN-3", () => $"uncached swept {s} has {allocBits} alloc bits");
                    }
                    // INV-MARK-1: outside marking, swept spans carry no marks.
                    if (phase == GcPhase.Off && swept)
                        Check(marked == 0, "INV-MARK-1", () => $"swept {s} has {marked} mark bits outside the mark phase");
                    heapAlloc += s.AllocCount * s.ElemSize;
                    if (s.SizeClass != 0)
                        liveByClass[s.SizeClass] += s.AllocCount;
                    else
                        largeLive++;
                }

                // INV-SWEEP-3 / INV-SWEEP-4: the sweep-state word.
                int stalePs = AllP.Count(p => p.MCache.FlushGen != sg);
                Check(ActiveSweep.Sweepers == stalePs, "INV-SWEEP-4", () => $"sweeper count {ActiveSweep.Sweepers} but {stalePs} Ps are unflushed and no sweep is running");
                if (ActiveSweep.IsDrained)
                {
                    foreach (MCentral central in Central)
                    {
                        Check(central.PartialUnswept(sg).SnapshotUnsynchronized().Length == 0 && central.FullUnswept(sg).SnapshotUnsynchronized().Length == 0,
                            "INV-SWEEP-4", () => $"drained but mcentral[{central.SpanClass}] still has unswept entries");
                    }
                }

                // INV-STATS-*.
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

                // INV-ZERO-1: memory at or past zeroedBase was never handed out and is zero.
                foreach (HeapArena a in arenas)
                {
                    long zb = a.ZeroedBase;
                    Check(zb >= 0 && zb <= MallocConstants.HeapArenaBytes && zb % MallocConstants.PageSize == 0, "INV-ZERO-1", () => $"arena 0x{a.Base:x} zeroedBase {zb}");
                    for (long off = zb; off < MallocConstants.HeapArenaBytes; off += MallocConstants.PageSize)
                    {
                        nint page = a.Base + (nint)off;
                        Check(a.Spans[(int)(off >> MallocConstants.PageShift)] == null, "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is in a span");
                        if (!Pages.Contains(page))
                            continue;
                        long first = *(long*)page, last = *(long*)(page + (nint)MallocConstants.PageSize - 8);
                        Check(first == 0 && last == 0, "INV-ZERO-1", () => $"page 0x{page:x} past zeroedBase is not zero");
                    }
                }
            }
    }
}
