// ThreadGate: the Threads workload's start line and finish line as spinning counters and a flag,
// so no thread of the timed region blocks in the kernel and waits to be woken. The threads never
// outnumber the cores (k <= 2 on the 2-core machine), so spinning costs no thread its core.
namespace GoAlloc.Peers;

internal sealed class ThreadGate(int threads)
{
    private int _ready;
    private int _open;
    private int _arrived;

    /// <summary>A helper thread is running and spinning at the start line (before the clock starts).</summary>
    public void SignalReady() => Interlocked.Increment(ref _ready);

    /// <summary>Spins until every helper (all threads but the caller) is at the start line.</summary>
    public void WaitReady()
    {
        while (Volatile.Read(ref _ready) < threads - 1)
            Thread.SpinWait(20);
    }

    /// <summary>Starts the helpers. The release write publishes everything the caller did before it.</summary>
    public void Open() => Volatile.Write(ref _open, 1);

    public void WaitOpen()
    {
        while (Volatile.Read(ref _open) == 0)
            Thread.SpinWait(20);
    }

    /// <summary>This thread has finished its allocations (and, for the natives, its frees).</summary>
    public void Arrive() => Interlocked.Increment(ref _arrived);

    /// <summary>Spins until every thread, the caller included, has arrived.</summary>
    public void WaitArrived()
    {
        while (Volatile.Read(ref _arrived) < threads)
            Thread.SpinWait(20);
    }
}
