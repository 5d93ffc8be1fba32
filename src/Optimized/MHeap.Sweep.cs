// MHeap sweeping for the Optimized heap (mirrors runtime/mgcsweep.go): sweepone over the
// sweep-class cursor, mspan.sweep on native records, ensureSwept, proportional sweep credit.
// Same protocol and order as the Reference (spec/SPEC.md): the sweepgen CAS sg-2 -> sg-1 decides
// ownership; sweepgen = sg is published before the span is pushed or freed; every sweeping path
// registers in ActiveSweep; the credit clamps heap_live - basis at 0 (golang/go#57523).
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    private const int NumSweepClasses = MallocConstants.NumSpanClasses * 2;

    private int _sweepClassCursor;
    private double _sweepPagesPerByte;
    private long _sweepHeapLiveBasis;
    private long _pagesSweptBasis;

    /// <inheritdoc/>
    public long SweepOne()
    {
        using DisposeGuard.Scope op = EnterOperation();
        long pages = SweepOneCore();
        HookFaults.ThrowPending();
        return pages;
    }

    /// <summary>sweepone: claims and sweeps the next unswept span; its pages, or -1 once sweep is done.</summary>
    internal long SweepOneCore()
    {
        if (!_activeSweep.Begin())
            return -1;
        long npages = -1;
        uint sg = SweepGen;
        while (true)
        {
            MSpan* s = NextSpanForSweep(out bool full);
            if (s == null)
            {
                if (_activeSweep.MarkDrained() && Tracing)
                    Trace(HeapTraceKind.MarkDrained, null);
                break;
            }
            if (TryAcquire(s, sg))
            {
                if (Tracing)
                    Trace(HeapTraceKind.SweepStart, s, sg - 2, sg - 1, full ? "fullUnswept" : "partialUnswept");
                int n = s->NPages; // read before the sweep may free (and recycle) the record
                npages = SweepSpan(s, preserve: false) ? n : 0;
                break;
            }
        }
        _activeSweep.End();
        return npages;
    }

    private MSpan* NextSpanForSweep(out bool full)
    {
        uint sg = SweepGen;
        for (int sc = Volatile.Read(ref _sweepClassCursor); sc < NumSweepClasses; sc++)
        {
            MCentral c = Central[sc >> 1];
            full = (sc & 1) == 0;
            nint s = full ? c.FullUnswept(sg).Pop() : c.PartialUnswept(sg).Pop();
            if (s != 0)
            {
                AdvanceSweepCursor(sc);
                return (MSpan*)s;
            }
        }
        AdvanceSweepCursor(NumSweepClasses);
        full = false;
        return UnsweptFromOverflow(sg);
    }

    private void AdvanceSweepCursor(int sc)
    {
        while (true)
        {
            int cur = Volatile.Read(ref _sweepClassCursor);
            // Forward only; losing to a larger value is fine.
            if (cur >= sc || Interlocked.CompareExchange(ref _sweepClassCursor, sc, cur) == cur)
                return;
        }
    }

    /// <summary>tryAcquire: sweep ownership by CAS sg-2 -> sg-1 (a dead or reused record never matches sg-2).</summary>
    internal static bool TryAcquire(MSpan* s, uint sg)
    {
        if (Seeded.SweepOwnershipCheckThenSet(s, sg, out bool won))
            return won;
        return s->LoadState() == SpanState.InUse
            && Volatile.Read(ref s->SweepGen) == sg - 2
            && Interlocked.CompareExchange(ref s->SweepGen, sg - 1, sg - 2) == sg - 2;
    }

    /// <summary>mspan.sweep on a span the caller owns (sg-1). Returns true if the span was freed.</summary>
    internal bool SweepSpan(MSpan* s, bool preserve)
    {
        uint sg = SweepGen;
        if (s->LoadState() != SpanState.InUse || Volatile.Read(ref s->SweepGen) != sg - 1)
            ThrowHelper.Corrupt("INV-SWEEP-1", $"mspan.sweep: bad span state {s->ToString()} at sweepgen {sg}");
        if (s->InOverflow != 0)
            LeaveOverflow(s); // owned now: it goes back to a set (or the list) when swept
        if (!Seeded.PagesSweptReadThenWrite(this, s))
            Interlocked.Add(ref Stats.PagesSwept.Value, s->NPages);

        Action<nint, long>? onFree = _options.OnFree;
        if (onFree != null)
            ReportFrees(s, onFree);

        int nalloc = s->CountMarked();
        int nfreed = s->AllocCount - nalloc;
        if (nfreed < 0)
            ThrowHelper.Corrupt("INV-SPAN-3", $"mspan.sweep: sweep increased allocation count: {s->ToString()} marked={nalloc}");
        s->AllocCount = nalloc;
        s->FreeIndex = 0;
        Seeded.SweepgenPublishedBeforeBitmaps(s, sg);
        s->AllocBits = s->GcMarkBits;
        s->GcMarkBits = GcBits.NewSweepMarkBits(s->NElems); // from FinishMark's reserve: no mapping
        s->RefillAllocCache(0);

        // Serialization point: swept and ready before anyone can see it again.
        if (!Seeded.SweepgenPublishedAfterPush())
            Volatile.Write(ref s->SweepGen, sg);

        int spc = s->SpanClass;
        if ((spc >> 1) != 0)
        {
            if (nfreed > 0)
            {
                s->NeedZero = 1;
                Interlocked.Add(ref Stats.NSmallFree[spc >> 1], nfreed);
            }
            if (!preserve)
            {
                if (nalloc == 0)
                {
                    Seeded.PublishSweepgenAfterPush(s, sg);
                    if (Tracing)
                        TraceSweepFreed(s, sg, nfreed);
                    FreeSpan(s);
                    return true;
                }
                MCentral c = Central[spc];
                bool full = nalloc == s->NElems;
                if (Tracing)
                    TraceSweepDone(s, sg, nfreed, full ? "pushed to fullSwept" : "pushed to partialSwept");
                PushSwept(c, s, sg);
            }
            else if (Tracing)
            {
                TraceSweepDone(s, sg, nfreed, "kept by its sweeper (cacheSpan)");
            }
        }
        else if (!preserve)
        {
            if (nfreed != 0)
            {
                Seeded.PublishSweepgenAfterPush(s, sg);
                Interlocked.Increment(ref Stats.LargeFrees);
                Interlocked.Add(ref Stats.LargeFreeBytes, s->ElemSize);
                if (Tracing)
                    TraceSweepFreed(s, sg, nfreed);
                FreeSpan(s);
                return true;
            }
            if (Tracing)
                TraceSweepDone(s, sg, nfreed, "pushed to fullSwept");
            PushSwept(Central[spc], s, sg);
        }
        else if (Tracing)
        {
            TraceSweepDone(s, sg, nfreed, "kept by its sweeper");
        }
        Seeded.PublishSweepgenAfterPush(s, sg);
        return false;
    }

    /// <summary>The allocfreetrace hook: every allocated, unmarked object (allocated = below freeindex or alloc bit set).</summary>
    private static void ReportFrees(MSpan* s, Action<nint, long> onFree)
    {
        int words = (s->NElems + 63) / 64;
        for (int w = 0; w < words; w++)
        {
            ulong alloc = Unsafe.ReadUnaligned<ulong>(s->AllocBits + w * 8);
            int below = Math.Clamp(s->FreeIndex - w * 64, 0, 64);
            if (below > 0)
                alloc |= below == 64 ? ulong.MaxValue : (1UL << below) - 1;
            ulong dead = alloc & ~Unsafe.ReadUnaligned<ulong>(s->GcMarkBits + w * 8);
            int lim = Math.Min(64, s->NElems - w * 64);
            if (lim < 64)
                dead &= (1UL << lim) - 1;
            while (dead != 0)
            {
                int b = BitOperations.TrailingZeroCount(dead);
                dead &= dead - 1;
                // A throwing hook must not leave the span half-swept: its exception waits (HookFaults).
                HookFaults.CallOnFree(onFree, s->ObjectAddress(w * 64 + b), s->ElemSize);
            }
        }
    }

    /// <summary>
    /// ensureSwept for a caller that holds no P (FindObject): returns once s is swept in cycle sg
    /// (sweeping it here if nobody owns it), once it is freed, or once the cycle moved on past sg
    /// (the caller does not stop the world, so it must read the span again).
    /// </summary>
    internal void EnsureSwept(MSpan* s, uint sg)
    {
        uint g = Volatile.Read(ref s->SweepGen);
        if (g == sg || g == sg + 3)
            return;
        if (_activeSweep.Begin())
        {
            if (TryAcquire(s, sg))
            {
                if (Tracing)
                    Trace(HeapTraceKind.EnsureSwept, s, sg - 2, sg - 1, "sweeping it here");
                SweepSpan(s, preserve: false);
                _activeSweep.End();
                return;
            }
            _activeSweep.End();
        }
        if (Tracing)
            Trace(HeapTraceKind.EnsureSwept, s, g, s->SweepGen, "waiting for its sweeper");
        // Somebody else is sweeping it: wait for them to publish sweepgen.
        while (true)
        {
            g = Volatile.Read(ref s->SweepGen);
            if (g == sg || g == sg + 3 || s->LoadState() != SpanState.InUse)
                return;
            if (Seeded.EnsureSweptReturnsOnClaim(g, sg))
                return;
            if (!Seeded.FindObjectWaitIgnoresCycle())
                if (SweepGen != sg)
                    return; // a cycle boundary passed: sg and sg+3 may never come back
            // Still unswept and unclaimed: begin can fail in the window where FinishMark has
            // published the new sweepgen but not yet reset the sweep-state word (still drained
            // from the last cycle). Nobody may ever claim the span then, so try again here.
            // The next pass reads the sweepgen this publishes (or another sweeper's claim).
            if (g == sg - 2 && _activeSweep.Begin())
            {
                if (TryAcquire(s, sg))
                    SweepSpan(s, preserve: false);
                _activeSweep.End();
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
    internal void CheckSweptAfterWait(MSpan* s, uint sg)
    {
        lock (_pLock)
        {
            uint g = Volatile.Read(ref s->SweepGen);
            if (s->LoadState() != SpanState.InUse || SweepGen != sg)
                return; // freed, or a cycle boundary passed: the wait ended for that
            if (g != sg && g != sg + 3)
                ThrowHelper.Corrupt("INV-SWEEP-6", $"ensureSwept: {s->ToString()} returned at sweepgen {g} (sg = {sg}): its sweep has not finished");
            int marked = !Marking ? s->CountMarked() : 0;
            if (marked != 0)
                ThrowHelper.Corrupt("INV-SWEEP-6", $"ensureSwept: {s->ToString()} is swept (sweepgen {g}, sg = {sg}) but {marked} mark bits are not consumed");
        }
    }

    internal void DeductSweepCredit(long spanBytes, long callerSweepPages)
    {
        double pagesPerByte = Volatile.Read(ref _sweepPagesPerByte);
        if (pagesPerByte == 0)
            return;
        DeductSweepCreditSlow(pagesPerByte, spanBytes, callerSweepPages);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DeductSweepCreditSlow(double pagesPerByte, long spanBytes, long callerSweepPages)
    {
    retry:
        long sweptBasis = Volatile.Read(ref _pagesSweptBasis);
        long live = Interlocked.Read(ref Stats.HeapLive.Value);
        long liveBasis = Volatile.Read(ref _sweepHeapLiveBasis);
        long newHeapLive = spanBytes;
        Seeded.SweepCreditOmitsSpanBytes(ref newHeapLive);
        // golang/go#57523: never subtract past the basis (heap_live can drop below it).
        if (liveBasis < live)
            newHeapLive += live - liveBasis;
        long pagesTarget = (long)(pagesPerByte * newHeapLive) - callerSweepPages;
        Seeded.Go57523SweepCreditUnderflow(ref pagesTarget, pagesPerByte, live, liveBasis, spanBytes, callerSweepPages);
        long swept;
        while (pagesTarget > (swept = Interlocked.Read(ref Stats.PagesSwept.Value) - sweptBasis))
        {
            if (Tracing)
                Trace(HeapTraceKind.CreditSweep, null, detail: $"{pagesTarget - swept} pages behind the pacing line");
            if (SweepOneCore() == -1)
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
        long heapLiveBasis = Interlocked.Read(ref Stats.HeapLive.Value);
        long pagesSwept = Interlocked.Read(ref Stats.PagesSwept.Value);
        long pagesInUse;
        lock (Lock)
            pagesInUse = Stats.HeapInuse / MallocConstants.PageSize;
        int gcPercent = Volatile.Read(ref _gcPercent);
        if (gcPercent < 0 || pagesInUse <= pagesSwept || _activeSweep.IsDone)
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
            Trace(HeapTraceKind.SetGcPercent, null, detail: $"GOGC {percent}");
        HookFaults.ThrowPending();
    }

    /// <inheritdoc/>
    public void FinishSweep()
    {
        using DisposeGuard.Scope op = EnterOperation();
        FinishSweepCore();
        ThrowHookFaults();
    }

    private void FinishSweepCore()
    {
        FlushIdleStalePs();
        while (SweepOneCore() != -1)
        {
        }
        while (!_activeSweep.IsDone)
        {
            FlushIdleStalePs();
            Thread.Yield();
        }
    }

    /// <inheritdoc/>
    public bool SweepDone => _activeSweep.IsDone;

    /// <inheritdoc/>
    public void StartBackgroundSweeper()
    {
        ThrowIfDisposed();
        _bgSweeper.Start(recordWork: !Seeded.SweeperRestartForgetsWork());
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
