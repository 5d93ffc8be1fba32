// MHeap sweeping (mirrors runtime/mgcsweep.go): sweepone, the sweep-class cursor, mspan.sweep,
// proportional sweep credit, sweep done, and the public sweep entry points.
// Differs from Go: everything runs under the one heap lock, so there is no activeSweep word and
// no CAS on a span's sweepgen: whoever finds a span at sg-2 sweeps it there and then (sg-2 ->
// sg-1 -> sg within one hold of the lock). Sweep done is computed (SweepDoneLocked): the sweep
// cursor ran off the end and no P holds the previous cycle's spans. Order (spec placement policy):
// the cursor walks sweep classes 0..271 = span class x {full unswept, partial unswept}, only
// forward within a cycle. The credit arithmetic clamps heap_live - basis at 0 (golang/go#57523).
namespace GoAlloc.Reference;

public sealed unsafe partial class MHeap
{
    private const int NumSweepClasses = MallocConstants.NumSpanClasses * 2;

    /// <summary>
    /// The next sweep class sweepone looks at; only moves forward within a cycle. It reaches
    /// NumSweepClasses when sweepone found every unswept set empty ("drained"): a new heap starts
    /// there (nothing to sweep), FinishMark resets it to 0.
    /// </summary>
    private int _sweepClassCursor = NumSweepClasses;
    private double _sweepPagesPerByte;   // 0 = proportional sweep off or done
    private long _sweepHeapLiveBasis;
    private long _pagesSweptBasis;

    /// <inheritdoc/>
    public long SweepOne()
    {
        long pages;
        lock (Lock)
        {
            ThrowIfDisposed();
            pages = SweepOneLocked();
        }
        HookFaults.ThrowPending();
        return pages;
    }

    /// <summary>One background sweeper step: sweepone, or -1 once the heap is disposed.</summary>
    long IBackgroundSweepHeap.SweepOneInBackground()
    {
        lock (Lock)
            return _disposed ? -1 : SweepOneLocked();
    }

    /// <summary>The background sweeper's end of round: flush idle stale Ps (nothing once disposed).</summary>
    void IBackgroundSweepHeap.FlushIdleStalePsInBackground()
    {
        lock (Lock)
        {
            if (!_disposed)
                FlushIdleStalePs();
        }
    }

    /// <summary>
    /// sweepone: sweeps the next unswept span in sweep-class order; its pages if it was freed, 0 if
    /// kept, -1 if none was left. Caller holds Lock.
    /// </summary>
    private long SweepOneLocked()
    {
        uint sg = _sweepGen;
        while (true)
        {
            MSpan? s = NextSpanForSweep(out bool full);
            if (s == null)
                return -1;
            if (s.State != SpanState.InUse || s.SweepGen != sg - 2)
                continue; // a stale entry: FindObject swept this span (and it went where it belongs)
            if (Tracing)
                Trace(HeapTraceKind.SweepStart, s, sg - 2, sg - 1, full ? "fullUnswept" : "partialUnswept");
            return SweepUnswept(s, preserve: false) ? s.NPages : 0;
        }
    }

    /// <summary>
    /// nextSpanForSweep: pops the next entry from the unswept sets in sweep-class order (full says
    /// which set), raising the cursor to its class; null once every set is empty. Caller holds Lock.
    /// </summary>
    private MSpan? NextSpanForSweep(out bool full)
    {
        uint sg = _sweepGen;
        for (int sc = _sweepClassCursor; sc < NumSweepClasses; sc++)
        {
            MCentral c = Central[sc >> 1];
            full = (sc & 1) == 0;
            MSpan? s = full ? c.FullUnswept(sg).Pop() : c.PartialUnswept(sg).Pop();
            if (s != null)
            {
                _sweepClassCursor = sc;
                return s;
            }
        }
        full = false;
        if (_sweepClassCursor < NumSweepClasses)
        {
            // Drained: nothing is pushed to an unswept set within a cycle, so they stay empty.
            _sweepClassCursor = NumSweepClasses;
            if (Tracing)
                Trace(HeapTraceKind.MarkDrained, null);
        }
        return null;
    }

    /// <summary>
    /// Sweep done: sweepone found every unswept set empty in this cycle, and every P's mcache is
    /// flushed for it (a stale mcache's spans, at sg+1, are swept only when it flushes). Then no
    /// span is at sg-2, sg-1 or sg+1 (INV-SWEEP-3). Caller holds Lock.
    /// </summary>
    private bool SweepDoneLocked
    {
        get
        {
            if (_sweepClassCursor != NumSweepClasses)
                return false;
            foreach (P p in AllP)
            {
                if (p.MCache.FlushGen != _sweepGen)
                    return false;
            }
            return true;
        }
    }

    /// <inheritdoc/>
    public bool SweepDone
    {
        get
        {
            lock (Lock)
                return SweepDoneLocked;
        }
    }

    /// <summary>Sweeps s, a span of this cycle at sg-2 (the caller checked): sg-2 -> sg-1, then mspan.sweep. Caller holds Lock.</summary>
    internal bool SweepUnswept(MSpan s, bool preserve)
    {
        s.SweepGen = _sweepGen - 1;
        return SweepSpan(s, preserve);
    }

    /// <summary>
    /// mspan.sweep: frees the unmarked objects of a span being swept (sweepgen sg-1). Marked bits
    /// become the alloc bits. Unless preserve, the span then goes to a swept set or, if empty (large:
    /// unmarked), back to the heap. Returns true if the span was freed. Caller holds Lock.
    /// </summary>
    internal bool SweepSpan(MSpan s, bool preserve)
    {
        uint sg = _sweepGen;
        if (s.State != SpanState.InUse || s.SweepGen != sg - 1)
            throw new HeapInvariantException("INV-SWEEP-1", $"mspan.sweep: bad span state {s} at sweepgen {sg}");
        Stats.PagesSwept += s.NPages;

        Action<nint, long>? onFree = _options.OnFree;
        if (onFree != null)
        {
            for (int i = 0; i < s.NElems; i++)
            {
                // A throwing hook must not leave the span half-swept: its exception waits (HookFaults).
                if (s.IsAllocated(i) && !s.IsMarked(i))
                    HookFaults.CallOnFree(onFree, s.ObjectAddress(i), s.ElemSize);
            }
        }

        int nalloc = s.CountMarked();
        int nfreed = s.AllocCount - nalloc;
        if (nfreed < 0)
            throw new HeapInvariantException("INV-SPAN-3", $"mspan.sweep: sweep increased allocation count: {s} marked={nalloc}");
        s.AllocCount = nalloc;
        s.FreeIndex = 0;
        GcBitsAlloc.Free((nint)s.AllocBits);
        s.AllocBits = s.GcMarkBits;
        s.GcMarkBits = (byte*)GcBitsAlloc.Alloc();
        s.SweepGen = sg; // swept

        MCentral central = Central[s.SpanClass];
        if (s.SizeClass != 0)
        {
            if (nfreed > 0)
            {
                s.NeedZero = true;
                Stats.NSmallFree[s.SizeClass] += nfreed;
            }
            if (preserve)
            {
                if (Tracing)
                    TraceSweepDone(s, nfreed, "kept by its sweeper (cacheSpan)");
                return false;
            }
            if (nalloc == 0)
            {
                if (Tracing)
                    TraceSweepFreed(s, nfreed);
                FreeSpan(s);
                return true;
            }
            bool full = nalloc == s.NElems;
            if (Tracing)
                TraceSweepDone(s, nfreed, full ? "pushed to fullSwept" : "pushed to partialSwept");
            (full ? central.FullSwept(sg) : central.PartialSwept(sg)).Push(s);
            return false;
        }
        if (preserve)
        {
            if (Tracing)
                TraceSweepDone(s, nfreed, "kept by its sweeper");
            return false;
        }
        if (nfreed != 0)
        {
            Stats.LargeFrees++;
            Stats.LargeFreeBytes += s.ElemSize;
            if (Tracing)
                TraceSweepFreed(s, nfreed);
            FreeSpan(s);
            return true;
        }
        if (Tracing)
            TraceSweepDone(s, nfreed, "pushed to fullSwept");
        central.FullSwept(sg).Push(s);
        return false;
    }

    /// <summary>
    /// deductSweepCredit: before allocating spanBytes of new span, sweep enough pages to stay on the
    /// pacing line pagesSwept - basis >= pagesPerByte * (heap_live - liveBasis + spanBytes). Caller holds Lock.
    /// </summary>
    internal void DeductSweepCredit(long spanBytes, long callerSweepPages)
    {
        if (_sweepPagesPerByte == 0)
            return;
        long newHeapLive = spanBytes;
        // golang/go#57523: heap_live may have dropped below the basis (a forced mcache flush undoes
        // cached-span bytes); subtracting then would underflow into an enormous debt.
        if (_sweepHeapLiveBasis < Stats.HeapLive)
            newHeapLive += Stats.HeapLive - _sweepHeapLiveBasis;
        long pagesTarget = (long)(_sweepPagesPerByte * newHeapLive) - callerSweepPages;
        long swept;
        while (pagesTarget > (swept = Stats.PagesSwept - _pagesSweptBasis))
        {
            if (Tracing)
                Trace(HeapTraceKind.CreditSweep, null, detail: $"{pagesTarget - swept} pages behind the pacing line");
            if (SweepOneLocked() == -1)
            {
                _sweepPagesPerByte = 0;
                break;
            }
        }
    }

    /// <summary>
    /// gcPaceSweeper: sets the proportional sweep ratio from heap_live, the trigger and the pages
    /// still to sweep. At FinishMark and from SetGcPercent. Caller holds Lock.
    /// </summary>
    private void PaceSweeper()
    {
        long pagesInUse = Stats.HeapInuse / MallocConstants.PageSize;
        if (_gcPercent < 0 || pagesInUse <= Stats.PagesSwept || SweepDoneLocked)
        {
            _sweepPagesPerByte = 0;
            return;
        }
        _sweepPagesPerByte = SweepPacing.PagesPerByte(pagesInUse, Stats.PagesSwept, Stats.HeapLive, Stats.HeapMarked, _gcPercent);
        _sweepHeapLiveBasis = Stats.HeapLive;
        _pagesSweptBasis = Stats.PagesSwept;
    }

    /// <inheritdoc/>
    public void SetGcPercent(int percent)
    {
        HeapOptions.CheckGcPercent(percent, nameof(percent));
        lock (Lock)
        {
            ThrowIfDisposed();
            _gcPercent = percent;
            PaceSweeper();
            if (Tracing)
                Trace(HeapTraceKind.SetGcPercent, null, detail: $"GOGC {percent}");
        }
        HookFaults.ThrowPending();
    }

    /// <inheritdoc/>
    public void FinishSweep()
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            FinishSweepLocked();
        }
        ThrowHookFaults();
    }

    /// <summary>finishsweep_m: flush idle stale Ps, then sweep everything left. Caller holds Lock.</summary>
    private void FinishSweepLocked()
    {
        FlushIdleStalePs();
        while (SweepOneLocked() != -1)
        {
        }
    }

    /// <inheritdoc/>
    public void StartBackgroundSweeper()
    {
        lock (Lock)
            ThrowIfDisposed();
        _bgSweeper.Start();
    }

    internal bool BackgroundSweeperOnBackgroundThread => _bgSweeper.OnBackgroundThread;

    /// <inheritdoc/>
    public void StopBackgroundSweeper()
    {
        lock (Lock)
            ThrowIfDisposed();
        _bgSweeper.Stop();
        ThrowHookFaults();
    }
}
