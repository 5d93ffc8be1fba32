// SpanSet: a FIFO set of spans (mirrors spanSet in runtime/mspanset.go). Push appends at the tail,
// Pop takes from the head. Differs from Go: a plain queue guarded by the heap lock instead of Go's
// lock-free spine of blocks; the order is the same. A set may hold stale entries for spans another
// path already swept or freed (INV-SWEEP-2); poppers check and skip them.
// Not thread-safe: every caller holds the heap lock.
namespace GoAlloc.Reference;

internal sealed class SpanSet
{
    private readonly Queue<MSpan> _queue = new();

    public void Push(MSpan s) => _queue.Enqueue(s);

    /// <summary>Removes and returns the oldest span, or null if the set is empty.</summary>
    public MSpan? Pop() => _queue.TryDequeue(out MSpan? s) ? s : null;

    /// <summary>The entries in order, oldest first (Verify).</summary>
    public MSpan[] Snapshot() => [.. _queue];
}
