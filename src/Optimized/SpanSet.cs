// TEMPORARY stand-in until branch spanset lands: a lock + queue with the lock-free spanSet's surface.
namespace GoAlloc.Optimized;

internal sealed class SpanSetBlockPool : IDisposable
{
    public void Dispose()
    {
    }
}

internal sealed class SpanSet : IDisposable
{
    private readonly object _lock = new();
    private readonly Queue<nint> _q = new();

    public SpanSet(SpanSetBlockPool pool)
    {
        _ = pool;
    }

    public void Push(nint s)
    {
        lock (_lock)
            _q.Enqueue(s);
    }

    public nint Pop()
    {
        lock (_lock)
            return _q.TryDequeue(out nint s) ? s : 0;
    }

    public void Reset()
    {
    }

    public nint[] Snapshot()
    {
        lock (_lock)
            return [.. _q];
    }

    public void Dispose()
    {
    }
}
