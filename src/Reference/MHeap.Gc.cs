// MHeap GC cycle (mirrors gcStart / greyobject / gcMarkTermination of runtime/mgc.go and
// mgcmark.go, reduced to what the allocator sees). The caller is the collector: StartMark
// (stop-the-world: finish the previous sweep, allocate-black on), Mark(ptr) per live object,
// FinishMark (stop-the-world: every P's tiny block is marked, as Go's gcMarkTinyAllocs; sweepgen += 2, so every in-use span becomes unswept; heap_live =
// marked bytes; sweep pacing set; every P counted as a pending sweeper until it flushes).
// INV-MARK-1: only allocated objects are ever marked; a sweep frees exactly the unmarked ones.
namespace GoAlloc.Reference;

public sealed partial class MHeap
{
    /// <inheritdoc/>
    public void StartMark()
    {
        ThrowIfDisposed();
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            RequireWorldStopped(nameof(StartMark));
            if (Phase != GcPhase.Off)
                throw new InvalidOperationException("StartMark: already in the mark phase");
            FinishSweepCore();
            Interlocked.Exchange(ref Stats.BytesMarked, 0);
            Volatile.Write(ref _phase, (int)GcPhase.Mark);
            if (Tracing)
                Trace(HeapTraceKind.StartMark, -1, null);
        }
        ThrowHookFaults();
    }

    /// <inheritdoc/>
    public bool Mark(nint ptr)
    {
        using DisposeGuard.Scope op = EnterOperation();
        if (Phase != GcPhase.Mark)
            throw new InvalidOperationException("Mark: not in the mark phase (call StartMark first)");
        MSpan? s = SpanOf(ptr);
        if (s != null && s.State == SpanState.InUse && ptr >= s.StartAddr && ptr < s.Limit)
        {
            int i = s.ObjIndex(ptr);
            if (s.IsAllocated(i))
            {
                if (s.SetMarked(i))
                    Interlocked.Add(ref Stats.BytesMarked, s.ElemSize);
                return true;
            }
        }
        Interlocked.Increment(ref Stats.BadMarks);
        if (_options.StrictMarks)
            throw new ArgumentOutOfRangeException(nameof(ptr), $"0x{ptr:x} is not inside an allocated heap object");
        return false;
    }

    /// <summary>
    /// gcMarkTinyAllocs: every P's current tiny block is live (objects combined into it while
    /// marking were never marked themselves), so mark it. World stopped.
    /// </summary>
    private void MarkTinyAllocs()
    {
        foreach (P p in AllP)
        {
            nint tiny = p.MCache.Tiny;
            if (tiny == 0)
                continue;
            MSpan? s = SpanOf(tiny);
            if (s == null || s.State != SpanState.InUse)
                continue;
            int i = s.ObjIndex(tiny);
            if (s.IsAllocated(i) && s.SetMarked(i))
                Interlocked.Add(ref Stats.BytesMarked, s.ElemSize);
        }
    }

    /// <inheritdoc/>
    public void FinishMark()
    {
        ThrowIfDisposed();
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            RequireWorldStopped(nameof(FinishMark));
            if (Phase != GcPhase.Mark)
                throw new InvalidOperationException("FinishMark: not in the mark phase");
            MarkTinyAllocs();
            Volatile.Write(ref _phase, (int)GcPhase.Off);
            long marked = Interlocked.Read(ref Stats.BytesMarked);
            Interlocked.Exchange(ref Stats.HeapMarked, marked);
            Interlocked.Exchange(ref Stats.HeapLive, marked);
            // The new sweep cycle: every swept span (sg) is now unswept (sg-2), cached ones stale (sg+1).
            Volatile.Write(ref _sweepGen, _sweepGen + 2);
#if SEEDED_BUGS
            if (!SeededBugs.On(SeededBug.PacedBeforePagesSweptReset))
#endif
            Interlocked.Exchange(ref Stats.PagesSwept, 0);
            Volatile.Write(ref _sweepClassCursor, 0);
            ActiveSweep.Reset((uint)AllP.Length);
            Interlocked.Increment(ref Stats.NumGC);
            PaceSweeper();
#if SEEDED_BUGS
            if (SeededBugs.On(SeededBug.PacedBeforePagesSweptReset))
                Interlocked.Exchange(ref Stats.PagesSwept, 0);
#endif
            if (Tracing)
                Trace(HeapTraceKind.FinishMark, -1, null, _sweepGen - 2, _sweepGen);
        }
        _bgSweeper.Kick();
        HookFaults.ThrowPending();
    }
}
