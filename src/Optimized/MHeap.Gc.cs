// MHeap GC cycle for the Optimized heap: StartMark / Mark / FinishMark, identical in behaviour to
// the Reference (see its header). Extra for the Optimized: the unswept span sets are reset once
// the previous sweep is complete (Go's finishsweep_m), and the gcBits epoch rotates at FinishMark
// (nextMarkBitArenaEpoch), which recycles the bitmap arenas no span refers to any more and sets
// aside the mark bitmaps the sweep will take (so that no sweep step can run out of memory).
namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    /// <inheritdoc/>
    public void StartMark()
    {
        ThrowIfDisposed();
        lock (_pLock)
        {
            ThrowIfDisposed(); // again under the lock: Dispose decides under it
            RequireWorldStopped(nameof(StartMark));
            if (Marking)
                throw new InvalidOperationException("StartMark: already in the mark phase");
            FinishSweepCore();
            DrainOverflow(); // before the swept sets become the next cycle's unswept sets
            uint sg = SweepGen;
            foreach (MCentral c in Central)
            {
                c.PartialUnswept(sg).Reset();
                c.FullUnswept(sg).Reset();
            }
            Interlocked.Exchange(ref Stats.BytesMarked, 0);
            Volatile.Write(ref _marking, 1);
            if (Tracing)
                Trace(HeapTraceKind.StartMark, null);
        }
        ThrowHookFaults();
    }

    /// <inheritdoc/>
    public bool Mark(nint ptr)
    {
        using DisposeGuard.Scope op = EnterOperation();
        if (!Marking)
            throw new InvalidOperationException("Mark: not in the mark phase (call StartMark first)");
        MSpan* s = SpanOf(ptr);
        if (s != null && s->LoadState() == SpanState.InUse && ptr >= s->StartAddr && ptr < s->Limit)
        {
            int i = s->ObjIndex(ptr);
            if (s->IsAllocated(i))
            {
                if (s->SetMarked(i))
                    Interlocked.Add(ref Stats.BytesMarked, s->ElemSize);
                return true;
            }
        }
        Interlocked.Increment(ref Stats.BadMarks);
        if (_options.StrictMarks)
            throw new ArgumentOutOfRangeException(nameof(ptr), $"0x{ptr:x} is not inside an allocated heap object");
        return false;
    }

    /// <summary>gcMarkTinyAllocs: mark every P's current tiny block (see the Reference). World stopped.</summary>
    private void MarkTinyAllocs()
    {
        foreach (P p in AllP)
        {
            nint tiny = p.MCache->Tiny;
            if (tiny == 0)
                continue;
            MSpan* s = SpanOf(tiny);
            if (s == null || s->LoadState() != SpanState.InUse)
                continue;
            int i = s->ObjIndex(tiny);
            if (s->IsAllocated(i) && s->SetMarked(i))
                Interlocked.Add(ref Stats.BytesMarked, s->ElemSize);
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
            if (!Marking)
                throw new InvalidOperationException("FinishMark: not in the mark phase");
            MarkTinyAllocs();
            // The one step that can fail (out of memory), so it goes first: a refusal leaves the
            // heap in the mark phase, and FinishMark can be called again.
            GcBits.NextEpoch(Interlocked.Read(ref _sweepBitmapBytes));
            Volatile.Write(ref _marking, 0);
            long marked = Interlocked.Read(ref Stats.BytesMarked);
            Interlocked.Exchange(ref Stats.HeapMarked, marked);
            Interlocked.Exchange(ref Stats.HeapLive.Value, marked);
            Volatile.Write(ref _sweepGen, _sweepGen + 2);
            if (!Seeded.PacedBeforePagesSweptReset())
                Interlocked.Exchange(ref Stats.PagesSwept.Value, 0);
            Volatile.Write(ref _sweepClassCursor, 0);
            _activeSweep.Reset((uint)AllP.Length);
            Interlocked.Increment(ref Stats.NumGC);
            PaceSweeper();
            Seeded.ResetPagesSweptAfterPacing(this);
            if (Tracing)
                Trace(HeapTraceKind.FinishMark, null, _sweepGen - 2, _sweepGen);
        }
        _bgSweeper.Kick();
        HookFaults.ThrowPending();
    }
}
