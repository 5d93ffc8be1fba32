// MHeap GC cycle (mirrors gcStart / greyobject / gcMarkTermination of runtime/mgc.go and
// mgcmark.go, reduced to what the allocator sees). The caller is the collector: StartMark
// (stop-the-world: finish the previous sweep, allocate-black on), Mark(ptr) per live object,
// FinishMark (stop-the-world: every P's tiny block is marked, as Go's gcMarkTinyAllocs; sweepgen
// += 2, so every in-use span becomes unswept and every mcache stale; heap_live = marked bytes;
// the sweep cursor back to class 0; sweep pacing set).
// Differs from Go: each step runs under the one heap lock; the stop-the-world check is that no P is held.
// INV-MARK-1: only allocated objects are ever marked; a sweep frees exactly the unmarked ones.
namespace GoAlloc.Reference;

public sealed partial class MHeap
{
    /// <inheritdoc/>
    public void StartMark()
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            RequireWorldStopped(nameof(StartMark));
            if (_phase != GcPhase.Off)
                throw new InvalidOperationException("StartMark: already in the mark phase");
            FinishSweepLocked();
            Stats.BytesMarked = 0;
            _phase = GcPhase.Mark;
            if (Tracing)
                Trace(HeapTraceKind.StartMark, null);
        }
        ThrowHookFaults();
    }

    /// <inheritdoc/>
    public bool Mark(nint ptr)
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            if (_phase != GcPhase.Mark)
                throw new InvalidOperationException("Mark: not in the mark phase (call StartMark first)");
            MSpan? s = SpanOf(ptr);
            if (s != null && s.State == SpanState.InUse && ptr >= s.StartAddr && ptr < s.Limit)
            {
                int i = s.ObjIndex(ptr);
                if (s.IsAllocated(i))
                {
                    if (s.SetMarked(i))
                        Stats.BytesMarked += s.ElemSize;
                    return true;
                }
            }
            Stats.BadMarks++;
            if (_options.StrictMarks)
                throw new ArgumentOutOfRangeException(nameof(ptr), $"0x{ptr:x} is not inside an allocated heap object");
            return false;
        }
    }

    /// <summary>
    /// gcMarkTinyAllocs: every P's current tiny block is live (objects combined into it while
    /// marking were never marked themselves), so mark it. Caller holds Lock, no P held.
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
                Stats.BytesMarked += s.ElemSize;
        }
    }

    /// <inheritdoc/>
    public void FinishMark()
    {
        lock (Lock)
        {
            ThrowIfDisposed();
            RequireWorldStopped(nameof(FinishMark));
            if (_phase != GcPhase.Mark)
                throw new InvalidOperationException("FinishMark: not in the mark phase");
            MarkTinyAllocs();
            _phase = GcPhase.Off;
            Stats.HeapMarked = Stats.BytesMarked;
            Stats.HeapLive = Stats.BytesMarked;
            // The new sweep cycle: every swept span (sg) is now unswept (sg-2), cached ones stale (sg+1),
            // and every mcache stale (flushGen sg-2).
            _sweepGen += 2;
            Stats.PagesSwept = 0;
            _sweepClassCursor = 0;
            Stats.NumGC++;
            PaceSweeper();
            if (Tracing)
                Trace(HeapTraceKind.FinishMark, null, _sweepGen - 2, _sweepGen);
        }
        _bgSweeper.Kick();
        HookFaults.ThrowPending();
    }
}
