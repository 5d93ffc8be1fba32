// MHeap trace emission (HeapOptions.OnTrace, see src/Allocator/HeapTraceEvent.cs): the one place
// that turns a protocol step into a HeapTraceEvent. Every emit site tests Tracing first, so with
// no hook nothing is built, allocated or read. Emission reads span and heap fields with PLAIN
// loads on purpose: a Volatile/Interlocked access here would be an extra Coyote scheduling point
// that exists only while tracing, and a recorded schedule would then replay differently with the
// hook installed. The values are exact where the caller owns the span; elsewhere they are a
// racy snapshot, which is all a debug trace needs.
using System.Runtime.CompilerServices;

namespace GoAlloc.Reference;

public sealed partial class MHeap
{
    private readonly Action<HeapTraceEvent>? _onTrace;

    /// <summary>A trace hook is installed (HeapOptions.OnTrace); test before building an event.</summary>
    internal bool Tracing => _onTrace != null;

    /// <summary>Emits one event. Call only when Tracing; s may be null (no span).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal void Trace(HeapTraceKind kind, int pid, MSpan? s, uint before = 0, uint after = 0, string? detail = null)
    {
        long offset = s == null ? 0 : s.StartAddr - _arenaBase;
        // A throwing hook is deferred to the operation's rethrow point (HookFaults).
        HookFaults.CallOnTrace(_onTrace!, new HeapTraceEvent(kind, pid, Environment.CurrentManagedThreadId, offset, s?.SpanClass ?? -1,
            before, after, _sweepGen, detail));
    }

    /// <summary>SweepDone for a span that stays in use (where: the set it goes to, or who keeps it).</summary>
    private void TraceSweepDone(int pid, MSpan s, uint sg, int nfreed, string where) =>
        Trace(HeapTraceKind.SweepDone, pid, s, sg - 1, s.SweepGen, $"{nfreed} of {s.NElems} objects freed, {where}");

    /// <summary>SweepDone and FreeSpan for a span whose every object died (emitted before freeSpan).</summary>
    private void TraceSweepFreed(int pid, MSpan s, uint sg, int nfreed)
    {
        Trace(HeapTraceKind.SweepDone, pid, s, sg - 1, s.SweepGen, $"{nfreed} of {s.NElems} objects freed, span empty");
        Trace(HeapTraceKind.FreeSpan, pid, s, s.SweepGen, s.SweepGen, $"{s.NPages} pages back to the heap");
    }
}
