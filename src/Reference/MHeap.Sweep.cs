// MHeap sweeping (mirrors runtime/mgcsweep.go): sweepone, the sweep-class cursor, mspan.sweep,
// ensureSwept, proportional sweep credit, and the public sweep entry points.
// Ownership: a span is swept only by whoever wins the CAS of its sweepgen from sg-2 to sg-1
// (INV-SWEEP-1); the winner publishes sweepgen = sg before the span is pushed to a swept set or
// freed. Order (spec placement policy): the cursor walks sweep classes 0..271 = span class x
// {full unswept, partial unswept}, only forward within a cycle.
// Fixed protocol vs Go 1.16: every path that sweeps registers in ActiveSweep first
// (golang/go#46500, #45315) and the credit arithmetic clamps heap_live - basis at 0 (golang/go#57523).
namespace GoAlloc.Reference;

public sealed unsafe partial class MHeap
{
    private const int NumSweepClasses = MallocConstants.NumSpanClasses * 2;

    private int _sweepClassCursor;       // atomic, only moves forward within a cycle
    private double _sweepPagesPerByte;   // atomic; 0 = proportional sweep off or done
    private long _sweepHeapLiveBasis;    // atomic (written by PaceSweeper)
    private long _pagesSweptBasis;       // atomic

    /// <inheritdoc/>
    public long SweepOne()
    {
        using DisposeGuard.Scope op = EnterOperation();
        long pages = SweepOneCore(-1);
        HookFaults.ThrowPending();
        return pages;
    }

    /// <summary>
    /// sweepone: sweeps one unswept span; its pages if it was freed, 0 if kept, -1 if none was left.
    /// pid: the P this sweep works for (proportional sweep credit), or -1 (trace only).
    /// </summary>
    internal long SweepOneCore(int pid)
    {
        if (!ActiveSweep.Begin())
            return -1;
        long npages = -1;
        uint sg = SweepGen;
        while (true)
        {
            MSpan? s = NextSpanForSweep(out bool full);
            if (s == null)
            {
                if (ActiveSweep.MarkDrained() && Tracing)
                    Trace(HeapTraceKind.MarkDrained, pid, null);
                break;
            }
            if (s.State != SpanState.InUse)
                continue; // a stale entry: another path swept and freed this span
            if (TryAcquire(s, sg))
            {
                if (Tracing)
                    Trace(HeapTraceKind.SweepStart, pid, s, sg - 2, sg - 1, full ? "fullUnswept" : "partialUnswept");
                npages = SweepSpan(s, preserve: false, pid) ? s.NPages : 0;
                break;
            }
            // Lost the CAS or already swept: the owner takes care of the span.
        }
        ActiveSweep.End();
        return npages;
    }

    /// <summary>nextSpanForSweep: pops the next span from the unswept sets in sweep-class order; full says which set.</summary>
    private MSpan? NextSpanForSweep(out bool full)
    {
        uint sg = SweepGen;
        for (int sc = Volatile.Read(ref _sweepClassCursor); sc < NumSweepClasses; sc++)
        {
            MCentral c = Central[sc >> 1];
            full = (sc & 1) == 0;
            MSpan? s = full ? c.FullUnswept(sg).Pop() : c.PartialUnswept(sg).Pop();
            if (s != null)
            {
                AdvanceSweepCursor(sc);
                return s;
            }
        }
        AdvanceSweepCursor(NumSweepClasses);
        full = false;
        return null;
    }

    private void AdvanceSweepCursor(int sc)
    {
        while (true)
        {
            int cur = Volatile.Read(ref _sweepClassCursor);
            // Moves the shared cursor forward only; losing a race to a larger value is fine.
            if (cur >= sc || Interlocked.CompareExchange(ref _sweepClassCursor, sc, cur) == cur)
                return;
        }
    }

    /// <summary>tryAcquire: takes sweep ownership of s by CAS sg-2 -> sg-1.</summary>
    internal static bool TryAcquire(MSpan s, uint sg)
    {
#if SEEDED_BUGS
        if (SeededBugs.On(SeededBug.SweepOwnershipCheckThenSet))
        {
            if (s.State != SpanState.InUse || Volatile.Read(ref s.SweepGen) != sg - 2)
                return false;
            Volatile.Write(ref s.SweepGen, sg - 1); // another sweeper may have passed the check too
            return true;
        }
#endif
        return s.State == SpanState.InUse
            && Volatile.Read(ref s.SweepGen) == sg - 2
            && Interlocked.CompareExchange(ref s.SweepGen, sg - 1, sg - 2) == sg - 2;
    }

    /// <summary>
    /// mspan.sweep: frees the unmarked objects of a span the caller owns (sweepgen sg-1). Marked bits
    /// become the alloc bits. Unless preserve, the span then goes to a swept set or, if empty (large:
    /// unmarked), back to the heap. Returns true if the span was freed. pid: the P the sweep works
    /// for, or -1 (trace only).
    /// </summary>
    internal bool SweepSpan(MSpan s, bool preserve, int pid)
    {
        uint sg = SweepGen;
        if (s.State != SpanState.InUse || Volatile.Read(ref s.SweepGen) != sg - 1)
            throw new HeapInvariantException("INV-SWEEP-1", $"mspan.sweep: bad span state {s} at sweepgen {sg}");
#if SEEDED_BUGS
        if (SeededBugs.On(SeededBug.PagesSweptReadThenWrite))
            Volatile.Write(ref Stats.PagesSwept, Volatile.Read(ref Stats.PagesSwept) + s.NPages); // a concurrent sweep's pages may be lost
        else
#endif
        Interlocked.Add(ref Stats.PagesSwept, s.NPages);

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
#if SEEDED_BUGS
        if (SeededBugs.On(SeededBug.SweepgenPublishedBeforeBitmaps))
            Volatile.Write(ref s.SweepGen, sg);
#endif
        s.AllocBits = s.GcMarkBits;
        s.GcMarkBits = (byte*)GcBitsAlloc.Alloc();

        // Serialization point: the span is swept and ready before anyone else can see it again.
        bool publishAfterPush = false;
#if SEEDED_BUGS
        publishAfterPush = SeededBugs.On(SeededBug.SweepgenPublishedAfterPush);
#endif
        if (!publishAfterPush)
            Volatile.Write(ref s.SweepGen, sg);

        MCentral central = Central[s.SpanClass];
        if (s.SizeClass != 0)
        {
            if (nfreed > 0)
            {
                s.NeedZero = true;
                Interlocked.Add(ref Stats.NSmallFree[s.SizeClass], nfreed);
            }
            if (!preserve)
            {
                if (nalloc == 0)
                {
                    if (publishAfterPush)
                        Volatile.Write(ref s.SweepGen, sg);
                    if (Tracing)
                        TraceSweepFreed(pid, s, sg, nfreed);
                    FreeSpan(s);
                    return true;
                }
                bool full = nalloc == s.NElems;
                if (Tracing)
                    TraceSweepDone(pid, s, sg, nfreed, full ? "pushed to fullSwept" : "pushed to partialSwept");
                (full ? central.FullSwept(sg) : central.PartialSwept(sg)).Push(s);
            }
            else if (Tracing)
            {
                TraceSweepDone(pid, s, sg, nfreed, "kept by its sweeper (cacheSpan)");
            }
        }
        else if (!preserve)
        {
            if (nfreed != 0)
            {
                if (publishAfterPush)
                    Volatile.Write(ref s.SweepGen, sg);
                Interlocked.Increment(ref Stats.LargeFrees);
                Interlocked.Add(ref Stats.LargeFreeBytes, s.ElemSize);
                if (Tracing)
                    TraceSweepFreed(pid, s, sg, nfreed);
                FreeSpan(s);
                return true;
            }
            if (Tracing)
                TraceSweepDone(pid, s, sg, nfreed, "pushed to fullSwept");
            central.FullSwept(sg).Push(s);
        }
        else if (Tracing)
        {
            TraceSweepDone(pid, s, sg, nfreed, "kept by its sweeper");
        }
        if (publishAfterPush)
            Volatile.Write(ref s.SweepGen, sg); // seeded bug: visible in a swept set before it is marked swept
        return false;
    }

    /// <summary>
    /// ensureSwept for a caller that holds no P (FindObject): returns once s is swept in cycle sg
    /// (sweeping it here if nobody owns it), once it is freed, or once the cycle moved on past sg
    /// (the caller does not stop the world, so it must read the span again).
    /// </summary>
    internal void EnsureSwept(MSpan s, uint sg)
    {
        uint g = Volatile.Read(ref s.SweepGen);
        if (g == sg || g == sg + 3)
            return;
        if (ActiveSweep.Begin())
        {
            if (TryAcquire(s, sg))
            {
                if (Tracing)
                    Trace(HeapTraceKind.EnsureSwept, -1, s, sg - 2, sg - 1, "sweeping it here");
                SweepSpan(s, preserve: false, -1);
                ActiveSweep.End();
                return;
            }
            ActiveSweep.End();
        }
        if (Tracing)
            Trace(HeapTraceKind.EnsureSwept, -1, s, g, s.SweepGen, "waiting for its sweeper");
        // Somebody else is sweeping it: wait for them to publish sweepgen.
        while (true)
        {
            g = Volatile.Read(ref s.SweepGen);
            if (g == sg || g == sg + 3 || s.State != SpanState.InUse)
                return;
#if SEEDED_BUGS
            if (SeededBugs.On(SeededBug.EnsureSweptReturnsOnClaim) && g == sg - 1)
                return;
#endif
#if SEEDED_BUGS
            if (!SeededBugs.On(SeededBug.FindObjectWaitIgnoresCycle))
#endif
            if (SweepGen != sg)
                return; // a cycle boundary passed: sg and sg+3 may never come back
            // Still unswept and unclaimed: begin can fail in the window where FinishMark has
            // published the new sweepgen but not yet reset the sweep-state word (still drained
            // from the last cycle). Nobody may ever claim the span then, so try again here.
            // The next pass reads the sweepgen this publishes (or another sweeper's claim).
            if (g == sg - 2 && ActiveSweep.Begin())
            {
                if (TryAcquire(s, sg))
                    SweepSpan(s, preserve: false, -1);
                ActiveSweep.End();
            }
            Thread.Yield();
        }
    }

    /// <summary>
    /// INV-SWEEP-6, the postcondition of a wait for a span's sweep (ensureSwept), checked by its
    /// caller: unless the span was freed or the cycle moved on past sg, the sweep has finished:
    /// the span is at sg (sg+3 once a P cached it) and, outside the mark phase, its mark bits are
    /// consumed (all clear, INV-MARK-1). A wait that ends on a sweeper's claim (sg-1), or a sweep
    /// that publishes sg before it replaces the bitmaps, would let the caller read bits the sweep
    /// is still changing. Within one cycle a span's sweepgen only moves forward (a freed span keeps
    /// sg), so once the wait saw the sweep finished or the span freed, no later read sees sg-2 or
    /// sg-1 while sg holds. Under the P lock, so no StartMark / FinishMark runs meanwhile: the
    /// phase and sg are fixed (FinishMark ends the phase before it moves sg, so without the lock a
    /// reader could see the phase over while this cycle's marks are still on spans at sg), and a
    /// span at sg is neither swept nor freed until the next cycle. Only this slow path (after a
    /// wait) takes the lock.
    /// </summary>
    internal void CheckSweptAfterWait(MSpan s, uint sg)
    {
        lock (_pLock)
        {
            uint g = Volatile.Read(ref s.SweepGen);
            if (s.State != SpanState.InUse || SweepGen != sg)
                return; // freed, or a cycle boundary passed: the wait ended for that
            if (g != sg && g != sg + 3)
                throw new HeapInvariantException("INV-SWEEP-6", $"ensureSwept: {s} returned at sweepgen {g} (sg = {sg}): its sweep has not finished");
            int marked = Phase != GcPhase.Mark ? s.CountMarked() : 0;
            if (marked != 0)
                throw new HeapInvariantException("INV-SWEEP-6", $"ensureSwept: {s} is swept (sweepgen {g}, sg = {sg}) but {marked} mark bits are not consumed");
        }
    }

    /// <summary>
    /// deductSweepCredit: before allocating spanBytes of new span, sweep enough pages to stay on the
    /// pacing line pagesSwept - basis >= pagesPerByte * (heap_live - liveBasis + spanBytes).
    /// </summary>
    internal void DeductSweepCredit(long spanBytes, long callerSweepPages, int pid)
    {
        double pagesPerByte = Volatile.Read(ref _sweepPagesPerByte);
        if (pagesPerByte == 0)
            return;
    retry:
        long sweptBasis = Volatile.Read(ref _pagesSweptBasis);
        long live = Interlocked.Read(ref Stats.HeapLive);
        long liveBasis = Volatile.Read(ref _sweepHeapLiveBasis);
        long newHeapLive = spanBytes;
#if SEEDED_BUGS
        if (SeededBugs.On(SeededBug.SweepCreditOmitsSpanBytes))
            newHeapLive = 0;
#endif
        // golang/go#57523: heap_live may have dropped below the basis (a forced mcache flush undoes
        // cached-span bytes); subtracting then would underflow into an enormous debt.
        if (liveBasis < live)
            newHeapLive += live - liveBasis;
        long pagesTarget = (long)(pagesPerByte * newHeapLive) - callerSweepPages;
#if SEEDED_BUGS
        if (SeededBugs.On(SeededBug.Go57523SweepCreditUnderflow))
        {
            // Go 1.16-1.19: uintptr(live - basis) wraps to ~2^64 when live < basis.
            double wrapped = unchecked((ulong)(live - liveBasis)) + (double)spanBytes;
            pagesTarget = (long)Math.Min(pagesPerByte * wrapped, long.MaxValue / 2) - callerSweepPages;
        }
#endif
        long swept;
        while (pagesTarget > (swept = Interlocked.Read(ref Stats.PagesSwept) - sweptBasis))
        {
            if (Tracing)
                Trace(HeapTraceKind.CreditSweep, pid, null, detail: $"{pagesTarget - swept} pages behind the pacing line");
            if (SweepOneCore(pid) == -1)
            {
                Volatile.Write(ref _sweepPagesPerByte, 0);
                break;
            }
            // Pacing changed under us (SetGcPercent): recompute the debt.
            if (Volatile.Read(ref _pagesSweptBasis) != sweptBasis)
            {
                pagesPerByte = Volatile.Read(ref _sweepPagesPerByte);
                if (pagesPerByte == 0)
                    break;
                goto retry;
            }
        }
    }

    /// <summary>
    /// gcPaceSweeper: sets the proportional sweep ratio from heap_live, the trigger and the pages
    /// still to sweep. At FinishMark (world stopped) and from SetGcPercent (concurrently, like Go
    /// 1.19). The bases are written before the ratio; pagesSweptBasis last, which tells concurrent
    /// sweepers to recompute their debt.
    /// </summary>
    private void PaceSweeper()
    {
        long heapLiveBasis = Interlocked.Read(ref Stats.HeapLive);
        long pagesSwept = Interlocked.Read(ref Stats.PagesSwept);
        long pagesInUse;
        lock (Lock)
            pagesInUse = Stats.HeapInuse / MallocConstants.PageSize;
        int gcPercent = Volatile.Read(ref _gcPercent);
        if (gcPercent < 0 || pagesInUse <= pagesSwept || ActiveSweep.IsDone)
        {
            Volatile.Write(ref _sweepPagesPerByte, 0);
            return;
        }
        long marked = Interlocked.Read(ref Stats.HeapMarked);
        Volatile.Write(ref _sweepPagesPerByte, SweepPacing.PagesPerByte(pagesInUse, pagesSwept, heapLiveBasis, marked, gcPercent));
        Volatile.Write(ref _sweepHeapLiveBasis, heapLiveBasis);
        Volatile.Write(ref _pagesSweptBasis, pagesSwept);
    }

    /// <inheritdoc/>
    public void SetGcPercent(int percent)
    {
        HeapOptions.CheckGcPercent(percent, nameof(percent));
        using DisposeGuard.Scope op = EnterOperation();
        Volatile.Write(ref _gcPercent, percent);
        PaceSweeper();
        if (Tracing)
            Trace(HeapTraceKind.SetGcPercent, -1, null, detail: $"GOGC {percent}");
        HookFaults.ThrowPending();
    }

    /// <inheritdoc/>
    public void FinishSweep()
    {
        using DisposeGuard.Scope op = EnterOperation();
        FinishSweepCore();
        ThrowHookFaults();
    }

    /// <summary>finishsweep_m: flush idle stale Ps, sweep everything left, wait for other sweepers.</summary>
    private void FinishSweepCore()
    {
        FlushIdleStalePs();
        while (SweepOneCore(-1) != -1)
        {
        }
        while (!ActiveSweep.IsDone)
        {
            // Remaining sweepers are other threads mid-span, or Ps being acquired that are flushing.
            FlushIdleStalePs();
            Thread.Yield();
        }
    }

    /// <inheritdoc/>
    public bool SweepDone => ActiveSweep.IsDone;

    /// <inheritdoc/>
    public void StartBackgroundSweeper()
    {
        ThrowIfDisposed();
        _bgSweeper.Start();
    }

    internal bool BackgroundSweeperOnBackgroundThread => _bgSweeper.OnBackgroundThread;

    /// <inheritdoc/>
    public void StopBackgroundSweeper()
    {
        ThrowIfDisposed();
        _bgSweeper.Stop();
        ThrowHookFaults();
    }
}
