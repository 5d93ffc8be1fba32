// MHeap trace emission for the Optimized heap (HeapOptions.OnTrace; mirrors the Reference's
// MHeap.Trace.cs, which explains the rules): emit sites test Tracing first, so with no hook
// nothing is built or allocated; emission reads span and heap fields with plain loads (no extra
// Coyote scheduling point while tracing). A span record is read before freeSpan recycles it.
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

public sealed unsafe partial class MHeap
{
    private readonly Action<HeapTraceEvent>? _onTrace;

    /// <summary>A trace hook is installed (HeapOptions.OnTrace); test before building an event.</summary>
    internal bool Tracing => _onTrace != null;

    /// <summary>Emits one event. Call only when Tracing; s may be null (no span).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Trace(HeapTraceKind kind, int pid, MSpan* s, uint before = 0, uint after = 0, string? detail = null)
    {
        long offset = s == null ? 0 : s->StartAddr - _arenaBase;
        // A throwing hook is deferred to the operation's rethrow point (HookFaults).
        HookFaults.CallOnTrace(_onTrace!, new HeapTraceEvent(kind, pid, Environment.CurrentManagedThreadId, offset, s == null ? -1 : s->SpanClass,
            before, after, _sweepGen, detail));
    }

    /// <summary>SweepDone for a span that stays in use (where: the set it goes to, or who keeps it).</summary>
    private void TraceSweepDone(int pid, MSpan* s, uint sg, int nfreed, string where) =>
        Trace(HeapTraceKind.SweepDone, pid, s, sg - 1, s->SweepGen, $"{nfreed} of {s->NElems} objects freed, {where}");

    /// <summary>SweepDone and FreeSpan for a span whose every object died (emitted before freeSpan recycles the record).</summary>
    private void TraceSweepFreed(int pid, MSpan* s, uint sg, int nfreed)
    {
        Trace(HeapTraceKind.SweepDone, pid, s, sg - 1, s->SweepGen, $"{nfreed} of {s->NElems} objects freed, span empty");
        Trace(HeapTraceKind.FreeSpan, pid, s, s->SweepGen, s->SweepGen, $"{s->NPages} pages back to the heap");
    }
}
