// BackgroundSweeper: Go's bgsweep (runtime/mgcsweep.go) on a dedicated thread: sweep spans until
// none is left, flush idle stale Ps (Go's forEachP(prepareForSweep)), park until the next
// FinishMark or Stop. C# difference: a Thread parked on Monitor.Wait, not a goroutine.
namespace GoAlloc.Optimized;

internal sealed class BackgroundSweeper(MHeap heap)
{
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
            _work = true;
            // A background thread: a program that returns from Main without Dispose still exits.
            _thread = new Thread(Loop) { IsBackground = true, Name = "GoAlloc bgsweep" };
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
            while (!Stopping() && heap.SweepOneCore(-1) != -1)
                Thread.Yield();
            if (!Stopping())
                heap.FlushIdleStalePs();
        }
    }
}
