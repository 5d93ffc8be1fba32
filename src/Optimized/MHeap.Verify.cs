// MHeap.Verify for the Optimized heap: the whole-heap validator. Under the P lock and the heap lock
// (quiescent use only) it copies the arena records, chunks, span records, span sets, overflow list
// and mcaches into a neutral HeapSnapshot for the shared HeapChecker (src/Allocator/Verify), then
// runs the checks of structures only this heap has: INV-PAGE-3 (radix summaries and searchAddr,
// PageAlloc.Verify.cs) and INV-SPAN-4's allocCache. Each throws a HeapInvariantException naming the
// first broken INV id of spec/SPEC.md. No Go counterpart (Go checks these piecemeal with throw()s).
namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    /// <summary>The heap's state as plain data. Caller holds the P lock and Lock.</summary>
    internal HeapSnapshot SnapshotLocked()
    {
        uint sg = SweepGen;
        var ids = new Dictionary<nint, int>();
        var order = new List<nint>();
        var mapped = new HashSet<nint>();
        int Id(nint s)
        {
            if (s == 0 || s == (nint)EmptySpan)
                return -1;
            if (!ids.TryGetValue(s, out int i))
            {
                ids[s] = i = order.Count;
                order.Add(s);
            }
            return i;
        }

        HeapSnapshot.Arena[] arenas = [.. _allArenas.Order().Select(ab =>
        {
            HeapArena* a = _arenaIndex.ArenaOf(ab);
            int[] pages = new int[MallocConstants.PagesPerArena];
            for (int pg = 0; pg < pages.Length; pg++)
            {
                nint s = a == null ? 0 : (nint)a->Spans[pg];
                pages[pg] = Id(s);
                if (s != 0)
                    mapped.Add(s);
            }
            long zb = a == null ? MallocConstants.HeapArenaBytes : a->ZeroedBase;
            return new HeapSnapshot.Arena(ab, a != null && a->Base == ab, zb, pages, HeapSnapshot.DirtyPages(ab, zb, Pages.Contains));
        })];
        HeapSnapshot.Cache[] ps = [.. AllP.Select(p =>
        {
            MCache* mc = p.MCache;
            int[] slots = new int[MallocConstants.NumSpanClasses];
            for (int spc = 0; spc < slots.Length; spc++)
                slots[spc] = Id((nint)mc->Span(spc));
            return new HeapSnapshot.Cache(p.Id, mc->FlushGen, slots, mc->Tiny, mc->TinyOffset, mc->PCache.Base, mc->PCache.Cache, mc->PCache.Cache & mc->PCache.Scav);
        })];
        HeapSnapshot.SpanSet[] sets = [.. Central.SelectMany(c => c.Sets(sg).Select(x =>
            new HeapSnapshot.SpanSet(c.SpanClass, x.Full, x.Swept, [.. x.Set.Snapshot().Select(Id)])))];
        int[] overflow = [.. OverflowSnapshot().Select(Id)];
        HeapSnapshot.Span[] spans = [.. order.Select(sp =>
        {
            var s = (MSpan*)sp;
            bool m = mapped.Contains(sp);
            int bits = (s->NElems + 63) / 64 * 64;
            return new HeapSnapshot.Span(s->StartAddr, s->NPages, s->SpanClass, s->ElemSize, s->NElems, s->Limit,
                s->AllocCount, s->FreeIndex, s->SweepGen, (HeapSnapshot.State)s->State)
            {
                Mapped = m,
                InOverflow = s->InOverflow == 1,
                Div = new DivMagic(s->DivShift, s->DivShift2, s->DivMul, s->BaseMask),
                AllocBits = m ? HeapSnapshot.Bits(s->AllocBits, bits) : [],
                MarkBits = m ? HeapSnapshot.Bits(s->GcMarkBits, bits) : [],
            };
        })];
        var chunks = new List<HeapSnapshot.Chunk>();
        foreach (nint cb in Pages.GrownChunkBases())
        {
            bool[] alloc = new bool[MallocConstants.PallocChunkPages], scav = new bool[MallocConstants.PallocChunkPages];
            for (int i = 0; i < alloc.Length; i++)
            {
                alloc[i] = Pages.IsAllocated(cb + i * (nint)MallocConstants.PageSize);
                scav[i] = Pages.IsScavenged(cb + i * (nint)MallocConstants.PageSize);
            }
            chunks.Add(new HeapSnapshot.Chunk(cb, alloc, scav));
        }
        return new HeapSnapshot
        {
            SweepGen = sg,
            Marking = Marking,
            SweepDone = _activeSweep.IsDone,
            SweepCursor = _activeSweep.IsDrained ? HeapSnapshot.NumSweepClasses : 0,
            Sweepers = (int)_activeSweep.Sweepers,
            Arenas = arenas,
            Spans = spans,
            Chunks = [.. chunks],
            Ps = ps,
            Sets = sets,
            Overflow = overflow,
            UngrownBytes = UngrownBytes,
            HeapSys = Stats.HeapSys,
            ArenaCount = Stats.Arenas,
            HeapReleased = Stats.HeapReleased,
            HeapInuse = Stats.HeapInuse,
            Stats = ReadStatsLocked(),
        };
    }

    /// <summary>
    /// INV-SWEEP-3 on its own, safe while Ps allocate once sweep is done (see the Reference): a
    /// snapshot of the sweep state, the Ps' flushGen and the spans' sweepgen only, read plainly (one
    /// atomic step for a systematic scheduler).
    /// </summary>
    internal void CheckSweepDone()
    {
        bool done = _activeSweep.IsDone;
        uint sg = SweepGen;
        HeapSnapshot.Cache[] ps = [.. AllP.Select(p => new HeapSnapshot.Cache(p.Id, p.MCache->FlushGen, [], 0, 0, 0, 0, 0))];
        nint[] bases;
        lock (Lock)
            bases = [.. _allArenas];
        var spans = new List<HeapSnapshot.Span>();
        var seen = new HashSet<nint>();
        foreach (nint ab in bases)
        {
            HeapArena* a = _arenaIndex.ArenaOf(ab);
            for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
            {
                var s = (MSpan*)a->Spans[pg];
                if (s != null && seen.Add((nint)s))
                    spans.Add(new HeapSnapshot.Span(s->StartAddr, s->NPages, s->SpanClass, s->ElemSize, s->NElems, s->Limit, s->AllocCount, s->FreeIndex, s->SweepGen, HeapSnapshot.State.InUse) { Mapped = true });
            }
        }
        HeapChecker.CheckSweepDone(new HeapSnapshot
        {
            SweepGen = sg,
            SweepCursor = done ? HeapSnapshot.NumSweepClasses : 0,
            Sweepers = done ? 0 : (int)_activeSweep.Sweepers,
            Ps = ps,
            Spans = [.. spans],
        });
    }

    /// <inheritdoc/>
    public void Verify()
    {
        ThrowIfDisposed();
        lock (_pLock)
            lock (Lock)
            {
                HeapChecker.Check(SnapshotLocked());
                string? summaries = Pages.CheckSummaries();
                if (summaries != null)
                    throw new HeapInvariantException("INV-PAGE-3", summaries);
                CheckAllocCaches();
            }
    }

    /// <summary>
    /// INV-SPAN-4's allocCache: for each cached span with freeindex &lt; nelems, allocCache is the
    /// complement of freeindex's 64-bit group of alloc bits shifted to freeindex: it mirrors the
    /// group's bits from freeindex on, and the bits the shifts brought in at the top are zero
    /// (nextFreeFast would trust a set one there). Caller holds the P lock and Lock.
    /// </summary>
    private void CheckAllocCaches()
    {
        foreach (P p in AllP)
        {
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
            {
                MSpan* s = p.MCache->Span(spc);
                if (s == EmptySpan || s->FreeIndex >= s->NElems)
                    continue;
                int fi = s->FreeIndex;
                ulong expect = ~*(ulong*)(s->AllocBits + (fi & ~63) / 8) >> (fi % 64);
                if (s->AllocCache != expect)
                    throw new HeapInvariantException("INV-SPAN-4", $"allocCache {s->AllocCache:x} is not {expect:x}, the alloc bits of {s->ToString()} from freeindex");
            }
        }
    }
}
