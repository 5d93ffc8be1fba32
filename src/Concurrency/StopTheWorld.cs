// StopTheWorld: the scenarios' stand-in for Go's stopTheWorld/startTheWorld. StartMark and
// FinishMark refuse to run while any P is held, so a scenario whose tasks allocate while another
// task runs GC cycles brackets each allocation burst with Enter/Exit and each stop-the-world call
// with Stop/Start. Built on a Monitor (lock, Wait, PulseAll), which the Coyote rewrite controls.
// Bursts of different tasks run concurrently with each other; Stop waits until none is in
// progress and holds new ones back until Start. One stopper at a time. In sequential mode every
// task body runs to completion where it is spawned, so nothing here ever waits.
namespace GoAlloc.Concurrency;

public sealed class StopTheWorld
{
    private readonly object _gate = new();
    private int _inBurst;  // tasks between Enter and Exit; under _gate
    private bool _stopped; // a stopper holds the world; under _gate

    /// <summary>Starts an allocation burst (waits while the world is stopped).</summary>
    public void Enter()
    {
        lock (_gate)
        {
            while (_stopped)
                Monitor.Wait(_gate);
            _inBurst++;
        }
    }

    /// <summary>Ends an allocation burst.</summary>
    public void Exit()
    {
        lock (_gate)
        {
            _inBurst--;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until no burst is in progress and holds new ones back until Start.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_stopped)
                throw new InvalidOperationException("StopTheWorld: already stopped (one stopper at a time)");
            _stopped = true;
            while (_inBurst > 0)
                Monitor.Wait(_gate);
        }
    }

    /// <summary>Lets bursts run again.</summary>
    public void Start()
    {
        lock (_gate)
        {
            _stopped = false;
            Monitor.PulseAll(_gate);
        }
    }
}
