// HookFaults: an exception thrown by a debug hook (HeapOptions.OnFree, OnTrace) is held until the
// heap operation that called the hook reaches a consistent point, then rethrown to that operation's
// caller, so a throwing hook never leaves a sweep, a refill or a stop-the-world step half-done
// (spec/SPEC.md 4.15). No Go counterpart: Go's runtime hooks cannot throw.
// The slot is per thread: hooks run on the thread that performs the operation, and the background
// sweeper hands what its thread collected to the heap (TakePending). If the operation fails for a
// reason of its own after a hook threw, the operation's exception wins and the hook's surfaces at
// the next operation on that thread that reaches a rethrow point.
using System.Runtime.ExceptionServices;

namespace GoAlloc;

internal static class HookFaults
{
    /// <summary>The first hook exception of the current operation on this thread (thread-local, so no synchronization).</summary>
    [ThreadStatic]
    private static ExceptionDispatchInfo? t_pending;

    /// <summary>Whether a hook threw on this thread since the last rethrow point.</summary>
    public static bool HasPending => t_pending != null;

    /// <summary>Keeps e (the first one wins; later ones of the same operation are dropped).</summary>
    public static void Defer(Exception e) => t_pending ??= ExceptionDispatchInfo.Capture(e);

    /// <summary>Calls onFree(addr, size), deferring what it throws.</summary>
    public static void CallOnFree(Action<nint, long> onFree, nint addr, long size)
    {
        try
        {
            onFree(addr, size);
        }
        catch (Exception e)
        {
            Defer(e);
        }
    }

    /// <summary>Calls onTrace(ev), deferring what it throws.</summary>
    public static void CallOnTrace(Action<HeapTraceEvent> onTrace, HeapTraceEvent ev)
    {
        try
        {
            onTrace(ev);
        }
        catch (Exception e)
        {
            Defer(e);
        }
    }

    /// <summary>A rethrow point: the operation is consistent here; rethrows the deferred hook exception, if any.</summary>
    public static void ThrowPending()
    {
        ExceptionDispatchInfo? pending = t_pending;
        if (pending != null)
        {
            t_pending = null;
            pending.Throw();
        }
    }

    /// <summary>Removes and returns this thread's deferred exception (the background sweeper's hand-off).</summary>
    public static ExceptionDispatchInfo? TakePending()
    {
        ExceptionDispatchInfo? pending = t_pending;
        t_pending = null;
        return pending;
    }
}
