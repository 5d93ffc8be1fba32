// MHeap trace emission for the Optimized heap (HeapOptions.OnTrace; mirrors the Reference's
// MHeap.Trace.cs, which explains the rules): emit sites test Tracing first, so with no hook
// nothing is built or allocated; emission reads span and heap fields with plain loads (no extra
// Coyote scheduling point while tracing). A span record is read before freeSpan recycles it.
// The P an event names is the calling thread's acting P (ActingFor): the Optimized has no heap
// lock to hang it on, so it is thread-local, set by the P's slow paths (refill, large allocation,
// flush, acquire); no P id is threaded through the sweep signatures for tracing.
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    private readonly Action<HeapTraceEvent>? _onTrace;

    /// <summary>The P the calling thread works for, plus one (0: none, so a new thread starts at none). Thread-local.</summary>
    [ThreadStatic]
    private static int t_actingPPlusOne;

    /// <summary>A trace hook is installed (HeapOptions.OnTrace); test before building an event.</summary>
    internal bool Tracing => _onTrace != null;

    /// <summary>Until the scope ends, the calling thread works for P pid (-1: none), the P its events name.</summary>
    internal static ActingScope ActingFor(int pid)
    {
        var scope = new ActingScope(t_actingPPlusOne);
        t_actingPPlusOne = pid + 1;
        return scope;
    }

    /// <summary>Restores the P the thread worked for before (ActingFor).</summary>
    internal readonly ref struct ActingScope
    {
        private readonly int _previous;

        internal ActingScope(int previous) => _previous = previous;

        public void Dispose() => t_actingPPlusOne = _previous;
    }

    /// <summary>Emits one event for the calling thread's acting P. Call only when Tracing; s may be null (no span).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Trace(HeapTraceKind kind, MSpan* s, uint before = 0, uint after = 0, string? detail = null)
    {
        long offset = s == null ? 0 : s->StartAddr - _arenaBase;
        // A throwing hook is deferred to the operation's rethrow point (HookFaults).
        HookFaults.CallOnTrace(_onTrace!, new HeapTraceEvent(kind, t_actingPPlusOne - 1, Environment.CurrentManagedThreadId, offset,
            s == null ? -1 : s->SpanClass, before, after, _sweepGen, detail));
    }

    /// <summary>SweepDone for a span that stays in use (where: the set it goes to, or who keeps it).</summary>
    private void TraceSweepDone(MSpan* s, uint sg, int nfreed, string where) =>
        Trace(HeapTraceKind.SweepDone, s, sg - 1, s->SweepGen, $"{nfreed} of {s->NElems} objects freed, {where}");

    /// <summary>SweepDone and FreeSpan for a span whose every object died (emitted before freeSpan recycles the record).</summary>
    private void TraceSweepFreed(MSpan* s, uint sg, int nfreed)
    {
        Trace(HeapTraceKind.SweepDone, s, sg - 1, s->SweepGen, $"{nfreed} of {s->NElems} objects freed, span empty");
        Trace(HeapTraceKind.FreeSpan, s, s->SweepGen, s->SweepGen, $"{s->NPages} pages back to the heap");
    }
}
