// DisposeGuard: lets the operations that need no P (Mark, FindObject, SweepOne, FinishSweep,
// Scavenge, ReadStats, SetGcPercent) race Dispose safely. An operation enters (one interlocked
// increment on a per-thread stripe) and leaves; Dispose closes the guard, then waits until every
// operation that entered before has left, and only then unmaps. An operation that enters after
// throws ObjectDisposedException, so nothing reads unmapped memory (spec/SPEC.md 4.15).
// Operations that hold a P are covered by Dispose's refusal while another thread holds a P.
// No Go counterpart: a Go heap lives as long as its process.
// Protocol (Dekker with full fences): Enter increments then reads _closed; Close writes _closed
// then reads the stripes; both sides use Interlocked, so one of them sees the other.
using System.Runtime.InteropServices;

namespace GoAlloc;

internal sealed class DisposeGuard
{
    private const int Stripes = 16; // a power of two; threads spread by managed id

    /// <summary>One cache line per stripe, so threads on different stripes do not share a line.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    private struct Stripe
    {
        [FieldOffset(0)] public int Count;
    }

    private readonly Stripe[] _inside = new Stripe[Stripes]; // operations in flight; Interlocked only
    private int _closed;                                      // 0 open, 1 closed; Interlocked / Volatile

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Enters an operation, or throws ObjectDisposedException once the guard is closed; the scope's Dispose leaves it.</summary>
    public Scope Enter(string objectName)
    {
        ref int count = ref _inside[Environment.CurrentManagedThreadId & (Stripes - 1)].Count;
        // Full fence: the increment is visible before _closed is read (pairs with Close's exchange).
        Interlocked.Increment(ref count);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref count);
            throw new ObjectDisposedException(objectName);
        }
        return new Scope(this);
    }

    /// <summary>Leaves the operation entered on this thread.</summary>
    private void Exit() => Interlocked.Decrement(ref _inside[Environment.CurrentManagedThreadId & (Stripes - 1)].Count);

    /// <summary>One operation inside the guard (`using var scope = guard.Enter(...)`); no allocation.</summary>
    public readonly ref struct Scope
    {
        private readonly DisposeGuard _guard;

        internal Scope(DisposeGuard guard) => _guard = guard;

        public void Dispose() => _guard.Exit();
    }

    /// <summary>Closes the guard: false if it was already closed.</summary>
    public bool Close() => Interlocked.Exchange(ref _closed, 1) == 0;

    /// <summary>Waits until no operation is inside (call after Close; a hook must not call Dispose).</summary>
    public void WaitUntilEmpty()
    {
        for (int i = 0; i < Stripes; i++)
        {
            while (Volatile.Read(ref _inside[i].Count) != 0)
                Thread.Yield();
        }
    }
}
