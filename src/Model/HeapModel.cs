// HeapModel: what a heap *means*, written from spec/SPEC.md (sections 2.4, 2.7, 4.5-4.14, the
// INV-STATS / INV-MARK / INV-ZERO rules) and not from either allocator. It knows nothing of spans,
// sweepgens or free lists: only objects and cycles.
//   - every object: base, requested size, slot size, size class, span class, and whether it is
//     marked in the current mark phase or doomed (left unmarked by the last one, not yet freed);
//     a tiny block is one 16-byte class-2 object;
//   - per P: held or idle, the cycle its mcache was last flushed in (stale = flushed before the
//     last FinishMark), its tiny block and tinyoffset (4.9; dropped at every flush, 2.4);
//   - per cycle: the doomed set (exactly the unmarked objects, allocate-black and every P's tiny
//     block at FinishMark being marked), which the sweep must free, nothing more and nothing less;
//   - the counters the stats must equal (INV-STATS-1..3, 4.14).
// The caller (ModelCheckedHeap) reports each completed heap call; the model checks the answer and
// throws ModelViolationException naming the identity. Memory: every object is checked to read zero
// when it must (INV-ZERO-1) and then filled with a pattern, so reused slots, pages given back by a
// sweep and scavenged pages are caught when they come back dirty.
// Frees are seen through OnFree (SeesFrees); without the hook the doomed set is applied at the
// first point the heap reports sweep done, and stats in between are checked as ranges.
// Single-threaded: one call at a time.
namespace GoAlloc.Model;

public sealed unsafe class HeapModel
{
    /// <summary>The byte written into every object the model hands back to its caller.</summary>
    public const byte Pattern = 0xA5;

    /// <summary>Objects larger than this are filled and checked in samples (64 bytes per page and the last 64 bytes).</summary>
    public const long FullCheckBytes = 1 << 20;

    private sealed class Obj
    {
        public nint Base;
        public long Slot;
        /// <summary>Bytes from Base that Mark / FindObject accept: the slot, or a large object's requested size (its limit).</summary>
        public long Limit;
        public int SizeClass;
        public int SpanClass;
        public bool Marked;
        public bool Doomed;
        public override string ToString() => $"0x{Base:x} (slot {Slot}, span class {SpanClass}{(Doomed ? ", unmarked" : "")})";
    }

    private sealed class PState
    {
        public bool Held;
        public int FlushedCycle;
        /// <summary>Allocated a small or tiny object since its last flush: its mcache holds spans.</summary>
        public bool CachesSpans;
        public nint Tiny;
        public long TinyOffset;
    }

    private readonly Dictionary<nint, Obj> _objects = [];
    /// <summary>Small objects by the page of their base (for interior pointers); large objects apart.</summary>
    private readonly Dictionary<long, List<Obj>> _byPage = [];
    private readonly List<Obj> _large = [];
    private readonly PState[] _ps;
    private int _doomedCount;
    private long _doomedBytes;

    // The counters the stats must equal.
    private long _liveBytes;
    private readonly long[] _nmalloc = new long[SizeClasses.NumSizeClasses];
    private readonly long[] _nfree = new long[SizeClasses.NumSizeClasses];
    private long _largeAllocs, _largeFrees, _tinyAllocs;
    private long _markedBytes, _heapMarked, _cycles, _badMarks, _samples;

    public HeapModel(int procs, bool seesFrees, bool seesSamples, bool strictMarks, bool fillObjects = true)
    {
        FillObjects = fillObjects;
        _ps = [.. Enumerable.Range(0, procs).Select(_ => new PState())];
        SeesFrees = seesFrees;
        SeesSamples = seesSamples;
        StrictMarks = strictMarks;
    }

    /// <summary>OnFree reports every freed object (else frees are inferred at sweep-done points).</summary>
    public bool SeesFrees { get; }
    public bool SeesSamples { get; }
    public bool StrictMarks { get; }
    /// <summary>Fill every object with Pattern once checked (off for callers that fill objects themselves).</summary>
    public bool FillObjects { get; }
    public bool Marking { get; private set; }
    public int LiveObjects => _objects.Count;
    public long LiveBytes => _liveBytes;
    public int Cycles => (int)_cycles;

    private static ModelViolationException Fail(string identity, string detail) => new(identity, detail);

    // ------------------------------------------------------------------ Ps (2.4)

    public void Acquired(int p)
    {
        PState s = _ps[p];
        s.Held = true;
        if (s.FlushedCycle != _cycles)
            FlushP(s); // prepareForSweep: a stale mcache is flushed by its acquirer
    }

    public void Released(int p) => _ps[p].Held = false;

    /// <summary>IProcessor.Flush: releaseAll drops the tiny block.</summary>
    public void Flushed(int p) => FlushP(_ps[p]);

    private void FlushP(PState s)
    {
        s.Tiny = 0;
        s.TinyOffset = 0;
        s.FlushedCycle = (int)_cycles;
        s.CachesSpans = false;
    }

    /// <summary>
    /// Some P last flushed before the last FinishMark still caches spans: their pages are in this
    /// cycle's sweep, but no sweeper can reach them until that P is flushed (pacing, 4.8).
    /// </summary>
    public bool StaleCachesHoldSpans => _ps.Any(s => s.CachesSpans && s.FlushedCycle != _cycles);

    private void FlushIdleStalePs()
    {
        foreach (PState s in _ps)
        {
            if (!s.Held && s.FlushedCycle != _cycles)
                FlushP(s);
        }
    }

    // ------------------------------------------------------------------ allocation (4.5, 4.7, 4.9)

    /// <summary>P <paramref name="p"/>'s Alloc(size, noscan, needzero) returned addr.</summary>
    public void Allocated(int p, long size, bool noscan, bool needzero, nint addr, nint zeroBase)
    {
        if (size == 0)
        {
            if (addr != zeroBase)
                throw Fail(ModelIdentity.Placement, $"Alloc(0) returned 0x{addr:x}, not zerobase 0x{zeroBase:x}");
            return;
        }
        PState ps = _ps[p];
        if (size <= SizeClasses.MaxSmallSize)
            ps.CachesSpans = true;
        if (noscan && size < SizeClasses.MaxTinySize)
        {
            AllocatedTiny(ps, p, size, needzero, addr);
            return;
        }
        Obj o;
        if (size <= SizeClasses.MaxSmallSize)
        {
            int c = SizeOracle.SizeClassOf(size);
            o = new Obj { Base = addr, Slot = SizeClasses.ClassToSize[c], SizeClass = c, SpanClass = SpanClass.Make(c, noscan) };
            o.Limit = o.Slot;
            if (addr % 8 != 0 || (o.Slot % 16 == 0 && addr % 16 != 0))
                throw Fail(ModelIdentity.Placement, $"P{p}.Alloc({size}) returned 0x{addr:x}, misaligned for a {o.Slot}-byte slot");
        }
        else
        {
            long pages = SizeOracle.Pages(size);
            o = new Obj { Base = addr, Slot = pages * MallocConstants.PageSize, Limit = size, SizeClass = 0, SpanClass = SpanClass.Make(0, noscan) };
            if ((addr & MallocConstants.PageMask) != 0)
                throw Fail(ModelIdentity.Placement, $"P{p}.Alloc({size}) returned 0x{addr:x}: a large object starts a page");
        }
        CheckFree(addr, o.Slot, $"P{p}.Alloc({size})");
        if (needzero)
            CheckZero(addr, size, $"P{p}.Alloc({size}, needzero) at 0x{addr:x}");
        Add(o);
        Fill(addr, size);
    }

    private void AllocatedTiny(PState ps, int p, long size, bool needzero, nint addr)
    {
        long off = ps.TinyOffset;
        if (size % 8 == 0)
            off = (off + 7) & ~7L;
        else if (size % 4 == 0)
            off = (off + 3) & ~3L;
        else if (size % 2 == 0)
            off = (off + 1) & ~1L;
        if (ps.Tiny != 0 && off + size <= SizeClasses.MaxTinySize)
        {
            // Combined into the P's tiny block: no new object, no sample. While marking the block is
            // marked (it now holds an object allocated black): both allocators and the contract test
            // HeapMarked_CountsMarkedAllocatedBlackAndTinyBlocksExactly do this, beyond Go, whose
            // early return leaves it to gcMarkTinyAllocs (spec 4.9).
            if (addr != ps.Tiny + (nint)off)
                throw Fail(ModelIdentity.Placement, $"P{p}.Alloc({size}, noscan) returned 0x{addr:x}; the tiny rules put it at 0x{ps.Tiny + (nint)off:x} (block 0x{ps.Tiny:x}, tinyoffset {ps.TinyOffset})");
            ps.TinyOffset = off + size;
            _tinyAllocs++;
            if (Marking && _objects.TryGetValue(ps.Tiny, out Obj? block) && !block.Marked)
            {
                block.Marked = true;
                _markedBytes += block.Slot;
            }
            if (needzero)
                CheckZero(addr, size, $"P{p}.Alloc({size}, noscan, needzero), tiny at 0x{addr:x}");
            Fill(addr, size);
            return;
        }
        // A new block: a fresh 16-byte slot of span class 5, always zeroed.
        if (addr % SizeClasses.MaxTinySize != 0)
            throw Fail(ModelIdentity.Placement, $"P{p}.Alloc({size}, noscan) returned 0x{addr:x}: a new tiny block is a 16-byte slot");
        CheckFree(addr, SizeClasses.MaxTinySize, $"P{p}.Alloc({size}, noscan)");
        CheckZero(addr, SizeClasses.MaxTinySize, $"P{p}.Alloc({size}, noscan): new tiny block at 0x{addr:x}");
        var o = new Obj { Base = addr, Slot = SizeClasses.MaxTinySize, Limit = SizeClasses.MaxTinySize, SizeClass = SizeClasses.TinySizeClass, SpanClass = MallocConstants.TinySpanClass };
        Add(o);
        if (ps.Tiny == 0 || size < ps.TinyOffset)
        {
            ps.Tiny = addr;
            ps.TinyOffset = size;
        }
        Fill(addr, size);
    }

    /// <summary>[addr, addr + slot) must not overlap a live object (INV-OBJ-1). Without OnFree an overlapped unmarked object was freed.</summary>
    private void CheckFree(nint addr, long slot, string what)
    {
        if (!SeesFrees && _doomedCount > 0)
        {
            // Unmarked objects anywhere inside the new slot were freed by a sweep the model could not see.
            foreach (Obj d in Overlapping(addr, slot).Where(x => x.Doomed).ToList())
                Remove(d, freed: true);
        }
        for (int k = 0; k < 3; k++)
        {
            nint probe = k switch { 0 => addr, 1 => addr + (nint)(slot / 2), _ => addr + (nint)slot - 1 };
            Obj? o = Containing(probe);
            if (o == null)
                continue;
            if (o.Doomed && !SeesFrees)
            {
                // The sweep freed it (the model cannot see frees without the hook): apply that now.
                Remove(o, freed: true);
                k--;
                continue;
            }
            if (o.Doomed)
                throw Fail(ModelIdentity.SweepKeptDead, $"{what} returned 0x{addr:x} ({slot}-byte slot), reusing unmarked object {o} that no sweep reported freed");
            throw Fail(ModelIdentity.Placement, $"{what} returned 0x{addr:x} ({slot}-byte slot), overlapping live object {o}");
        }
    }

    private void Add(Obj o)
    {
        _objects.Add(o.Base, o);
        if (o.SizeClass == 0)
            _large.Add(o);
        else
        {
            long page = o.Base >> MallocConstants.PageShift;
            if (!_byPage.TryGetValue(page, out List<Obj>? list))
                _byPage[page] = list = [];
            list.Add(o);
        }
        _liveBytes += o.Slot;
        if (o.SizeClass == 0)
            _largeAllocs++;
        else
            _nmalloc[o.SizeClass]++;
        if (Marking)
        {
            // Allocate-black (2.7): every new object of the mark phase is marked.
            o.Marked = true;
            _markedBytes += o.Slot;
        }
    }

    private void Remove(Obj o, bool freed)
    {
        _objects.Remove(o.Base);
        if (o.SizeClass == 0)
            _large.Remove(o);
        else
        {
            long page = o.Base >> MallocConstants.PageShift;
            List<Obj> list = _byPage[page];
            list.Remove(o);
            if (list.Count == 0)
                _byPage.Remove(page);
        }
        _liveBytes -= o.Slot;
        if (o.Doomed)
        {
            _doomedCount--;
            _doomedBytes -= o.Slot;
        }
        if (!freed)
            return;
        if (o.SizeClass == 0)
            _largeFrees++;
        else
            _nfree[o.SizeClass]++;
    }

    /// <summary>Every live object overlapping [addr, addr + len).</summary>
    private IEnumerable<Obj> Overlapping(nint addr, long len)
    {
        long first = (addr >> MallocConstants.PageShift) - (SizeClasses.MaxSmallSize >> MallocConstants.PageShift);
        long last = (addr + (nint)len - 1) >> MallocConstants.PageShift;
        for (long pg = first; pg <= last; pg++)
        {
            if (!_byPage.TryGetValue(pg, out List<Obj>? list))
                continue;
            foreach (Obj x in list)
            {
                if (x.Base < addr + (nint)len && addr < x.Base + (nint)x.Slot)
                    yield return x;
            }
        }
        foreach (Obj x in _large)
        {
            if (x.Base < addr + (nint)len && addr < x.Base + (nint)x.Slot)
                yield return x;
        }
    }

    /// <summary>The live object whose slot contains ptr, if any.</summary>
    private Obj? Containing(nint ptr)
    {
        if (_objects.TryGetValue(ptr, out Obj? o) || _objects.TryGetValue(ptr & ~(nint)15, out o) || _objects.TryGetValue(ptr & ~(nint)7, out o))
        {
            if (ptr >= o.Base && ptr - o.Base < o.Slot)
                return o;
        }
        long page = ptr >> MallocConstants.PageShift;
        for (long pg = page; pg >= page - (SizeClasses.MaxSmallSize >> MallocConstants.PageShift); pg--)
        {
            if (!_byPage.TryGetValue(pg, out List<Obj>? list))
                continue;
            foreach (Obj x in list)
            {
                if (ptr >= x.Base && ptr - x.Base < x.Slot)
                    return x;
            }
        }
        foreach (Obj x in _large)
        {
            if (ptr >= x.Base && ptr - x.Base < x.Slot)
                return x;
        }
        return null;
    }

    // ------------------------------------------------------------------ the GC cycle (2.7, 4.12)

    /// <summary>StartMark returned: it ran FinishSweep (every unmarked object is freed, idle stale Ps flushed); marking begins.</summary>
    public void MarkStarted()
    {
        SweepFinished("StartMark()");
        Marking = true;
        _markedBytes = 0;
    }

    /// <summary>Mark(ptr) returned result (refused: with StrictMarks, threw ArgumentOutOfRangeException).</summary>
    public void Marked(nint ptr, bool result)
    {
        Obj? o = Containing(ptr);
        bool valid = o != null && ptr - o.Base < o.Limit;
        if (result != valid)
        {
            throw Fail(ModelIdentity.Mark, $"Mark(0x{ptr:x}) {(result ? "accepted" : "refused")} it; " +
                (o == null ? "no live object contains it" : valid ? $"it is inside live object {o}" : $"it is past the limit (0x{o.Base + (nint)o.Limit:x}) of large object {o}"));
        }
        if (!valid)
        {
            _badMarks++; // counted in strict mode too, where Mark throws (HeapStats.BadMarks: every miss)
            return;
        }
        if (!o!.Marked)
        {
            o.Marked = true;
            _markedBytes += o.Slot;
        }
    }

    /// <summary>FinishMark returned: every P's tiny block is marked (gcMarkTinyAllocs); the unmarked objects are now doomed.</summary>
    public void MarkFinished()
    {
        foreach (PState s in _ps)
        {
            if (s.Tiny != 0 && _objects.TryGetValue(s.Tiny, out Obj? t) && !t.Marked)
            {
                t.Marked = true;
                _markedBytes += t.Slot;
            }
        }
        Marking = false;
        _heapMarked = _markedBytes;
        _cycles++;
        foreach (Obj o in _objects.Values)
        {
            if (o.Marked)
                o.Marked = false;
            else
            {
                o.Doomed = true;
                _doomedCount++;
                _doomedBytes += o.Slot;
            }
        }
    }

    /// <summary>OnFree(addr, size): a sweep freed this object; it must be one the last mark phase left unmarked.</summary>
    public void Freed(nint addr, long size)
    {
        if (!_objects.TryGetValue(addr, out Obj? o))
        {
            Obj? c = Containing(addr);
            throw Fail(ModelIdentity.SweepFreedLive, $"a sweep freed 0x{addr:x} ({size} bytes), which is not a live object's base" + (c == null ? "" : $" (inside {c})"));
        }
        if (!o.Doomed)
            throw Fail(ModelIdentity.SweepFreedLive, $"a sweep freed {o}, which was marked (or allocated black) in cycle {_cycles}");
        if (size != o.Slot)
            throw Fail(ModelIdentity.SweepFreedLive, $"a sweep freed {o} as {size} bytes");
        Remove(o, freed: true);
    }

    /// <summary>The heap reports sweep done (FinishSweep, StartMark, SweepDone): nothing unmarked may be left.</summary>
    public void SweepFinished(string op)
    {
        FlushIdleStalePs();
        SweepIsDone(op);
    }

    /// <summary>SweepDone is true: every doomed object must have been freed (without OnFree: they are freed now).</summary>
    public void SweepIsDone(string op)
    {
        if (_doomedCount == 0)
            return;
        List<Obj> left = [.. _objects.Values.Where(o => o.Doomed)];
        if (SeesFrees)
        {
            throw Fail(ModelIdentity.SweepKeptDead, $"after {op} the sweep is done, but {left.Count} object(s) left unmarked in cycle {_cycles} were not freed: " +
                string.Join(", ", left.Take(4)) + (left.Count > 4 ? ", ..." : ""));
        }
        foreach (Obj o in left)
            Remove(o, freed: true);
    }

    /// <summary>OnSample was called.</summary>
    public void Sampled() => _samples++;

    // ------------------------------------------------------------------ FindObject (4.12)

    /// <summary>FindObject(ptr) returned found / info (after any sweep it ran, whose frees the model has seen).</summary>
    public void Found(nint ptr, bool found, ObjectInfo info)
    {
        string what = $"FindObject(0x{ptr:x}) = " + (found ? $"(base 0x{info.Base:x}, size {info.Size}, span class {info.SpanClass}, allocated {info.Allocated})" : "not found");
        Obj? o = Containing(ptr);
        if (o != null && ptr - o.Base < o.Limit)
        {
            bool sameObject = found && info.Base == o.Base && info.Size == o.Slot && info.SpanClass == o.SpanClass;
            if (o.Doomed)
            {
                // Unmarked, not freed yet (or freed without the hook telling): if reported, as not allocated.
                if (found && (!sameObject || info.Allocated))
                    throw Fail(ModelIdentity.FindObject, $"{what}; expected object {o}, not allocated (it was left unmarked)");
                return;
            }
            if (!sameObject || !info.Allocated)
                throw Fail(ModelIdentity.FindObject, $"{what}; expected live object {o}, allocated");
            return;
        }
        if (!found)
            return;
        if (o != null)
            throw Fail(ModelIdentity.FindObject, $"{what}; the address is past the limit of large object {o}: not an object");
        // A dead address: at most a free slot, which must hold the address and overlap no live object.
        if (info.Allocated)
            throw Fail(ModelIdentity.FindObject, $"{what}; no live object contains the address");
        if (ptr < info.Base || ptr - info.Base >= info.Size)
            throw Fail(ModelIdentity.FindObject, $"{what}; the reported slot does not contain the address");
        foreach (nint probe in new[] { info.Base, info.Base + (nint)info.Size - 1 })
        {
            if (Containing(probe) is { Doomed: false } x)
                throw Fail(ModelIdentity.FindObject, $"{what}; the reported free slot overlaps live object {x}");
        }
    }

    // ------------------------------------------------------------------ stats (INV-STATS-1..3, 4.14)

    /// <summary>Checks a quiescent stats snapshot against the model's counters.</summary>
    public void CheckStats(HeapStats s, string op)
    {
        // Before the sweep has told the model about every doomed object (no OnFree), frees are ranges.
        long doomedObjs = SeesFrees ? 0 : _doomedCount, doomedBytes = SeesFrees ? 0 : _doomedBytes;
        long objects = _objects.Count;
        if (s.HeapAlloc > _liveBytes || s.HeapAlloc < _liveBytes - doomedBytes)
            throw Fail(ModelIdentity.HeapAlloc, $"after {op}: heap_alloc {s.HeapAlloc}, but the live objects' slots sum to {_liveBytes}" + (doomedBytes > 0 ? $" (- up to {doomedBytes} being swept)" : "") + $" ({objects} objects)");
        if (s.HeapObjects > objects || s.HeapObjects < objects - doomedObjs)
            throw Fail(ModelIdentity.HeapObjects, $"after {op}: heap_objects {s.HeapObjects}, but {objects} objects are live");
        long mallocs = _largeAllocs, frees = _largeFrees;
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            mallocs += _nmalloc[c];
            frees += _nfree[c];
            SizeClassStats b = c < s.BySize.Length ? s.BySize[c] : default;
            if (b.Mallocs != _nmalloc[c])
                throw Fail(ModelIdentity.BySize, $"after {op}: by_size[{c}].nmalloc {b.Mallocs}, but {_nmalloc[c]} class-{c} slots were handed out");
            if (SeesFrees && b.Frees != _nfree[c])
                throw Fail(ModelIdentity.BySize, $"after {op}: by_size[{c}].nfree {b.Frees}, but sweeps freed {_nfree[c]} class-{c} slots");
        }
        if (s.Mallocs != mallocs || (SeesFrees && s.Frees != frees))
            throw Fail(ModelIdentity.MallocsFrees, $"after {op}: mallocs/frees {s.Mallocs}/{s.Frees}, expected {mallocs}/{frees}");
        if (s.LargeAllocs != _largeAllocs || (SeesFrees && s.LargeFrees != _largeFrees))
            throw Fail(ModelIdentity.LargeObjects, $"after {op}: large allocs/frees {s.LargeAllocs}/{s.LargeFrees}, expected {_largeAllocs}/{_largeFrees}");
        if (s.TinyAllocs != _tinyAllocs)
            throw Fail(ModelIdentity.TinyAllocs, $"after {op}: tiny_allocs {s.TinyAllocs}, but {_tinyAllocs} tiny objects were combined into a block");
        if (s.HeapInuse < s.HeapAlloc || s.HeapInuse != s.PagesInUse * MallocConstants.PageSize || s.HeapInuse % MallocConstants.PageSize != 0)
            throw Fail(ModelIdentity.HeapInuse, $"after {op}: heap_inuse {s.HeapInuse} (pages in use {s.PagesInUse}) with heap_alloc {s.HeapAlloc}: need heap_inuse >= heap_alloc and = 8192 x pages");
        if (s.HeapSys != s.Arenas * MallocConstants.HeapArenaBytes || s.HeapInuse > s.HeapSys || s.HeapReleased < 0 || s.HeapReleased > s.HeapSys - s.HeapInuse)
            throw Fail(ModelIdentity.HeapReleased, $"after {op}: heap_released {s.HeapReleased}, heap_sys {s.HeapSys} ({s.Arenas} arenas), heap_inuse {s.HeapInuse}: need heap_released <= heap_sys - heap_inuse");
        if (s.HeapMarked != _heapMarked)
            throw Fail(ModelIdentity.HeapMarked, $"after {op}: heap_marked {s.HeapMarked}, but the last mark phase marked {_heapMarked} bytes");
        if (s.NumGC != _cycles || s.BadMarks != _badMarks || (SeesSamples && s.ProfileSamples != _samples))
            throw Fail(ModelIdentity.Counters, $"after {op}: NumGC/BadMarks/ProfileSamples {s.NumGC}/{s.BadMarks}/{s.ProfileSamples}, expected {_cycles}/{_badMarks}/{(SeesSamples ? _samples.ToString() : "?")}");
    }

    // ------------------------------------------------------------------ memory (INV-ZERO-1)

    private static void CheckZero(nint addr, long size, string what)
    {
        long bad = FirstNonZero(addr, size);
        if (bad >= 0)
            throw Fail(ModelIdentity.Zeroing, $"{what}: byte {bad} of {size} is 0x{*(byte*)(addr + (nint)bad):x2}, not zero");
    }

    private static long FirstNonZero(nint addr, long size)
    {
        if (size <= FullCheckBytes)
        {
            int i = new ReadOnlySpan<byte>((void*)addr, (int)size).IndexOfAnyExcept((byte)0);
            return i;
        }
        for (long off = 0; off < size; off += MallocConstants.PageSize)
        {
            int n = (int)Math.Min(64, size - off);
            int i = new ReadOnlySpan<byte>((void*)(addr + (nint)off), n).IndexOfAnyExcept((byte)0);
            if (i >= 0)
                return off + i;
        }
        long tail = Math.Max(0, size - 64);
        int j = new ReadOnlySpan<byte>((void*)(addr + (nint)tail), (int)(size - tail)).IndexOfAnyExcept((byte)0);
        return j < 0 ? -1 : tail + j;
    }

    /// <summary>Fills the object's bytes (sampled when large) with Pattern, so a reuse that is not zeroed shows.</summary>
    private void Fill(nint addr, long size)
    {
        if (!FillObjects)
            return;
        if (size <= FullCheckBytes)
        {
            new Span<byte>((void*)addr, (int)size).Fill(Pattern);
            return;
        }
        for (long off = 0; off < size; off += MallocConstants.PageSize)
            new Span<byte>((void*)(addr + (nint)off), (int)Math.Min(64, size - off)).Fill(Pattern);
        long tail = Math.Max(0, size - 64);
        new Span<byte>((void*)(addr + (nint)tail), (int)(size - tail)).Fill(Pattern);
    }
}
