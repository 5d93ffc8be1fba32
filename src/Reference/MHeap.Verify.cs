// MHeap.Verify: the Reference's whole-heap validator. Under the heap lock (a quiescent point) it
// copies the arenas, chunks, spans, span sets and Ps into a neutral HeapSnapshot and hands it to
// the shared HeapChecker (src/Allocator/Verify), which throws a HeapInvariantException naming the
// first broken INV id of spec/SPEC.md. No Go counterpart (Go checks these piecemeal with throw()s).
namespace GoAlloc.Reference;

public sealed unsafe partial class MHeap
{
    /// <summary>The heap's state as plain data; without bits, the spans' alloc and mark bits and the dirty pages are left out. Caller holds Lock.</summary>
    internal HeapSnapshot SnapshotLocked(bool bits = true)
    {
        var ids = new Dictionary<MSpan, int>();
        var order = new List<MSpan>();
        var mapped = new HashSet<MSpan>();
        int Id(MSpan? s)
        {
            if (s == null)
                return -1;
            if (!ids.TryGetValue(s, out int i))
            {
                ids[s] = i = order.Count;
                order.Add(s);
            }
            return i;
        }

        HeapSnapshot.Arena[] arenas = [.. Arenas.Select(a =>
        {
            int[] pages = new int[MallocConstants.PagesPerArena];
            for (int pg = 0; pg < pages.Length; pg++)
            {
                pages[pg] = Id(a.Spans[pg]);
                if (a.Spans[pg] is MSpan s)
                    mapped.Add(s);
            }
            bool[] dirty = bits ? HeapSnapshot.DirtyPages(a.Base, a.ZeroedBase, Pages.Contains) : new bool[pages.Length];
            return new HeapSnapshot.Arena(a.Base, true, a.ZeroedBase, pages, dirty);
        })];
        uint sg = SweepGen;
        HeapSnapshot.Cache[] ps = [.. AllP.Select(p =>
        {
            MCache mc = p.MCache;
            ulong free = 0, scav = 0;
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                free |= p.PCache.Free[k] ? 1UL << k : 0;
                scav |= p.PCache.Free[k] && p.PCache.Scavenged[k] ? 1UL << k : 0;
            }
            return new HeapSnapshot.Cache(p.Id, mc.FlushGen, [.. mc.Alloc.Select(Id)], mc.Tiny, mc.TinyOffset, p.PCache.Base, free, scav);
        })];
        HeapSnapshot.SpanSet[] sets = [.. Central.SelectMany(c => c.Sets(sg).Select(x =>
            new HeapSnapshot.SpanSet(c.SpanClass, x.Full, x.Swept, [.. x.Set.Snapshot().Select(Id)])))];
        HeapSnapshot.Span[] spans = [.. order.Select(s => new HeapSnapshot.Span(s.StartAddr, s.NPages, s.SpanClass, s.ElemSize, s.NElems, s.Limit,
            s.AllocCount, s.FreeIndex, s.SweepGen, (HeapSnapshot.State)s.State)
        {
            Mapped = mapped.Contains(s),
            AllocBits = bits && mapped.Contains(s) ? HeapSnapshot.Bits(s.AllocBits, MSpan.GcBitsBytes * 8) : [],
            MarkBits = bits && mapped.Contains(s) ? HeapSnapshot.Bits(s.GcMarkBits, MSpan.GcBitsBytes * 8) : [],
        })];
        return new HeapSnapshot
        {
            SweepGen = sg,
            Marking = _phase != GcPhase.Off,
            SweepDone = SweepDoneLocked,
            SweepCursor = _sweepClassCursor,
            Arenas = arenas,
            Spans = spans,
            Chunks = [.. Pages.Chunks.Select(c => new HeapSnapshot.Chunk(c.Base, [.. c.Alloc], [.. c.Scavenged]))],
            Ps = ps,
            Sets = sets,
            UngrownBytes = UngrownBytes,
            HeapSys = Stats.HeapSys,
            ArenaCount = Stats.Arenas,
            HeapReleased = Stats.HeapReleased,
            HeapInuse = Stats.HeapInuse,
            Stats = ReadStatsLocked(),
        };
    }

    /// <summary>
    /// INV-SWEEP-3 on its own: sweep is done, so no span is unswept or being swept and every P is
    /// flushed. Concurrency tests call it right after FinishSweep returns, while Ps allocate.
    /// </summary>
    internal void CheckSweepDone()
    {
        lock (Lock)
            HeapChecker.CheckSweepDone(SnapshotLocked(bits: false));
    }

    /// <inheritdoc/>
    public void Verify()
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            HeapChecker.Check(SnapshotLocked());
        }
    }
}
