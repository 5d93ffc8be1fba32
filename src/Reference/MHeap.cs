// MHeap: the Reference heap (mirrors runtime/mheap.go and the entry points of malloc.go). It owns
// the arenas and the arena index, the page allocator, the 136 mcentrals, the Ps, sweepgen and the
// heap-wide stats. One lock (Lock, a plain object as Go's mheap.lock) guards pages, arenas and the
// heap-lock stats; P ownership changes under _pLock, which is also what makes StartMark and
// FinishMark stop-the-world points (they refuse to run while any P is held).
// Placement policy (spec/SPEC.md): spans under 16 pages come from the P's page cache, others from
// the lowest-address first fit; the heap grows in 4 MiB chunks from the current arena and maps a
// new 64 MiB arena at the next arena hint when that is used up.
// Invariants checked by Verify (MHeap.Verify.cs): INV-ARENA-1, INV-PAGE-*, INV-SPAN-*, INV-SWEEP-*,
// INV-MARK-1, INV-CACHE-1, INV-STATS-*, INV-ZERO-1.
namespace GoAlloc.Reference;

/// <summary>The Reference heap (runtime/mheap.go): Go's allocator written plainly, the oracle the Optimized must match call for call.</summary>
public sealed unsafe partial class MHeap : IHeap
{
    /// <summary>mheap.lock: pages, arenas, hints, the heap-lock stats.</summary>
    internal readonly object Lock = new();
    /// <summary>P ownership and the stop-the-world points.</summary>
    private readonly object _pLock = new();
    /// <summary>The thread holding each P (null when idle), under _pLock: a dead holder's P is reclaimed.</summary>
    private readonly Thread?[] _holders;

    private readonly HeapOptions _options;
    private readonly PersistentAlloc _persistent;
    internal readonly FixAlloc GcBitsAlloc;
    internal readonly PageAlloc Pages = new();
    internal readonly MCentral[] Central = new MCentral[MallocConstants.NumSpanClasses];
    internal readonly P[] AllP;
    internal readonly MemStats Stats = new();
    internal readonly ActiveSweep ActiveSweep = new();
    private readonly BackgroundSweeper _bgSweeper;

    private HeapArena[] _arenas = [];                  // sorted by base; copy-on-write under Lock, read with Volatile
    private readonly List<ArenaHint> _arenaHints = []; // under Lock
    private readonly List<(nint Base, nint Size)> _reservations = []; // under Lock
    private nint _curArenaBase, _curArenaEnd;          // unused tail of the current arena, under Lock
    private nint _arenaBase;                           // first arena, written once under Lock

    private uint _sweepGen;   // written only at FinishMark (world stopped); read atomically
    private int _phase;       // GcPhase, written only at stop-the-world points
    private volatile bool _disposed; // set under _pLock, with _guard closed at the same time
    /// <summary>The P-less operations in flight; Dispose waits for them before it unmaps (DisposeGuard).</summary>
    private readonly DisposeGuard _guard = new();
    /// <summary>A hook exception from the background sweeper's thread, rethrown by the next FinishSweep, StartMark or StopBackgroundSweeper.</summary>
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _backgroundHookFault;
    private int _gcPercent;   // GOGC; atomic (SetGcPercent)
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
        _holders = new Thread?[AllP.Length];
        for (int i = 0; i < AllP.Length; i++)
            AllP[i] = new P(this, i);
        if (_options.UseArenaHints)
        {
            for (int i = 0; i < MallocConstants.ArenaHintCount; i++)
                _arenaHints.Add(new ArenaHint(MallocConstants.ArenaHint(i), down: false));
        }
        ActiveSweep.Reset(0);
        ActiveSweep.MarkDrained();
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
    public GcPhase Phase => (GcPhase)Volatile.Read(ref _phase);
    internal uint SweepGen => Volatile.Read(ref _sweepGen);

    internal void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>Enters a P-less operation: Dispose waits until it leaves (throws ObjectDisposedException after Dispose).</summary>
    internal DisposeGuard.Scope EnterOperation() => _guard.Enter(nameof(MHeap));

    /// <summary>The background sweeper's thread hands over a hook exception it deferred.</summary>
    internal void DeferBackgroundHookFault(System.Runtime.ExceptionServices.ExceptionDispatchInfo fault) =>
        Interlocked.CompareExchange(ref _backgroundHookFault, fault, null);

    /// <summary>A rethrow point of a stop-the-world or sweep operation: this thread's deferred hook exception, else the background sweeper's.</summary>
    private void ThrowHookFaults()
    {
        HookFaults.ThrowPending();
        Interlocked.Exchange(ref _backgroundHookFault, null)?.Throw();
    }

    // ---------------------------------------------------------------- Ps

    /// <inheritdoc/>
    public IProcessor AcquireP()
    {
        ThrowIfDisposed();
        P? p = null;
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            foreach (P q in AllP)
            {
                if (IdleOrOrphaned(q))
                {
                    p = q;
                    break;
                }
            }
            if (p == null)
                throw new InvalidOperationException($"all {AllP.Length} Ps are held");
            Take(p);
        }
        return Acquired(p);
    }

    /// <inheritdoc/>
    public IProcessor AcquireP(int id)
    {
        ThrowIfDisposed();
        if ((uint)id >= (uint)AllP.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"P ids are 0..{AllP.Length - 1}");
        P p = AllP[id];
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            if (!IdleOrOrphaned(p))
                throw new InvalidOperationException($"P{id} is held by thread {p.Owner}");
            Take(p);
        }
        return Acquired(p);
    }

    /// <summary>Gives p to the calling thread. Caller holds _pLock and checked p is idle.</summary>
    private void Take(P p)
    {
        p.Owner = Environment.CurrentManagedThreadId;
        _holders[p.Id] = Thread.CurrentThread;
        if (Tracing)
            Trace(HeapTraceKind.AcquireP, p.Id, null);
    }

    /// <summary>acquirep's second half, outside the P lock: flush the mcache if a sweep phase started since it was last used.</summary>
    private P Acquired(P p)
    {
#if SEEDED_BUGS
        if (!SeededBugs.On(SeededBug.Go27997StaleCacheNotFlushed))
#endif
        p.MCache.PrepareForSweep();
        // A hook threw during the flush (which finished): give the P back; ReleaseP rethrows it.
        if (HookFaults.HasPending)
            ReleaseP(p);
        return p;
    }

    internal void ReleaseP(P p)
    {
        ThrowIfDisposed();
        lock (_pLock)
        {
            p.CheckOwner();
            p.Owner = 0;
            _holders[p.Id] = null;
            if (Tracing)
                Trace(HeapTraceKind.ReleaseP, p.Id, null);
        }
        HookFaults.ThrowPending();
    }

    /// <summary>Stop-the-world check: the caller holds _pLock; no P may be held by anyone.</summary>
    private void RequireWorldStopped(string op)
    {
        foreach (P p in AllP)
        {
            if (!IdleOrOrphaned(p))
                throw new InvalidOperationException($"{op} is a stop-the-world point: P{p.Id} is held by thread {p.Owner}; release every P first");
        }
    }

    /// <summary>
    /// Whether p is idle, reclaiming it first if the thread holding it has exited (it can never
    /// release it): the P goes back idle with its mcache, as if that thread had called Release.
    /// Caller holds _pLock.
    /// </summary>
    private bool IdleOrOrphaned(P p)
    {
        if (p.Owner == 0)
            return true;
        Thread? holder = _holders[p.Id];
        if (holder == null || holder.IsAlive)
            return false;
        p.Owner = 0;
        _holders[p.Id] = null;
        if (Tracing)
            Trace(HeapTraceKind.ReleaseP, p.Id, null, detail: "its thread exited holding it");
        return true;
    }

    /// <summary>Flushes the mcache of every idle P still holding the previous cycle's spans (Go's forEachP(prepareForSweep)).</summary>
    internal void FlushIdleStalePs()
    {
        lock (_pLock)
        {
            uint sg = SweepGen;
            foreach (P p in AllP)
            {
                if (IdleOrOrphaned(p) && Volatile.Read(ref p.MCache.FlushGen) != sg)
#if SEEDED_BUGS
        if (!SeededBugs.On(SeededBug.Go27997StaleCacheNotFlushed))
#endif
                    p.MCache.PrepareForSweep();
            }
        }
    }

    // ---------------------------------------------------------------- arenas and growth

    /// <summary>The arena containing p, or null (a loop over the few arenas).</summary>
    internal HeapArena? ArenaOf(nint p)
    {
        foreach (HeapArena a in Volatile.Read(ref _arenas))
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
        return a == null ? null : Volatile.Read(ref a.Spans[a.PageIndex(p)]);
    }

    internal IReadOnlyList<HeapArena> Arenas => Volatile.Read(ref _arenas);

    /// <summary>Address space reserved for metadata so far.</summary>
    internal long MetadataReservedBytes => _persistent.ReservedBytes;

    /// <summary>
    /// sysAlloc: reserves and maps at least n bytes of whole arenas, trying the arena hints in order
    /// (Go's arenaHints), then any aligned address. Returns the base and size; throws
    /// OutOfMemoryException (leaving the heap unchanged) on the memory limit or an mmap failure.
    /// Caller holds Lock.
    /// </summary>
    private (nint Base, nint Size) SysAllocArenas(long n)
    {
        n = (n + MallocConstants.HeapArenaBytes - 1) & ~(MallocConstants.HeapArenaBytes - 1);
        if (n <= 0 || Stats.HeapSys + n > _options.MemoryLimit || Stats.HeapSys + n < 0)
            throw new OutOfMemoryException($"heap memory limit: heap_sys {Stats.HeapSys} + {n} bytes exceeds MemoryLimit {_options.MemoryLimit}");
        // A failed growth leaves the hints as they were (the heap is unchanged on OOM).
        (ArenaHint Hint, long Addr)[] hints = [.. _arenaHints.Select(h => (h, h.Addr))];
        try
        {
            return SysAllocArenasAtHints(n);
        }
        catch (OutOfMemoryException)
        {
            _arenaHints.Clear();
            foreach ((ArenaHint h, long addr) in hints)
            {
                h.Addr = addr;
                _arenaHints.Add(h);
            }
            throw;
        }
    }

    /// <summary>SysAllocArenas after the limit check: the hints in order, then any aligned address. Caller holds Lock.</summary>
    private (nint Base, nint Size) SysAllocArenasAtHints(long n)
    {
        nint v = 0;
        while (_arenaHints.Count > 0)
        {
            ArenaHint hint = _arenaHints[0];
            long p = hint.Down ? hint.Addr - n : hint.Addr;
            nint got = 0;
            if (p > 0 && p + n > p && p + n <= 1L << (MallocConstants.HeapAddrBits - 1))
            {
                try
                {
                    got = SysMem.SysReserve((nint)p, (nint)n);
                }
                catch (OutOfMemoryException)
                {
                    got = 0;
                }
            }
            if (got == (nint)p && got != 0)
            {
                hint.Addr = hint.Down ? p : p + n;
                v = got;
                break;
            }
            // The hint failed: drop it and try the next one.
            if (got != 0)
                SysMem.SysFree(got, (nint)n);
            _arenaHints.RemoveAt(0);
        }
        if (v == 0)
        {
            // Every hint failed: take any suitably aligned address, and hint to grow around it.
            v = SysMem.SysReserveAligned(0, (nint)n, (nint)MallocConstants.HeapArenaBytes);
            _arenaHints.Insert(0, new ArenaHint(v, down: true));
            _arenaHints.Insert(0, new ArenaHint(v + (nint)n, down: false));
        }
        try
        {
            // Reserved -> Prepared.
            SysMem.SysMap(v, (nint)n);
        }
        catch (OutOfMemoryException)
        {
            SysMem.SysFree(v, (nint)n);
            throw;
        }
        _reservations.Add((v, (nint)n));
        var arenas = new List<HeapArena>(_arenas);
        for (nint a = v; a < v + (nint)n; a += (nint)MallocConstants.HeapArenaBytes)
            arenas.Add(new HeapArena(a));
        arenas.Sort((x, y) => x.Base.CompareTo(y.Base));
        // Publishes the new arena metadata to lock-free spanOf readers.
        Volatile.Write(ref _arenas, arenas.ToArray());
        if (_arenaBase == 0)
            Volatile.Write(ref _arenaBase, v);
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
        long ask = ((npages + MallocConstants.PallocChunkPages - 1) & ~(long)(MallocConstants.PallocChunkPages - 1)) * MallocConstants.PageSize;
        nint nBase = _curArenaBase + (nint)ask;
        if (nBase > _curArenaEnd || nBase < _curArenaBase || _curArenaBase == 0)
        {
            (nint av, nint asize) = SysAllocArenas(ask);
            // New memory counts as released until it is used.
            Stats.HeapReleased += asize;
            if (av == _curArenaEnd && _curArenaEnd != 0)
            {
                // Contiguous with the current space: just extend it.
                _curArenaEnd = av + asize;
            }
            else
            {
                // Discontiguous: switch to the new space, then hand the rest of the old one to the
                // page allocator (whose metadata is managed here: its growth is never refused).
                nint restBase = _curArenaBase, restSize = _curArenaEnd - _curArenaBase;
                _curArenaBase = av;
                _curArenaEnd = av + asize;
                if (restSize > 0)
                    Pages.Grow(restBase, restSize);
            }
            nBase = _curArenaBase + (nint)ask;
        }
        // The page allocator first: if it cannot grow, the space stays ungrown.
        Pages.Grow(_curArenaBase, nBase - _curArenaBase);
        _curArenaBase = nBase;
    }

    /// <summary>Bytes of mapped arena space not yet handed to the page allocator (counted as released).</summary>
    internal long UngrownBytes => _curArenaEnd - _curArenaBase;

    /// <summary>
    /// allocSpan: npages for a new in-use span of spanClass. Small spans come from the P's page
    /// cache; otherwise (or when the cache cannot serve) the lowest-address first fit under the
    /// lock, growing the heap once if needed. Throws OutOfMemoryException with the heap unchanged.
    /// </summary>
    internal MSpan AllocSpan(int npages, int spanClass, P? p)
    {
        nint @base = 0;
        int scav = 0;
        if (p != null && npages < MallocConstants.PageCacheMaxSpanPages)
        {
            if (p.PCache.Empty)
            {
                lock (Lock)
                    p.PCache = Pages.AllocToCache();
            }
            @base = p.PCache.Alloc(npages, out scav);
        }
        var s = new MSpan();
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
#if SEEDED_BUGS
            // Scavenged pages read as zero (MADV_DONTNEED), but only those: the span's other pages may be dirty.
            if (SeededBugs.On(SeededBug.PartlyScavengedSpanTakenAsZero) && scav != 0)
                s.NeedZero = false;
#endif
            // Publication: every field is set before the state, and the state before spanOf sees it.
            s.State = SpanState.InUse;
            SetSpans(s, s);
        }
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
        Volatile.Write(ref s.SweepGen, SweepGen);
    }

    /// <summary>Points the arena spans entries of s's pages at value (s, or null when freeing). Caller holds Lock.</summary>
    private void SetSpans(MSpan s, MSpan? value)
    {
        for (int i = 0; i < s.NPages; i++)
        {
            nint page = s.StartAddr + i * (nint)MallocConstants.PageSize;
            HeapArena a = ArenaOf(page)!;
            // Publishes the span (or its removal) to lock-free spanOf readers (Mark, FindObject).
            Volatile.Write(ref a.Spans[a.PageIndex(page)], value);
        }
    }

    /// <summary>
    /// allocNeedsZero: whether [base, base+npages) may hold dirty memory, advancing each touched
    /// arena's zeroedBase past the range (monotonic CAS, as Go).
    /// </summary>
    private bool AllocNeedsZero(nint @base, long npages)
    {
        bool needZero = false;
        while (npages > 0)
        {
            HeapArena a = ArenaOf(@base)!;
            long arenaOff = @base - a.Base;
            long zeroedBase = Volatile.Read(ref a.ZeroedBase);
            if (arenaOff < zeroedBase)
                needZero = true;
            long arenaLimit = Math.Min(arenaOff + npages * MallocConstants.PageSize, MallocConstants.HeapArenaBytes);
            while (arenaLimit > zeroedBase)
            {
                long seen = Interlocked.CompareExchange(ref a.ZeroedBase, arenaLimit, zeroedBase);
                if (seen == zeroedBase)
                    break;
                zeroedBase = seen;
            }
            @base += (nint)(arenaLimit - arenaOff);
            npages -= (arenaLimit - arenaOff) / MallocConstants.PageSize;
        }
        return needZero;
    }

    /// <summary>mheap.alloc: a span whose memory is zero if needzero (zeroing it if the pages were dirty).</summary>
    internal MSpan Alloc(int npages, int spanClass, bool needzero, P? p)
    {
        MSpan s = AllocSpan(npages, spanClass, p);
        if (needzero && s.NeedZero)
            MemClr.Clear(s.StartAddr, npages * MallocConstants.PageSize);
        s.NeedZero = false;
        return s;
    }

    /// <summary>freeSpan: returns a dead span's pages to the page allocator.</summary>
    internal void FreeSpan(MSpan s)
    {
        lock (Lock)
        {
            SetSpans(s, null);
            Pages.Free(s.StartAddr, s.NPages);
            Stats.HeapInuse -= s.NPages * MallocConstants.PageSize;
            s.State = SpanState.Dead;
        }
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
                Stats.HeapReleased += released * MallocConstants.PageSize;
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

    /// <summary>The stats snapshot; caller holds Lock.</summary>
    private HeapStats ReadStatsLocked()
    {
        {
            var bySize = new SizeClassStats[SizeClasses.NumSizeClasses];
            long mallocs = 0, frees = 0, heapAlloc = 0, tiny = 0, largeAllocs = 0, largeBytes = 0, samples = 0;
            for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
            {
                long nmalloc = 0;
                foreach (P p in AllP)
                    nmalloc += p.MCache.NSmallAlloc[c];
                // A plain read: 64-bit loads are atomic on 64-bit targets, and a snapshot is exact only when quiescent anyway.
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
            long largeFrees = Interlocked.Read(ref Stats.LargeFrees);
            heapAlloc += largeBytes - Interlocked.Read(ref Stats.LargeFreeBytes);
            return new HeapStats
            {
                HeapSys = Stats.HeapSys,
                HeapInuse = Stats.HeapInuse,
                HeapReleased = Stats.HeapReleased,
                HeapAlloc = heapAlloc,
                Mallocs = mallocs + largeAllocs,
                Frees = frees + largeFrees,
                TinyAllocs = tiny,
                LargeAllocs = largeAllocs,
                LargeFrees = largeFrees,
                BySize = bySize,
                NumGC = Interlocked.Read(ref Stats.NumGC),
                SweepGen = SweepGen,
                PagesInUse = Stats.HeapInuse / MallocConstants.PageSize,
                PagesSwept = Interlocked.Read(ref Stats.PagesSwept),
                HeapLive = Interlocked.Read(ref Stats.HeapLive),
                HeapMarked = Interlocked.Read(ref Stats.HeapMarked),
                BadMarks = Interlocked.Read(ref Stats.BadMarks),
                ProfileSamples = samples,
                Arenas = Stats.Arenas,
            };
        }
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
            MSpan? s = SpanOf(ptr);
            if (s == null)
                return false;
            uint g = Volatile.Read(ref s.SweepGen);
            if (s.State != SpanState.InUse || ptr < s.StartAddr || ptr >= s.Limit)
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
            int i = s.ObjIndex(ptr);
            // A stale cached span (sg+1) is swept when its P flushes: what survives is what is marked.
            bool allocated = g == sg + 1 ? s.IsMarked(i) : s.IsAllocated(i);
            var found = new ObjectInfo(s.ObjectAddress(i), s.ElemSize, s.SpanClass, allocated);
            // The bitmap reads above complete before the sweepgens are read again.
            Interlocked.MemoryBarrier();
            // A sweep (or a flush's sweep) began meanwhile, or the cycle moved on: the bits may be torn.
#if SEEDED_BUGS
            if (!SeededBugs.On(SeededBug.FindObjectReadsUnownedSpan))
#endif
            if (Volatile.Read(ref s.SweepGen) != g || SweepGen != sg || s.State != SpanState.InUse)
                continue;
            info = found;
            return true;
        }
    }

    // ---------------------------------------------------------------- dispose

    /// <summary>Stops the background sweeper and unmaps the arenas and metadata; any later call throws ObjectDisposedException, a second Dispose does nothing. Throws InvalidOperationException while another live thread holds a P.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        lock (_pLock)
        {
            int me = Environment.CurrentManagedThreadId;
            foreach (P p in AllP)
            {
                if (p.Owner != me && !IdleOrOrphaned(p))
                    throw new InvalidOperationException($"Dispose: P{p.Id} is still held by thread {p.Owner}");
            }
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
        Volatile.Write(ref _arenas, []);
        _persistent?.Dispose(); // null only if the constructor failed (the finalizer still runs then)
    }
}
