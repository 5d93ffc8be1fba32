// BackgroundSweeper: Go's bgsweep goroutine as a dedicated thread (mirrors runtime/mgcsweep.go),
// one shell for both heaps: start, kick, park, stop and restart. Each round sweeps one span at a
// time through IBackgroundSweepHeap until nothing is left, flushes idle Ps still holding the
// previous cycle's spans (Go's forEachP(prepareForSweep)), then parks until FinishMark kicks it
// or it is stopped. The sweep step and its locking stay in each heap. Only Monitor, no atomics:
// the Reference may use it.
// Differs from Go: a background Thread parked on Monitor.Wait of its own gate (never taken while
// the heap's lock is held) instead of a parked goroutine; it holds the heap weakly while parked,
// so an abandoned heap can still be finalized.
using System.Runtime.CompilerServices;

namespace GoAlloc;

/// <summary>bgsweep: the background sweeper's thread, sweeping its heap after each FinishMark.</summary>
internal sealed class BackgroundSweeper(IBackgroundSweepHeap heap)
{
    // Weak: a parked sweeper must not keep a heap nobody references alive (its finalizer frees the
    // mappings and stops this thread); a sweep round holds it strongly while it works.
    private readonly WeakReference<IBackgroundSweepHeap> _heap = new(heap);
    private readonly object _gate = new();
    private Thread? _thread; // under _gate
    private bool _stop;      // under _gate
    private bool _work;      // under _gate: a cycle began since the sweeper last parked

    /// <summary>
    /// Starts the thread (InvalidOperationException if it runs already). With recordWork (always
    /// but in the seeded build's SweeperRestartForgetsWork) a restart mid-cycle finishes that cycle's sweep.
    /// </summary>
    public void Start(bool recordWork = true)
    {
        lock (_gate)
        {
            if (_thread != null)
                throw new InvalidOperationException("the background sweeper is already running");
            _stop = false;
            if (recordWork)
                _work = true;
            _thread = new Thread(Run);
            _thread.Start();
        }
    }

    /// <summary>Whether the sweeper runs on a background thread (false when it is not running).</summary>
    public bool OnBackgroundThread
    {
        get
        {
            lock (_gate)
                return _thread?.IsBackground ?? false;
        }
    }

    /// <summary>Wakes the sweeper: a new sweep cycle began.</summary>
    public void Kick()
    {
        lock (_gate)
        {
            _work = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Stops the thread and waits until it has exited (its current span finishes first); nothing if it is not running.</summary>
    public void Stop()
    {
        Thread? t;
        lock (_gate)
        {
            t = _thread;
            if (t == null)
                return;
            _stop = true;
            Monitor.PulseAll(_gate);
        }
        t.Join();
        lock (_gate)
            _thread = null;
    }

    /// <summary>From the heap's finalizer: ask the parked thread to exit, without waiting for it.</summary>
    public void RequestStop()
    {
        lock (_gate)
        {
            _stop = true;
            Monitor.PulseAll(_gate);
        }
    }

    private bool StopRequested
    {
        get
        {
            lock (_gate)
                return _stop;
        }
    }

    private void Run()
    {
        // A background thread: a program that returns from Main without Dispose still exits.
        // (Set here, not before Start: Coyote's controlled threads reject a setter from the creator.)
        Thread.CurrentThread.IsBackground = true;
        while (true)
        {
            lock (_gate)
            {
                while (!_work && !_stop)
                    Monitor.Wait(_gate);
                if (_stop)
                    return;
                _work = false;
            }
            if (!SweepRound())
                return;
        }
    }

    /// <summary>One kick's work: sweep until nothing is left, then flush idle stale Ps. False once the heap is gone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // the strong reference must not outlive the round
    private bool SweepRound()
    {
        if (!_heap.TryGetTarget(out IBackgroundSweepHeap? heap))
            return false;
        while (!StopRequested && heap.SweepOneInBackground() != -1)
            Thread.Yield();
        if (!StopRequested)
            heap.FlushIdleStalePsInBackground();
        // A hook that threw on this thread: the heap rethrows it to its next FinishSweep / StartMark.
        if (HookFaults.TakePending() is { } fault)
            heap.DeferBackgroundHookFault(fault);
        return true;
    }
}
