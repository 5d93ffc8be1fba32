// BackgroundSweeper: Go's bgsweep (runtime/mgcsweep.go) on a dedicated thread: sweep spans until
// none is left, flush idle stale Ps (Go's forEachP(prepareForSweep)), park until the next
// FinishMark or Stop. C# difference: a background Thread parked on Monitor.Wait, not a goroutine;
// it holds the heap weakly while parked, so an abandoned heap can still be finalized.
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

internal sealed class BackgroundSweeper(MHeap heap)
{
    // Weak: a parked sweeper must not keep a heap nobody references alive (its finalizer frees the
    // mappings and stops this thread); a sweep round holds it strongly while it works.
    private readonly WeakReference<MHeap> _heap = new(heap);
    private readonly object _gate = new();
    private Thread? _thread; // under _gate
    private bool _stop;      // under _gate
    private bool _work;      // under _gate: a cycle began since the sweeper last parked

    public void Start()
    {
        lock (_gate)
        {
            if (_thread != null)
                throw new InvalidOperationException("the background sweeper is already running");
            _stop = false;
            if (!Seeded.SweeperRestartForgetsWork())
                _work = true;
            _thread = new Thread(Loop);
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

    public void Kick()
    {
        lock (_gate)
        {
            _work = true;
            Monitor.PulseAll(_gate);
        }
    }

    public void Stop()
    {
        Thread? t;
        lock (_gate)
        {
            t = _thread;
            _stop = true;
            Monitor.PulseAll(_gate);
        }
        t?.Join();
        lock (_gate)
            _thread = null;
    }

    private bool Stopping()
    {
        lock (_gate)
            return _stop;
    }

    private void Loop()
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
        if (!_heap.TryGetTarget(out MHeap? heap))
            return false;
        while (!Stopping() && heap.SweepOneCore() != -1)
            Thread.Yield();
        if (!Stopping())
            heap.FlushIdleStalePs();
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
