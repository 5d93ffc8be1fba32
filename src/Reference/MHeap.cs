// MHeap: the Reference heap (mirrors runtime/mheap.go and the entry points of malloc.go). It owns
// the arenas, the page allocator, the 136 mcentrals, the Ps, sweepgen and the heap-wide stats.
// Differs from Go: ONE heap lock (Lock, a plain object) guards everything, not only mheap.lock's
// share: every public operation (P acquire/release, Alloc, Flush, the GC cycle steps, Mark,
// SweepOne, FinishSweep, FindObject, Scavenge, ReadStats, Verify) runs under it from start to end,
// and the background sweeper takes it for each span it sweeps. No field is atomic and no span is
// ever seen half-swept; the Reference's job is meaning, its concurrency is trivially correct.
// The stop-the-world points (StartMark, FinishMark) refuse to run while any P is held.
// Placement policy (spec/SPEC.md): spans under 16 pages come from the P's page cache, others from
// the lowest-address first fit; the heap grows in 4 MiB chunks from the current arena and maps a
// new 64 MiB arena at the next arena hint when that is used up.
// Invariants checked by Verify (MHeap.Verify.cs): INV-ARENA-1, INV-PAGE-*, INV-SPAN-*, INV-SWEEP-*,
// INV-MARK-1, INV-CACHE-1, INV-STATS-*, INV-ZERO-1.
namespace GoAlloc.Reference;

/// <summary>The Reference heap (runtime/mheap.go): Go's allocator run under one heap lock, the plain oracle the Optimized must match call for call.</summary>
public sealed unsafe partial class MHeap : IHeap, IBackgroundSweepHeap
{
    /// <summary>The heap lock: every field of the heap, its Ps, mcaches, mcentrals and spans is under it.</summary>
    internal readonly object Lock = new();
    /// <summary>The Ps and their holders (ProcTable), under Lock.</summary>
    private readonly ProcTable<P> _procs;

    private readonly HeapOptions _options;
    private readonly PersistentAlloc _persistent;
    internal readonly FixAlloc GcBitsAlloc;
    internal readonly PageAlloc Pages = new();
    internal readonly MCentral[] Central = new MCentral[MallocConstants.NumSpanClasses];
    internal readonly P[] AllP;
    internal readonly MemStats Stats = new();
    private readonly BackgroundSweeper _bgSweeper;

    private HeapArena[] _arenas = [];                  // sorted by base
    private readonly ArenaHints _arenaHints;
    private readonly List<(nint Base, nint Size)> _reservations = [];
    private readonly HeapGrowth _curArena = new();     // unused tail of the current arena
    private nint _arenaBase;                           // first arena, written once

    private uint _sweepGen;   // mheap_.sweepgen: += 2 at FinishMark
    private GcPhase _phase;
    private bool _disposed;
    /// <summary>A hook exception from the background sweeper's thread, rethrown by the next FinishSweep, StartMark or StopBackgroundSweeper.</summary>
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _backgroundHookFault;
    private int _gcPercent;   // GOGC
    private readonly nint _zeroBase;

    /// <summary>
    /// The first metadata region (gcBits records and zerobase), reserved not committed; more are
    /// reserved as the heap grows (PersistentAlloc). 16 MiB holds the bitmaps of about 8 arenas' worth of one-page spans.
    /// </summary>
    private static readonly nint MetadataReserveBytes = 16 << 20;

    /// <summary>Creates a heap with <paramref name="options"/> (the defaults when null); no arena is mapped before the first allocation. Throws ArgumentOutOfRangeException for an option out of range.</summary>
    public MHeap(HeapOptions? options = null)
    {
        _options = options ?? new HeapOptions();
        _options.Validate();
        _gcPercent = _options.GcPercent;
        _onTrace = _options.OnTrace;
        _persistent = new PersistentAlloc(MetadataReserveBytes);
        GcBitsAlloc = new FixAlloc(MSpan.GcBitsBytes, _persistent);
        _zeroBase = _persistent.Alloc(8, 8);
        for (int i = 0; i < Central.Length; i++)
            Central[i] = new MCentral(this, i);
        AllP = new P[_options.Procs];
        for (int i = 0; i < AllP.Length; i++)
            AllP[i] = new P(this, i);
        _procs = new ProcTable<P>(AllP, TraceReclaimed);
        _arenaHints = new ArenaHints(_options.UseArenaHints);
        _bgSweeper = new BackgroundSweeper(this);
    }

    /// <inheritdoc/>
    public HeapOptions Options => _options;
    /// <inheritdoc/>
    public int ProcCount => AllP.Length;

    /// <inheritdoc/>
    public nint ArenaBase
    {
        get
        {
            lock (Lock)
                return _arenaBase;
        }
    }

    /// <inheritdoc/>
    public nint ZeroBase => _zeroBase;

    /// <inheritdoc/>
    public GcPhase Phase
    {
        get
        {
            lock (Lock)
                return _phase;
        }
    }

    /// <summary>The heap's sweepgen. Caller holds Lock (or the heap is quiescent).</summary>
    internal uint SweepGen => _sweepGen;

    /// <summary>In the mark phase: allocate black. Caller holds Lock.</summary>
    internal bool Marking => _phase == GcPhase.Mark;

    /// <summary>Throws ObjectDisposedException after Dispose. Caller holds Lock.</summary>
    internal void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>The background sweeper's thread hands over a hook exception it deferred (the first one is kept).</summary>
    void IBackgroundSweepHeap.DeferBackgroundHookFault(System.Runtime.ExceptionServices.ExceptionDispatchInfo fault)
    {
        lock (Lock)
            _backgroundHookFault ??= fault;
    }

    /// <summary>A rethrow point of a stop-the-world or sweep operation: this thread's deferred hook exception, else the background sweeper's.</summary>
    private void ThrowHookFaults()
    {
        HookFaults.ThrowPending();
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? fault;
        lock (Lock)
        {
            fault = _backgroundHookFault;
            _backgroundHookFault = null;
        }
        fault?.Throw();
    }

    // ---------------------------------------------------------------- Ps

    /// <inheritdoc/>
    public IProcessor AcquireP()
    {
        P p;
        lock (Lock)
        {
            ThrowIfDisposed();
            p = _procs.FindIdle();
            Take(p);
        }
        return Acquired(p);
    }

    /// <inheritdoc/>
    public IProcessor AcquireP(int id)
    {
        P p;
        lock (Lock)
        {
            ThrowIfDisposed();
            p = _procs[id];
            _procs.RequireIdle(p);
            Take(p);
        }
        return Acquired(p);
    }

    /// <summary>
    /// acquirep: gives p to the calling thread and flushes its mcache if a sweep cycle began since
    /// it was last used (prepareForSweep). Caller holds Lock and checked p is idle.
    /// </summary>
    private void Take(P p)
    {
        _procs.Take(p);
        using (ActingFor(p.Id))
        {
            if (Tracing)
                Trace(HeapTraceKind.AcquireP, null);
            p.MCache.PrepareForSweep();
        }
    }

    /// <summary>A hook threw during the flush (which finished): give the P back; ReleaseP rethrows it.</summary>
    private P Acquired(P p)
    {
        if (HookFaults.HasPending)
            ReleaseP(p);
        return p;
    }

    internal void ReleaseP(P p)
    {
        lock (Lock)
        {
            ThrowIfDisposed();
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

    /// <summary>Stop-the-world check: no P may be held by anyone. Caller holds Lock.</summary>
    private void RequireWorldStopped(string op) => _procs.RequireWorldStopped(op);

    /// <summary>ProcTable took p back from a thread that exited holding it: traced as its release. Caller holds Lock.</summary>
    private void TraceReclaimed(P p)
    {
        if (Tracing)
        {
            using (ActingFor(p.Id))
                Trace(HeapTraceKind.ReleaseP, null, detail: "its thread exited holding it");
        }
    }

    /// <summary>Flushes the mcache of every idle P still holding the previous cycle's spans (Go's forEachP(prepareForSweep)). Caller holds Lock.</summary>
    private void FlushIdleStalePs()
    {
        foreach (P p in AllP)
        {
            if (_procs.IdleOrOrphaned(p) && p.MCache.FlushGen != _sweepGen)
            {
                using (ActingFor(p.Id))
                    p.MCache.PrepareForSweep();
            }
        }
    }

    // ---------------------------------------------------------------- arenas and growth

    /// <summary>The arena containing p, or null (a loop over the few arenas).</summary>
    internal HeapArena? ArenaOf(nint p)
    {
        foreach (HeapArena a in _arenas)
        {
            if (a.Contains(p))
                return a;
        }
        return null;
    }

    /// <summary>spanOf: the span recorded for p's page, or null if p is outside the heap.</summary>
    internal MSpan? SpanOf(nint p)
    {
        HeapArena? a = ArenaOf(p);
        return a == null ? null : a.Spans[a.PageIndex(p)];
    }

    internal IReadOnlyList<HeapArena> Arenas => _arenas;

    /// <summary>Address space reserved for metadata so far.</summary>
    internal long MetadataReservedBytes => _persistent.ReservedBytes;

    /// <summary>
    /// sysAlloc: reserves at least n bytes of whole arenas where the arena hints say (ArenaHints),
    /// maps them and records their arenas. Returns the base and size; throws OutOfMemoryException
    /// (leaving the heap unchanged) on the memory limit or an mmap failure. Caller holds Lock.
    /// </summary>
    private (nint Base, nint Size) SysAllocArenas(long ask)
    {
        (nint v, long n) = _arenaHints.Reserve(ask, Stats.HeapSys, _options.MemoryLimit);
        try
        {
            // Reserved -> Prepared.
            SysMem.SysMap(v, (nint)n);
        }
        catch (OutOfMemoryException)
        {
            SysMem.SysFree(v, (nint)n);
            _arenaHints.Undo();
            throw;
        }
        _reservations.Add((v, (nint)n));
        var arenas = new List<HeapArena>(_arenas);
        for (nint a = v; a < v + (nint)n; a += (nint)MallocConstants.HeapArenaBytes)
            arenas.Add(new HeapArena(a));
        arenas.Sort((x, y) => x.Base.CompareTo(y.Base));
        _arenas = [.. arenas];
        if (_arenaBase == 0)
            _arenaBase = v;
        Stats.HeapSys += n;
        Stats.Arenas += n / MallocConstants.HeapArenaBytes;
        return (v, (nint)n);
    }

    /// <summary>
    /// grow: adds at least npages of free pages to the page allocator, in whole 4 MiB chunks, from
    /// the current arena's unused tail, mapping new arenas as needed. Caller holds Lock.
    /// </summary>
    private void Grow(long npages)
    {
        long ask = HeapGrowth.AskBytes(npages);
        if (!_curArena.Fits(ask))
        {
            (nint av, nint asize) = SysAllocArenas(ask);
            // New memory counts as released until it is used.
            Stats.HeapReleased += asize;
            // Discontiguous: the new space is current; the rest of the old one goes to the page
            // allocator (whose metadata is managed here: its growth is never refused).
            (nint restBase, nint restSize) = _curArena.Add(av, asize);
            if (restSize > 0)
                Pages.Grow(restBase, restSize);
        }
        // The page allocator first: if it cannot grow, the space stays ungrown.
        Pages.Grow(_curArena.Base, (nint)ask);
        _curArena.Advance(ask);
    }

    /// <summary>Bytes of mapped arena space not yet handed to the page allocator (counted as released).</summary>
    internal long UngrownBytes => _curArena.UngrownBytes;


    /// <summary>
    /// allocSpan: npages for a new in-use span of spanClass. Small spans come from the P's page
    /// cache; otherwise (or when the cache cannot serve) the lowest-address first fit, growing the
    /// heap once if needed. Throws OutOfMemoryException with the heap unchanged. Caller holds Lock.
    /// </summary>
    internal MSpan AllocSpan(int npages, int spanClass, P? p)
    {
        nint @base = 0;
        int scav = 0;
        if (p != null && npages < MallocConstants.PageCacheMaxSpanPages)
        {
            if (p.PCache.Empty)
                p.PCache = Pages.AllocToCache();
            @base = p.PCache.Alloc(npages, out scav);
        }
        if (@base == 0)
        {
            @base = Pages.Alloc(npages, out scav);
            if (@base == 0)
            {
                Grow(npages);
                @base = Pages.Alloc(npages, out scav);
                if (@base == 0)
                    throw new HeapInvariantException("INV-PAGE-1", "mheap.allocSpan: grew heap, but no adequate free space found");
            }
        }
        long nbytes = npages * MallocConstants.PageSize;
        if (scav != 0)
        {
            // The span owns scavenged pages: make them Ready again and stop counting them as released.
            SysMem.SysUsed(@base, (nint)nbytes);
            Stats.HeapReleased -= scav * MallocConstants.PageSize;
        }
        Stats.HeapInuse += nbytes;
        var s = new MSpan();
        try
        {
            InitSpan(s, @base, npages, spanClass);
        }
        catch (OutOfMemoryException)
        {
            // The span's bitmaps could not be mapped: give the pages back, as if never taken.
            if (s.AllocBits != null)
                GcBitsAlloc.Free((nint)s.AllocBits);
            Pages.Free(@base, npages);
            Stats.HeapInuse -= nbytes;
            throw;
        }
        s.NeedZero = AllocNeedsZero(@base, npages);
        s.State = SpanState.InUse;
        SetSpans(s, s);
        return s;
    }

    private void InitSpan(MSpan s, nint @base, int npages, int spanClass)
    {
        s.StartAddr = @base;
        s.NPages = npages;
        s.SpanClass = spanClass;
        int sizeClass = GoAlloc.SpanClass.SizeClass(spanClass);
        long nbytes = npages * MallocConstants.PageSize;
        if (sizeClass == 0)
        {
            s.ElemSize = nbytes;
            s.NElems = 1;
        }
        else
        {
            s.ElemSize = SizeClasses.ClassToSize[sizeClass];
            s.NElems = (int)(nbytes / s.ElemSize);
        }
        s.Limit = @base + (nint)(s.NElems * s.ElemSize);
        s.FreeIndex = 0;
        s.AllocCount = 0;
        s.AllocBits = (byte*)GcBitsAlloc.Alloc();
        s.GcMarkBits = (byte*)GcBitsAlloc.Alloc();
        s.SweepGen = _sweepGen;
    }

    /// <summary>Points the arena spans entries of s's pages at value (s, or null when freeing). Caller holds Lock.</summary>
    private void SetSpans(MSpan s, MSpan? value)
    {
        for (int i = 0; i < s.NPages; i++)
        {
            nint page = s.StartAddr + i * (nint)MallocConstants.PageSize;
            HeapArena a = ArenaOf(page)!;
            a.Spans[a.PageIndex(page)] = value;
        }
    }

    /// <summary>
    /// allocNeedsZero: whether [base, base+npages) may hold dirty memory, advancing each touched
    /// arena's zeroedBase past the range. Caller holds Lock.
    /// </summary>
    private bool AllocNeedsZero(nint @base, long npages)
    {
        bool needZero = false;
        while (npages > 0)
        {
            HeapArena a = ArenaOf(@base)!;
            long arenaOff = @base - a.Base;
            if (arenaOff < a.ZeroedBase)
                needZero = true;
            long arenaLimit = Math.Min(arenaOff + npages * MallocConstants.PageSize, MallocConstants.HeapArenaBytes);
            a.ZeroedBase = Math.Max(a.ZeroedBase, arenaLimit);
            @base += (nint)(arenaLimit - arenaOff);
            npages -= (arenaLimit - arenaOff) / MallocConstants.PageSize;
        }
        return needZero;
    }

    /// <summary>mheap.alloc: a span whose memory is zero if needzero (zeroing it if the pages were dirty). Caller holds Lock.</summary>
    internal MSpan Alloc(int npages, int spanClass, bool needzero, P? p)
    {
        MSpan s = AllocSpan(npages, spanClass, p);
        if (needzero && s.NeedZero)
            MemClr.Clear(s.StartAddr, npages * MallocConstants.PageSize);
        s.NeedZero = false;
        return s;
    }

    /// <summary>freeSpan: returns a dead span's pages to the page allocator. Caller holds Lock.</summary>
    internal void FreeSpan(MSpan s)
    {
        SetSpans(s, null);
        Pages.Free(s.StartAddr, s.NPages);
        Stats.HeapInuse -= s.NPages * MallocConstants.PageSize;
        s.State = SpanState.Dead;
        GcBitsAlloc.Free((nint)s.AllocBits);
        GcBitsAlloc.Free((nint)s.GcMarkBits);
        s.AllocBits = null;
        s.GcMarkBits = null;
    }

    // ---------------------------------------------------------------- scavenger

    /// <inheritdoc/>
    public long Scavenge(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (Lock)
        {
            ThrowIfDisposed();
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
                Stats.HeapReleased += released * MallocConstants.PageSize;
            }
            return released * MallocConstants.PageSize;
        }
    }

    // ---------------------------------------------------------------- stats and lookup

    /// <inheritdoc/>
    public HeapStats ReadStats()
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            return ReadStatsLocked();
        }
    }

    /// <summary>The stats snapshot. Caller holds Lock.</summary>
    private HeapStats ReadStatsLocked()
    {
        var bySize = new SizeClassStats[SizeClasses.NumSizeClasses];
        long mallocs = 0, frees = 0, heapAlloc = 0, tiny = 0, largeAllocs = 0, largeBytes = 0, samples = 0;
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            long nmalloc = 0;
            foreach (P p in AllP)
                nmalloc += p.MCache.NSmallAlloc[c];
            long nfree = Stats.NSmallFree[c];
            bySize[c] = new SizeClassStats(SizeClasses.ClassToSize[c], nmalloc, nfree);
            mallocs += nmalloc;
            frees += nfree;
            heapAlloc += (nmalloc - nfree) * SizeClasses.ClassToSize[c];
        }
        foreach (P p in AllP)
        {
            tiny += p.MCache.TinyAllocs;
            largeAllocs += p.MCache.LargeAllocs;
            largeBytes += p.MCache.LargeAllocBytes;
            samples += p.MCache.Samples;
        }
        heapAlloc += largeBytes - Stats.LargeFreeBytes;
        return new HeapStats
        {
            HeapSys = Stats.HeapSys,
            HeapInuse = Stats.HeapInuse,
            HeapReleased = Stats.HeapReleased,
            HeapAlloc = heapAlloc,
            Mallocs = mallocs + largeAllocs,
            Frees = frees + Stats.LargeFrees,
            TinyAllocs = tiny,
            LargeAllocs = largeAllocs,
            LargeFrees = Stats.LargeFrees,
            BySize = bySize,
            NumGC = Stats.NumGC,
            SweepGen = _sweepGen,
            PagesInUse = Stats.HeapInuse / MallocConstants.PageSize,
            PagesSwept = Stats.PagesSwept,
            HeapLive = Stats.HeapLive,
            HeapMarked = Stats.HeapMarked,
            BadMarks = Stats.BadMarks,
            ProfileSamples = samples,
            Arenas = Stats.Arenas,
        };
    }

    /// <summary>
    /// findObject: resolves ptr (interior pointers too) to its object. A span still unswept in this
    /// cycle (sg-2) is swept here first (ensureSwept: allocation state is only meaningful on a swept
    /// span). On a stale cached span (sg+1), not swept until its P flushes, what survives is what is
    /// marked. Needs no P; under the heap lock no sweep, flush or cycle boundary runs meanwhile.
    /// </summary>
    public bool FindObject(nint ptr, out ObjectInfo info)
    {
        bool found;
        lock (Lock)
        {
            ThrowIfDisposed();
            found = FindObjectLocked(ptr, out info);
        }
        HookFaults.ThrowPending(); // the sweep here may have called OnFree / OnTrace
        return found;
    }

    private bool FindObjectLocked(nint ptr, out ObjectInfo info)
    {
        info = default;
        MSpan? s = SpanOf(ptr);
        if (s == null || s.State != SpanState.InUse || ptr < s.StartAddr || ptr >= s.Limit)
            return false;
        uint sg = _sweepGen;
        if (s.SweepGen == sg - 2)
        {
            if (Tracing)
                Trace(HeapTraceKind.EnsureSwept, s, sg - 2, sg - 1, "sweeping it here");
            if (SweepUnswept(s, preserve: false))
                return false; // every object in it was dead: the span went back to the heap
        }
        int i = s.ObjIndex(ptr);
        bool allocated = s.SweepGen == sg + 1 ? s.IsMarked(i) : s.IsAllocated(i);
        info = new ObjectInfo(s.ObjectAddress(i), s.ElemSize, s.SpanClass, allocated);
        return true;
    }

    // ---------------------------------------------------------------- dispose

    /// <summary>Stops the background sweeper and unmaps the arenas and metadata; any later call throws ObjectDisposedException, a second Dispose does nothing. Throws InvalidOperationException while another live thread holds a P.</summary>
    public void Dispose()
    {
        lock (Lock)
        {
            if (_disposed)
                return;
            _procs.RequireNoneHeldByOthers(nameof(Dispose));
            // Every operation that took the lock before has finished; every later one throws.
            _disposed = true;
        }
        // Outside the lock: the sweeper may be waiting for it, and finds the heap disposed.
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
        _arenas = [];
        _persistent?.Dispose(); // null only if the constructor failed (the finalizer still runs then)
    }
}
