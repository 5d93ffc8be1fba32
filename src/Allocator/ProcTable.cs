// ProcTable: the heap's Ps and who holds them (mirrors allp and acquirep/releasep in
// runtime/proc.go, and stopTheWorld's wait for every P), one fact for both heaps. A P is taken by
// one thread and given back by it; a P whose thread exited while holding it is reclaimed (idle
// again, with its mcache) the next time anyone looks at it. The stop-the-world points and Dispose
// refuse to run while another thread holds a P. Not thread-safe: the caller holds the heap's
// P lock (the Reference's one heap lock, the Optimized's _pLock); plain fields, no atomics.
// Differs from Go: no scheduler takes Ps away; holders are threads, and a stop-the-world point
// throws instead of waiting.
namespace GoAlloc;

/// <summary>allp with its holders: acquire, release, orphan reclaim and the stop-the-world checks.</summary>
internal sealed class ProcTable<TP>
    where TP : PBase
{
    private readonly TP[] _all;
    /// <summary>The thread holding each P (null when idle): a dead holder's P is reclaimed.</summary>
    private readonly Thread?[] _holders;
    private readonly Action<TP> _onReclaimed;

    /// <summary>A table of all (P i at index i); onReclaimed runs (the caller's lock held) for each P taken back from an exited thread.</summary>
    public ProcTable(TP[] all, Action<TP> onReclaimed)
    {
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i].Id != i)
                throw new ArgumentException($"P{all[i].Id} stands at index {i}", nameof(all));
        }
        _all = all;
        _holders = new Thread?[all.Length];
        _onReclaimed = onReclaimed;
    }

    /// <summary>The P with id (ArgumentOutOfRangeException unless 0 &lt;= id &lt; the number of Ps).</summary>
    public TP this[int id] => (uint)id < (uint)_all.Length
        ? _all[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"P ids are 0..{_all.Length - 1}");

    /// <summary>The first idle P, reclaiming orphans on the way; InvalidOperationException when every P is held.</summary>
    public TP FindIdle()
    {
        foreach (TP p in _all)
        {
            if (IdleOrOrphaned(p))
                return p;
        }
        throw new InvalidOperationException($"all {_all.Length} Ps are held");
    }

    /// <summary>Throws InvalidOperationException unless p is idle (an orphaned p is reclaimed first).</summary>
    public void RequireIdle(TP p)
    {
        if (!IdleOrOrphaned(p))
            throw new InvalidOperationException($"P{p.Id} is held by thread {p.Owner}");
    }

    /// <summary>acquirep: gives idle p to the calling thread.</summary>
    public void Take(TP p)
    {
        p.Owner = Environment.CurrentManagedThreadId;
        _holders[p.Id] = Thread.CurrentThread;
    }

    /// <summary>releasep: p is idle again (the caller checked that it holds p).</summary>
    public void Release(TP p)
    {
        p.Owner = 0;
        _holders[p.Id] = null;
    }

    /// <summary>
    /// Whether p is idle, reclaiming it first if the thread holding it has exited (it can never
    /// release it): the P goes back idle with its mcache, as if that thread had called Release.
    /// </summary>
    public bool IdleOrOrphaned(TP p)
    {
        if (p.Owner == 0)
            return true;
        Thread? holder = _holders[p.Id];
        if (holder == null || holder.IsAlive)
            return false;
        Release(p);
        _onReclaimed(p);
        return true;
    }

    /// <summary>Stop-the-world check: InvalidOperationException while any P is held by anyone.</summary>
    public void RequireWorldStopped(string op)
    {
        foreach (TP p in _all)
        {
            if (!IdleOrOrphaned(p))
                throw new InvalidOperationException($"{op} is a stop-the-world point: P{p.Id} is held by thread {p.Owner}; release every P first");
        }
    }

    /// <summary>Dispose's check: InvalidOperationException while a live thread other than the caller holds a P.</summary>
    public void RequireNoneHeldByOthers(string op)
    {
        int me = Environment.CurrentManagedThreadId;
        foreach (TP p in _all)
        {
            if (p.Owner != me && !IdleOrOrphaned(p))
                throw new InvalidOperationException($"{op}: P{p.Id} is still held by thread {p.Owner}");
        }
    }
}
