// SpanSet: a FIFO set of spans (the Reference's stand-in for Go's lock-free spanSet in
// runtime/mspanset.go): a lock and a queue. Push appends at the tail, Pop takes from the head; the
// Optimized spanSet gives the same order when single-threaded. A set may hold stale entries for
// spans another path already swept or freed (INV-SWEEP-2); poppers check and skip them.
namespace GoAlloc.Reference;

internal sealed class SpanSet
{
    private readonly object _lock = new();
    private readonly Queue<MSpan> _queue = new(); // under _lock

    public void Push(MSpan s)
    {
        lock (_lock)
            _queue.Enqueue(s);
    }

    /// <summary>Removes and returns the oldest span, or null if the set is empty.</summary>
    public MSpan? Pop()
    {
        // An unlocked look first: an empty set is the common case for the sweeper's scan over all
        // 272 sets. A racing push may be missed and the pop report empty - the behaviour Go's
        // spanSet.pop documents too; single-threaded, the read is exact.
        if (_queue.Count == 0)
            return null;
        lock (_lock)
            return _queue.TryDequeue(out MSpan? s) ? s : null;
    }

    /// <summary>The entries in order without taking the lock (Verify: the heap is quiescent).</summary>
    public MSpan[] SnapshotUnsynchronized() => [.. _queue];

    /// <summary>A copy of the entries in order (for Verify; quiescent use only).</summary>
    public MSpan[] Snapshot()
    {
        lock (_lock)
            return [.. _queue];
    }
}
