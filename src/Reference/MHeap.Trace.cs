// MHeap trace emission (HeapOptions.OnTrace, see src/Allocator/HeapTraceEvent.cs): the one place
// that turns a protocol step into a HeapTraceEvent. Every emit site tests Tracing first, so with
// no hook nothing is built. Every event is emitted under the heap lock and names the P the lock
// holder works for (ActingFor), so no P id is threaded through the heap's signatures for tracing.
// No Go counterpart (Go's runtime traces through its own tracer).
using System.Runtime.CompilerServices;

namespace GoAlloc.Reference;

public sealed partial class MHeap
{
    private readonly Action<HeapTraceEvent>? _onTrace;

    /// <summary>The P the heap-lock holder is working for, named by every event (-1: none). Under Lock.</summary>
    private int _actingP = -1;

    /// <summary>A trace hook is installed (HeapOptions.OnTrace); test before building an event.</summary>
    internal bool Tracing => _onTrace != null;

    /// <summary>Until the scope ends, the lock holder works for P pid (its mcache, its allocation). Caller holds Lock.</summary>
    internal ActingScope ActingFor(int pid)
    {
        var scope = new ActingScope(this, _actingP);
        _actingP = pid;
        return scope;
    }

    /// <summary>Restores the P worked for before (ActingFor).</summary>
    internal readonly ref struct ActingScope
    {
        private readonly MHeap _heap;
        private readonly int _previous;

        internal ActingScope(MHeap heap, int previous)
        {
            _heap = heap;
            _previous = previous;
        }

        public void Dispose() => _heap._actingP = _previous;
    }

    /// <summary>Emits one event for the P worked for. Call only when Tracing, under Lock; s may be null (no span).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Trace(HeapTraceKind kind, MSpan? s, uint before = 0, uint after = 0, string? detail = null)
    {
        long offset = s == null ? 0 : s.StartAddr - _arenaBase;
        // A throwing hook is deferred to the operation's rethrow point (HookFaults).
        HookFaults.CallOnTrace(_onTrace!, new HeapTraceEvent(kind, _actingP, Environment.CurrentManagedThreadId, offset, s?.SpanClass ?? -1,
            before, after, _sweepGen, detail));
    }

    /// <summary>SweepDone for a span that stays in use (where: the set it goes to, or who keeps it).</summary>
    private void TraceSweepDone(MSpan s, int nfreed, string where) =>
        Trace(HeapTraceKind.SweepDone, s, _sweepGen - 1, s.SweepGen, $"{nfreed} of {s.NElems} objects freed, {where}");

    /// <summary>SweepDone and FreeSpan for a span whose every object died (emitted before freeSpan).</summary>
    private void TraceSweepFreed(MSpan s, int nfreed)
    {
        Trace(HeapTraceKind.SweepDone, s, _sweepGen - 1, s.SweepGen, $"{nfreed} of {s.NElems} objects freed, span empty");
        Trace(HeapTraceKind.FreeSpan, s, s.SweepGen, s.SweepGen, $"{s.NPages} pages back to the heap");
    }
}
