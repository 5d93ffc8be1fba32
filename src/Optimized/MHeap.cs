// MHeap: the Optimized heap (mirrors runtime/mheap.go and the entry points of malloc.go). Same
// state and the same placement policy as the Reference MHeap (spec/SPEC.md), with the metadata
// off the GC heap: span and mcache records from FixAlloc, arena records from PersistentAlloc, the
// L2 arena index for O(1) spanOf, gcBits arenas for the bitmaps, the radix-tree PageAlloc and
// lock-free spanSets. Locks: Lock (a plain object, Go's mheap.lock) for pages, arenas, span
// records and heap-lock stats; _pLock for P ownership and the stop-the-world points.
namespace GoAlloc.Optimized;

/// <summary>The Optimized heap (runtime/mheap.go): Go 1.16's allocator with its off-heap metadata, radix-tree page allocator, lock-free spanSets and fine-grained sweep protocol.</summary>
public sealed unsafe partial class MHeap : IHeap, IBackgroundSweepHeap
{
    internal readonly object Lock = new();
    private readonly object _pLock = new();
    /// <summary>The Ps and their holders (ProcTable), under _pLock.</summary>
    private readonly ProcTable<P> _procs;

    private readonly HeapOptions _options;
    private readonly PersistentAlloc _persistent = new();
    private readonly FixAlloc _spanAlloc;    // under Lock
    private readonly FixAlloc _cacheAlloc;   // under Lock
    internal readonly GcBits GcBits = new();

    // Spans whose push into their swept set was refused (out of memory while the set added a block
    // or grew its spine): the list stands for those sets. Each is swept in this cycle (sweepgen sg)
    // or, after FinishMark, unswept (sg-2): the sweep takes the unswept ones after the unswept sets
    // (NextSpanForSweep), and StartMark pushes what it can. MSpan.InOverflow marks membership.
    // Differs from Go, where the refused mapping is fatal. Under Lock.
    private readonly List<nint> _overflow = [];
    private int _overflowCount; // _overflow.Count, written under Lock; read lock-free by the sweeper's empty check

    // One mark bitmap's bytes per span in use: what the next sweep takes from GcBits' reserve.
    // Interlocked: InitSpan adds outside Lock; FinishMark reads it with the world stopped.
    private long _sweepBitmapBytes;
    internal readonly PageAlloc Pages = new();
    private readonly ArenaIndex _arenaIndex = new();

    /// <summary>
    /// Address space reserved for metadata besides the arenas: the arena index and the page
    /// allocator's summary windows and chunk map (the span, bitmap and cache records are counted
    /// in the stats' *_sys fields). Read under the heap lock.
    /// </summary>
    internal long MetadataReservedBytes
    {
        get
        {
            lock (Lock)
                return ArenaIndex.MappedBytes + Pages.ReservedBytes;
        }
    }
    private readonly SpanSetBlockPool _blockPool = new();
    internal readonly MCentral[] Central = new MCentral[MallocConstants.NumSpanClasses];
    internal readonly P[] AllP;
    internal readonly MemStats Stats = new();
    private ActiveSweep _activeSweep;
    private readonly BackgroundSweeper _bgSweeper;

    private readonly List<nint> _allArenas = [];   // arena bases in creation order, under Lock
    private readonly ArenaHints _arenaHints;                            // under Lock
    private readonly List<(nint Base, nint Size)> _reservations = [];  // under Lock
    private readonly HeapGrowth _curArena = new();  // unused tail of the current arena, under Lock
    private nint _arenaBase;

    private uint _sweepGen;   // written only at FinishMark (world stopped)
    private int _marking;     // 1 during the mark phase; written only at stop-the-world points
    private volatile bool _disposed; // set under _pLock, with _guard closed at the same time
    /// <summary>The P-less operations in flight; Dispose waits for them before it unmaps (DisposeGuard).</summary>
    private readonly DisposeGuard _guard = new();
    /// <summary>A hook exception from the background sweeper's thread, rethrown by the next FinishSweep, StartMark or StopBackgroundSweeper.</summary>
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _backgroundHookFault;
    private int _gcPercent;   // GOGC; atomic (SetGcPercent)
    private readonly nint _zeroBase;
    internal readonly MSpan* EmptySpan;

    /// <summary>Creates a heap with <paramref name="options"/> (the defaults when null), with one FixAlloc mcache per P; arenas are mapped as allocation grows the heap. Throws ArgumentOutOfRangeException for an option out of range.</summary>
    public MHeap(HeapOptions? options = null)
    {
        _options = options ?? new HeapOptions();
        _options.Validate();
        _gcPercent = _options.GcPercent;
        _onTrace = _options.OnTrace;
        _spanAlloc = new FixAlloc(sizeof(MSpan), _persistent);
        _cacheAlloc = new FixAlloc(sizeof(MCache), _persistent);
        _zeroBase = _persistent.Alloc(8, 8);
        EmptySpan = (MSpan*)_persistent.Alloc(sizeof(MSpan), 64);
        for (int i = 0; i < Central.Length; i++)
            Central[i] = new MCentral(this, i, _blockPool);
        AllP = new P[_options.Procs];
        for (int i = 0; i < AllP.Length; i++)
        {
            var c = (MCache*)_cacheAlloc.Alloc();
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
                c->Alloc[spc] = (long)EmptySpan;
            c->Sampler = new MemProfileSampler(_options.SampleSeed, i);
            c->NextSample = c->Sampler.NextSample(_options.MemProfileRate);
            c->FlushGen = 0;
            AllP[i] = new P(this, i, c);
        }
        _procs = new ProcTable<P>(AllP, TraceReclaimed);
        _arenaHints = new ArenaHints(_options.UseArenaHints);
        _activeSweep.Reset(0);
        _activeSweep.MarkDrained();
        _bgSweeper = new BackgroundSweeper(this);
    }

    /// <inheritdoc/>
    public HeapOptions Options => _options;
    /// <inheritdoc/>
    public nint ArenaBase => Volatile.Read(ref _arenaBase);
    /// <inheritdoc/>
    public nint ZeroBase => _zeroBase;
    /// <inheritdoc/>
    public int ProcCount => AllP.Length;
    /// <inheritdoc/>
    public GcPhase Phase => Marking ? GcPhase.Mark : GcPhase.Off;
    internal bool Marking => Volatile.Read(ref _marking) != 0;
    internal uint SweepGen => Volatile.Read(ref _sweepGen);
    internal bool IsDisposed => _disposed;

    internal void ThrowIfDisposed()
    {
        if (_disposed)
            ThrowHelper.Disposed();
    }

    /// <summary>Enters a P-less operation: Dispose waits until it leaves (throws ObjectDisposedException after Dispose).</summary>
    internal DisposeGuard.Scope EnterOperation() => _guard.Enter(nameof(MHeap));

    /// <summary>The background sweeper's thread hands over a hook exception it deferred.</summary>
    void IBackgroundSweepHeap.DeferBackgroundHookFault(System.Runtime.ExceptionServices.ExceptionDispatchInfo fault) =>
        Interlocked.CompareExchange(ref _backgroundHookFault, fault, null);

    /// <summary>The background sweeper's step: sweepone with no P (-1 when none is left).</summary>
    long IBackgroundSweepHeap.SweepOneInBackground() => SweepOneCore();

    /// <summary>The background sweeper's end of round: flush idle stale Ps.</summary>
    void IBackgroundSweepHeap.FlushIdleStalePsInBackground() => FlushIdleStalePs();

    /// <summary>A rethrow point of a stop-the-world or sweep operation: this thread's deferred hook exception, else the background sweeper's.</summary>
    private void ThrowHookFaults()
    {
        HookFaults.ThrowPending();
        Interlocked.Exchange(ref _backgroundHookFault, null)?.Throw();
    }

    internal bool ActiveSweepBegin() => _activeSweep.Begin();
    internal void ActiveSweepEnd() => _activeSweep.End();
    internal ref ActiveSweep ActiveSweepRef => ref _activeSweep;

    // ---------------------------------------------------------------- Ps

    /// <inheritdoc/>
    public IProcessor AcquireP()
    {
        ThrowIfDisposed();
        P p;
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            p = _procs.FindIdle();
            Take(p);
        }
        return Acquired(p);
    }

    /// <inheritdoc/>
    public IProcessor AcquireP(int id)
    {
        ThrowIfDisposed();
        P p = _procs[id];
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            _procs.RequireIdle(p);
            Take(p);
        }
        return Acquired(p);
    }

    /// <summary>Gives p to the calling thread. Caller holds _pLock and checked p is idle.</summary>
    private void Take(P p)
    {
        _procs.Take(p);
        if (Tracing)
        {
            using (ActingFor(p.Id))
                Trace(HeapTraceKind.AcquireP, null);
        }
    }

    /// <summary>acquirep's second half, outside the P lock: flush the mcache if a sweep phase started since it was last used.</summary>
    private P Acquired(P p)
    {
        if (!Seeded.Go27997StaleCacheNotFlushed())
        {
            using (ActingFor(p.Id))
                p.MCache->PrepareForSweep(this);
        }
        if (HookFaults.HasPending)
        {
            // A hook threw during the flush (which finished): give the P back, then rethrow.
            ReleaseP(p);
            HookFaults.ThrowPending();
        }
        return p;
    }

    internal void ReleaseP(P p)
    {
        ThrowIfDisposed();
        lock (_pLock)
        {
            p.CheckOwner();
            _procs.Release(p);
            if (Tracing)
            {
                using (ActingFor(p.Id))
                    Trace(HeapTraceKind.ReleaseP, null);
            }
        }
        HookFaults.ThrowPending();
    }

    /// <summary>Stop-the-world check: no P may be held by anyone. Caller holds _pLock.</summary>
    private void RequireWorldStopped(string op) => _procs.RequireWorldStopped(op);

    /// <summary>ProcTable took p back from a thread that exited holding it: traced as its release. Caller holds _pLock.</summary>
    private void TraceReclaimed(P p)
    {
        if (Tracing)
        {
            using (ActingFor(p.Id))
                Trace(HeapTraceKind.ReleaseP, null, detail: "its thread exited holding it");
        }
    }

    internal void FlushIdleStalePs()
    {
        lock (_pLock)
        {
            uint sg = SweepGen;
            foreach (P p in AllP)
            {
                if (_procs.IdleOrOrphaned(p) && Volatile.Read(ref p.MCache->FlushGen) != sg)
                    if (!Seeded.Go27997StaleCacheNotFlushed())
                    {
                        using (ActingFor(p.Id))
                            p.MCache->PrepareForSweep(this);
                    }
            }
        }
    }

    // ---------------------------------------------------------------- arenas and growth

    internal MSpan* SpanOf(nint p) => _arenaIndex.SpanOf(p);
    internal HeapArena* ArenaOf(nint p) => _arenaIndex.ArenaOf(p);

    internal List<nint> ArenaBases()
    {
        lock (Lock)
            return [.. _allArenas];
    }

    /// <summary>sysAlloc: reserves whole arenas where the arena hints say (ArenaHints), maps them and publishes their records. Caller holds Lock.</summary>
    private (nint Base, nint Size) SysAllocArenas(long ask)
    {
        (nint v, long n) = _arenaHints.Reserve(ask, Stats.HeapSys, _options.MemoryLimit);
        // Everything that can fail (the mapping, the arena records) before the first change of state.
        var records = new nint[(int)(n / MallocConstants.HeapArenaBytes)];
        try
        {
            SysMem.SysMap(v, (nint)n);
            for (int i = 0; i < records.Length; i++)
                records[i] = _persistent.Alloc(sizeof(HeapArena), 64); // lost if a later one fails: persistent
        }
        catch (OutOfMemoryException)
        {
            SysMem.SysFree(v, (nint)n);
            _arenaHints.Undo();
            throw;
        }
        _reservations.Add((v, (nint)n));
        for (int i = 0; i < records.Length; i++)
        {
            nint a = v + i * (nint)MallocConstants.HeapArenaBytes;
            var r = (HeapArena*)records[i];
            r->Base = a;
            _allArenas.Add(a);
            // Publishes the arena record to lock-free spanOf readers.
            _arenaIndex.Set(a, r);
        }
        if (_arenaBase == 0)
            Volatile.Write(ref _arenaBase, v);
        Stats.HeapSys += n;
        Stats.Arenas += n / MallocConstants.HeapArenaBytes;
        return (v, (nint)n);
    }

    /// <summary>grow: at least npages more free pages in whole chunks from the current arena. Caller holds Lock.</summary>
    private void Grow(long npages)
    {
        long ask = HeapGrowth.AskBytes(npages);
        if (!_curArena.Fits(ask))
        {
            (nint av, nint asize) = SysAllocArenas(ask);
            // New memory counts as released until it is used.
            Interlocked.Add(ref Stats.HeapReleased, asize);
            // Discontiguous: the new space is current; the rest of the old one goes to the page
            // allocator. If that is refused (out of memory), the rest stays mapped and unused (in
            // heap_sys, no longer counted as released) and the new space serves.
            (nint restBase, nint restSize) = _curArena.Add(av, asize);
            if (restSize > 0)
            {
                try
                {
                    Pages.Grow(restBase, restSize);
                }
                catch (OutOfMemoryException)
                {
                    Interlocked.Add(ref Stats.HeapReleased, -restSize);
                }
            }
        }
        // The page allocator first: if it cannot grow, the space stays ungrown.
        Pages.Grow(_curArena.Base, (nint)ask);
        _curArena.Advance(ask);
    }

    internal long UngrownBytes => _curArena.UngrownBytes;

    /// <summary>
    /// allocSpan: pages for a new in-use span. A small span comes from the P's page cache and, with
    /// a span record from the P's record cache, is set up without the heap lock (Go 1.16's HaveSpan
    /// path) unless the world is marking or the span is a large object's; everything else takes
    /// the lock (first fit, growth, a record from the fixalloc).
    /// </summary>
    internal MSpan* AllocSpan(int npages, int spanClass, int pid)
    {
        nint @base = 0;
        int scav = 0;
        MSpan* s = null;
        long nbytes = npages * MallocConstants.PageSize;
        MCache* c = pid >= 0 ? AllP[pid].MCache : null;
        if (c != null && npages < MallocConstants.PageCacheMaxSpanPages)
        {
            if (c->PCache.Empty)
            {
                lock (Lock)
                    c->PCache = Pages.AllocToCache();
            }
            @base = c->PCache.Alloc(npages, out scav);
            if (@base != 0)
            {
                s = TryAllocMSpan(c);
                if (s != null && spanClass >> 1 != 0 && !Marking)
                {
                    CommitPages(@base, nbytes, scav);
                    goto HaveSpan;
                }
            }
        }
        lock (Lock)
        {
            if (@base == 0)
            {
                @base = Pages.Alloc(npages, out scav);
                if (@base == 0)
                {
                    Grow(npages);
                    @base = Pages.Alloc(npages, out scav);
                    if (@base == 0)
                        ThrowHelper.Corrupt("INV-PAGE-1", "mheap.allocSpan: grew heap, but no adequate free space found");
                }
            }
            CommitPages(@base, nbytes, scav);
            if (s == null)
            {
                try
                {
                    s = AllocMSpanLocked(c);
                }
                catch (OutOfMemoryException)
                {
                    UndoAllocPages(@base, npages);
                    throw;
                }
            }
        }
    HaveSpan:
        try
        {
            InitSpan(s, @base, npages, spanClass);
        }
        catch (OutOfMemoryException)
        {
            // The span's bitmaps could not be mapped: give everything back, as if never taken.
            lock (Lock)
            {
                UndoAllocPages(@base, npages);
                _spanAlloc.Free((nint)s);
            }
            throw;
        }
        s->NeedZero = AllocNeedsZero(@base, npages) ? (byte)1 : (byte)0;
        Seeded.PartlyScavengedSpanTakenAsZero(s, scav);
        // Publication: every field is set before the state, the state before spanOf can find it.
        Volatile.Write(ref s->State, (int)SpanState.InUse);
        SetSpans(s, (nint)s);
        return s;
    }

    /// <summary>
    /// The pages of a new span become usable (sysUsed where scavenged) and leave heap_released for
    /// heap_inuse. Atomic adds: allocSpan's lock-free path commits too.
    /// </summary>
    private void CommitPages(nint @base, long nbytes, int scav)
    {
        if (scav != 0)
        {
            SysMem.SysUsed(@base, (nint)nbytes);
            Interlocked.Add(ref Stats.HeapReleased, -scav * MallocConstants.PageSize);
        }
        Interlocked.Add(ref Stats.HeapInuse, nbytes);
    }

    /// <summary>tryAllocMSpan: a span record from the P's record cache without the heap lock, or null when it is empty. The P's holder only.</summary>
    private static MSpan* TryAllocMSpan(MCache* c) =>
        c->SpanCacheLen == 0 ? null : (MSpan*)c->SpanCache[--c->SpanCacheLen];

    /// <summary>
    /// allocMSpanLocked: a span record; under Lock. With a P, an empty record cache is first
    /// refilled to half its capacity from the fixalloc; without one, the fixalloc's record directly.
    /// </summary>
    private MSpan* AllocMSpanLocked(MCache* c)
    {
        if (c == null)
            return (MSpan*)_spanAlloc.Alloc();
        if (c->SpanCacheLen == 0)
        {
            // A refused fixalloc chunk throws; the records taken before it stay in the cache.
            while (c->SpanCacheLen < MCache.SpanCacheEntries / 2)
            {
                nint record = _spanAlloc.Alloc();
                c->SpanCache[c->SpanCacheLen++] = record;
            }
        }
        return (MSpan*)c->SpanCache[--c->SpanCacheLen];
    }

    /// <summary>
    /// Puts a swept span (sweepgen sg, not cached) into its swept set: full or partial by its count.
    /// A refused push (the set could not map a block; it is left as it was) parks the span in the
    /// overflow list instead, so the operation that swept or returned it still completes.
    /// </summary>
    internal void PushSwept(MCentral c, MSpan* s, uint sg)
    {
        try
        {
            SweptSetOf(c, s, sg).Push((nint)s);
        }
        catch (OutOfMemoryException)
        {
            lock (Lock)
            {
                _overflow.Add((nint)s);
                s->InOverflow = 1;
                Volatile.Write(ref _overflowCount, _overflow.Count);
            }
        }
    }

    /// <summary>The swept set of cycle sg that a span belongs in: full or partial by its count.</summary>
    private static SpanSet SweptSetOf(MCentral c, MSpan* s, uint sg) =>
        s->AllocCount == s->NElems ? c.FullSwept(sg) : c.PartialSwept(sg);

    /// <summary>Takes a span its sweeper now owns out of the overflow list (mspan.sweep, first step).</summary>
    private void LeaveOverflow(MSpan* s)
    {
        lock (Lock)
        {
            if (s->InOverflow == 0)
                return;
            _overflow.Remove((nint)s);
            s->InOverflow = 0;
            Volatile.Write(ref _overflowCount, _overflow.Count);
        }
    }

    /// <summary>An unswept span (sg-2) from the overflow list, for the sweeper to claim; null if none.</summary>
    private MSpan* UnsweptFromOverflow(uint sg)
    {
        // Reads the count without the lock: the common case is an empty list. A span parked
        // meanwhile is swept (sg) already, so missing it loses no unswept span.
        if (Volatile.Read(ref _overflowCount) == 0)
            return null;
        lock (Lock)
        {
            foreach (nint sp in _overflow)
            {
                if (((MSpan*)sp)->SweepGen == sg - 2)
                    return (MSpan*)sp;
            }
            return null;
        }
    }

    /// <summary>
    /// A swept span of spanClass with free slots, taken out of the overflow list (mcentral.cacheSpan,
    /// when the partial swept set it stands for is empty); null if none.
    /// </summary>
    internal MSpan* TakeSweptPartialFromOverflow(int spanClass, uint sg)
    {
        // The list is empty almost always: one read, no lock.
        if (Volatile.Read(ref _overflowCount) == 0)
            return null;
        lock (Lock)
        {
            for (int i = _overflow.Count - 1; i >= 0; i--)
            {
                var s = (MSpan*)_overflow[i];
                if (s->SpanClass == spanClass && Volatile.Read(ref s->SweepGen) == sg && s->AllocCount < s->NElems)
                {
                    _overflow.RemoveAt(i);
                    s->InOverflow = 0;
                    Volatile.Write(ref _overflowCount, _overflow.Count);
                    return s;
                }
            }
            return null;
        }
    }

    /// <summary>
    /// Pushes the overflow list's spans into their swept sets, as far as the sets can grow
    /// (StartMark: world stopped, sweep finished, so every one is swept).
    /// </summary>
    private void DrainOverflow()
    {
        lock (Lock)
        {
            uint sg = SweepGen;
            while (_overflow.Count > 0)
            {
                var s = (MSpan*)_overflow[^1];
                MCentral c = Central[s->SpanClass];
                try
                {
                    SweptSetOf(c, s, sg).Push((nint)s);
                }
                catch (OutOfMemoryException)
                {
                    return; // the rest stay: the next cycle's sweep finds them here
                }
                _overflow.RemoveAt(_overflow.Count - 1);
                s->InOverflow = 0;
                Volatile.Write(ref _overflowCount, _overflow.Count);
            }
        }
    }

    /// <summary>The spans in the overflow list (Verify; quiescent).</summary>
    internal nint[] OverflowSnapshot()
    {
        lock (Lock)
            return [.. _overflow];
    }

    /// <summary>Returns the pages of a span that could not be set up (out of memory). Caller holds Lock.</summary>
    private void UndoAllocPages(nint @base, int npages)
    {
        Pages.Free(@base, npages);
        Interlocked.Add(ref Stats.HeapInuse, -npages * MallocConstants.PageSize);
    }

    private void InitSpan(MSpan* s, nint @base, int npages, int spanClass)
    {
        s->StartAddr = @base;
        s->NPages = npages;
        s->SpanClass = spanClass;
        int sizeClass = spanClass >> 1;
        long nbytes = npages * MallocConstants.PageSize;
        if (sizeClass == 0)
        {
            s->ElemSize = nbytes;
            s->NElems = 1;
            s->DivShift = s->DivShift2 = 0;
            s->DivMul = 0;
            s->BaseMask = 0;
        }
        else
        {
            s->ElemSize = SizeClasses.ClassToSize[sizeClass];
            s->NElems = (int)(nbytes / s->ElemSize);
            DivMagic m = SizeClasses.ClassToDivMagic[sizeClass];
            s->DivShift = m.Shift;
            s->DivShift2 = m.Shift2;
            s->DivMul = m.Mul;
            s->BaseMask = m.BaseMask;
        }
        s->Limit = @base + (nint)(s->NElems * s->ElemSize);
        s->FreeIndex = 0;
        s->AllocCount = 0;
        s->AllocCache = ulong.MaxValue;
        s->InOverflow = 0;
        s->GcMarkBits = GcBits.NewMarkBits(s->NElems);
        s->AllocBits = GcBits.NewAllocBits(s->NElems);
        // Counts the mark bitmap this span's next sweep takes from the reserve FinishMark sets aside,
        // and maps ahead what the coming rotations draw on (refused: the span is given back).
        long bitmapBytes = GcBits.BitmapBytes(s->NElems);
        GcBits.EnsureHeadroom(Interlocked.Read(ref _sweepBitmapBytes) + bitmapBytes);
        Interlocked.Add(ref _sweepBitmapBytes, bitmapBytes);
        Volatile.Write(ref s->SweepGen, SweepGen);
    }

    /// <summary>Points the spans entries of s's pages at value. The pages belong to the caller, so no lock.</summary>
    private void SetSpans(MSpan* s, nint value)
    {
        nint page = s->StartAddr;
        for (int i = 0; i < s->NPages; i++, page += (nint)MallocConstants.PageSize)
        {
            HeapArena* a = _arenaIndex.ArenaOf(page);
            // Publishes (or withdraws) the span to lock-free spanOf readers.
            Volatile.Write(ref a->Spans[(int)((page - a->Base) >> MallocConstants.PageShift)], value);
        }
    }

    private bool AllocNeedsZero(nint @base, long npages)
    {
        bool needZero = false;
        while (npages > 0)
        {
            HeapArena* a = _arenaIndex.ArenaOf(@base);
            long arenaOff = @base - a->Base;
            long zeroedBase = Volatile.Read(ref a->ZeroedBase);
            if (arenaOff < zeroedBase)
                needZero = true;
            long arenaLimit = Math.Min(arenaOff + npages * MallocConstants.PageSize, MallocConstants.HeapArenaBytes);
            while (arenaLimit > zeroedBase)
            {
                // Raises zeroedBase past our range; racing allocators only ever raise it too.
                long seen = Interlocked.CompareExchange(ref a->ZeroedBase, arenaLimit, zeroedBase);
                if (seen == zeroedBase)
                    break;
                zeroedBase = seen;
            }
            @base += (nint)(arenaLimit - arenaOff);
            npages -= (arenaLimit - arenaOff) / MallocConstants.PageSize;
        }
        return needZero;
    }

    internal MSpan* Alloc(int npages, int spanClass, bool needzero, int pid)
    {
        MSpan* s = AllocSpan(npages, spanClass, pid);
        if (needzero && s->NeedZero != 0)
            MemClr.Clear(s->StartAddr, npages * MallocConstants.PageSize);
        s->NeedZero = 0;
        return s;
    }

    internal void FreeSpan(MSpan* s)
    {
        SetSpans(s, 0);
        lock (Lock)
        {
            Pages.Free(s->StartAddr, s->NPages);
            Interlocked.Add(ref Stats.HeapInuse, -s->NPages * MallocConstants.PageSize);
            Interlocked.Add(ref _sweepBitmapBytes, -GcBits.BitmapBytes(s->NElems));
            Volatile.Write(ref s->State, (int)SpanState.Dead);
            _spanAlloc.Free((nint)s);
        }
    }

    // ---------------------------------------------------------------- scavenger

    /// <inheritdoc/>
    public long Scavenge(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        using DisposeGuard.Scope op = EnterOperation();
        lock (Lock)
        {
            long released = 0;
            try
            {
                Pages.Scavenge(bytes, (b, n) =>
                {
                    SysMem.SysUnused(b, (nint)(n * MallocConstants.PageSize));
                    released += n; // counted once the pages really went back (their bits are set next)
                });
            }
            finally
            {
                // A refused madvise stops the scan: the runs released before it stay released and counted.
                Interlocked.Add(ref Stats.HeapReleased, released * MallocConstants.PageSize);
            }
            return released * MallocConstants.PageSize;
        }
    }

    // ---------------------------------------------------------------- stats and lookup

    /// <inheritdoc/>
    public HeapStats ReadStats()
    {
        using DisposeGuard.Scope op = EnterOperation();
        lock (Lock)
            return ReadStatsLocked();
    }

    private HeapStats ReadStatsLocked()
    {
        var nmalloc = new long[SizeClasses.NumSizeClasses];
        long tiny = 0, largeAllocs = 0, largeBytes = 0, samples = 0;
        foreach (P p in AllP)
        {
            MCache* c = p.MCache;
            for (int k = 1; k < SizeClasses.NumSizeClasses; k++)
                nmalloc[k] += c->SmallAllocCount[k];
            // Refill counted every free slot of the cached spans: take back what is not handed out.
            for (int spc = 0; spc < MallocConstants.NumSpanClasses; spc++)
            {
                MSpan* s = c->Span(spc);
                if (s != EmptySpan)
                    nmalloc[s->SizeClass] -= s->NElems - s->AllocCount;
            }
            tiny += c->TinyAllocs;
            largeAllocs += c->LargeAllocs;
            largeBytes += c->LargeAllocBytes;
            samples += c->Samples;
        }
        var bySize = new SizeClassStats[SizeClasses.NumSizeClasses];
        long mallocs = 0, frees = 0, heapAlloc = 0;
        for (int k = 1; k < SizeClasses.NumSizeClasses; k++)
        {
            // A plain read: 64-bit loads are atomic on 64-bit targets, and a snapshot is exact only when quiescent anyway.
            long nfree = Stats.NSmallFree[k];
            bySize[k] = new SizeClassStats(SizeClasses.ClassToSize[k], nmalloc[k], nfree);
            mallocs += nmalloc[k];
            frees += nfree;
            heapAlloc += (nmalloc[k] - nfree) * SizeClasses.ClassToSize[k];
        }
        long largeFrees = Interlocked.Read(ref Stats.LargeFrees);
        heapAlloc += largeBytes - Interlocked.Read(ref Stats.LargeFreeBytes);
        long inuse = Interlocked.Read(ref Stats.HeapInuse);
        return new HeapStats
        {
            HeapSys = Stats.HeapSys,
            HeapInuse = inuse,
            HeapReleased = Interlocked.Read(ref Stats.HeapReleased),
            HeapAlloc = heapAlloc,
            Mallocs = mallocs + largeAllocs,
            Frees = frees + largeFrees,
            TinyAllocs = tiny,
            LargeAllocs = largeAllocs,
            LargeFrees = largeFrees,
            BySize = bySize,
            NumGC = Interlocked.Read(ref Stats.NumGC),
            SweepGen = SweepGen,
            PagesInUse = inuse / MallocConstants.PageSize,
            PagesSwept = Interlocked.Read(ref Stats.PagesSwept.Value),
            HeapLive = Interlocked.Read(ref Stats.HeapLive.Value),
            HeapMarked = Interlocked.Read(ref Stats.HeapMarked),
            BadMarks = Interlocked.Read(ref Stats.BadMarks),
            ProfileSamples = samples,
            Arenas = Stats.Arenas,
        };
    }

    /// <summary>
    /// FindObject needs no P, so sweeps, mcache flushes and cycle boundaries run while it reads
    /// (spec/SPEC.md, "FindObject under concurrency"). It answers only from a span whose sweepgen,
    /// and the heap's, did not change across its read (else it reads again), so an object that
    /// stays live is never reported free; it waits for a span being swept only until that sweep
    /// publishes or the cycle moves on.
    /// </summary>
    public bool FindObject(nint ptr, out ObjectInfo info)
    {
        using DisposeGuard.Scope op = EnterOperation();
        bool found = FindObjectCore(ptr, out info);
        HookFaults.ThrowPending(); // EnsureSwept may have swept here
        return found;
    }

    private bool FindObjectCore(nint ptr, out ObjectInfo info)
    {
        info = default;
        while (true)
        {
            uint sg = SweepGen;
            MSpan* s = SpanOf(ptr);
            if (s == null)
                return false;
            uint g = Volatile.Read(ref s->SweepGen);
            if (s->LoadState() != SpanState.InUse || ptr < s->StartAddr || ptr >= s->Limit)
            {
                // Not an in-use span here, unless the span record changed under us: read again.
                if (SpanOf(ptr) == s && SweepGen == sg)
                    return false;
                continue;
            }
            if (g == sg - 2 || g == sg - 1)
            {
                // Allocation state is only meaningful on a swept span.
                EnsureSwept(s, sg);
                CheckSweptAfterWait(s, sg);
                continue;
            }
            int i = s->ObjIndex(ptr);
            // A stale cached span (sg+1) is swept when its P flushes: what survives is what is marked.
            bool allocated = g == sg + 1 ? s->IsMarked(i) : s->IsAllocated(i);
            var found = new ObjectInfo(s->ObjectAddress(i), s->ElemSize, s->SpanClass, allocated);
            // The bitmap reads above complete before the sweepgens are read again.
            Interlocked.MemoryBarrier();
            // A sweep (or a flush's sweep) began meanwhile, or the cycle moved on: the bits may be torn.
            if (!Seeded.FindObjectReadsUnownedSpan())
                if (Volatile.Read(ref s->SweepGen) != g || SweepGen != sg || s->LoadState() != SpanState.InUse || SpanOf(ptr) != s)
                    continue;
            info = found;
            return true;
        }
    }

    // ---------------------------------------------------------------- dispose

    /// <summary>Closes the heap once no other live thread holds a P (else InvalidOperationException): waits for the P-less calls already inside, stops the background sweeper, then unmaps. Later calls throw ObjectDisposedException; disposing twice is a no-op.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        lock (_pLock)
        {
            _procs.RequireNoneHeldByOthers(nameof(Dispose));
            _disposed = true;
            _guard.Close();
        }
        // P-less operations that entered before (Mark, FindObject, SweepOne, ...) finish first.
        _guard.WaitUntilEmpty();
        _bgSweeper.Stop();
        lock (Lock)
            ReleaseMappings();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A heap that is never disposed gives its mappings back once it is unreachable: no thread
    /// holds one of its Ps (a parked background sweeper holds it only weakly, and is stopped here).
    /// </summary>
    ~MHeap()
    {
        _bgSweeper?.RequestStop(); // parked, holding only a weak reference
        ReleaseMappings();
    }

    /// <summary>Unmaps the arenas and every metadata region. Under Lock, or from the finalizer (nobody else can reach the heap).</summary>
    private void ReleaseMappings()
    {
        if (_reservations == null)
            return;
        foreach ((nint b, nint size) in _reservations)
            SysMem.SysFree(b, size);
        _reservations.Clear();
        // Null only if the constructor failed part way (the finalizer still runs then).
        foreach (MCentral? c in Central)
            c?.Dispose();
        _blockPool?.Dispose();
        Pages?.Dispose();
        GcBits?.Dispose();
        _arenaIndex?.Dispose();
        _persistent?.Dispose();
    }
}
