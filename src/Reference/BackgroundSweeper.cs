// BackgroundSweeper: Go's bgsweep goroutine as a dedicated thread (runtime/mgcsweep.go). It sweeps
// one span at a time until nothing is left, taking the heap lock for each span, flushes idle Ps
// still holding the previous cycle's spans (Go's forEachP(prepareForSweep)), then parks until
// FinishMark kicks it or it is stopped.
// Differs from Go: a background Thread parked on Monitor.Wait of its own gate (never taken while
// waiting for the heap lock) instead of a parked goroutine; it holds the heap weakly while parked,
// so an abandoned heap can still be finalized.
using System.Runtime.CompilerServices;

namespace GoAlloc.Reference;

internal sealed class BackgroundSweeper(MHeap heap)
{
    // Weak: a parked sweeper must not keep a heap nobody references alive (its finalizer frees the
    // mappings and stops this thread); a sweep round holds it strongly while it works.
    private readonly WeakReference<MHeap> _heap = new(heap);
    private readonly object _gate = new();
    private Thread? _thread; // under _gate
    private bool _stop;      // under _gate
    private bool _kick;      // under _gate

    public bool Running
    {
        get
        {
            lock (_gate)
                return _thread != null;
        }
    }

    public void Start()
    {
        lock (_gate)
        {
            if (_thread != null)
                throw new InvalidOperationException("the background sweeper is already running");
            _stop = false;
            _kick = true; // a restart mid-cycle finishes that cycle's sweep
            _thread = new Thread(Run);
            _thread.Start();
        }
    }

    /// <summary>Whether the sweeper runs on a background thread (false when it is not running).</summary>
    internal bool OnBackgroundThread
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
            _kick = true;
            Monitor.PulseAll(_gate);
        }
    }

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
                while (!_kick && !_stop)
                    Monitor.Wait(_gate);
                if (_stop)
                    return;
                _kick = false;
            }
            if (!SweepRound())
                return;
        }
    }

    /// <summary>One kick's work: sweep until nothing is left, then flush idle stale Ps. False once the heap is gone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // the strong reference must not outlive the round
    private bool SweepRound()
    {
        if (!_heap.TryGetTarget(out MHeap? heap))
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

    /// <summary>From the heap's finalizer: ask the parked thread to exit, without waiting for it.</summary>
    public void RequestStop()
    {
        lock (_gate)
        {
            _stop = true;
            Monitor.PulseAll(_gate);
        }
    }
}
