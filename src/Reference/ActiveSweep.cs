// ActiveSweep: the sweep-done word (Go 1.18's activeSweep in runtime/mgcsweep.go). The top bit
// says every unswept span set has been found empty ("drained"); the low bits count registered
// sweepers still at work. Sweep is done when the word is exactly the drained bit (INV-SWEEP-4).
// Differs from Go 1.16 (whose sweepone decremented mheap_.sweepers and set sweepdone separately,
// golang/go#46500 / #45315): every path that sweeps registers here first, and each P whose mcache
// still holds the previous cycle's spans counts as one registered sweeper until it flushes
// (as Go 1.18's gcMarkTermination holds a sweepLocker across forEachP(prepareForSweep)).
namespace GoAlloc.Reference;

internal sealed class ActiveSweep
{
    private const uint DrainedMask = 1u << 31;
    private uint _state; // atomic

    /// <summary>begin: registers a sweeper; false once drained (there is nothing left to take).</summary>
    public bool Begin()
    {
        while (true)
        {
            uint state = Volatile.Read(ref _state);
            if ((state & DrainedMask) != 0)
                return false;
            // Reserves a sweeper slot; a concurrent MarkDrained makes the CAS fail and we re-read.
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
                return true;
        }
    }

    /// <summary>end: deregisters a sweeper registered by Begin (or a P counted at FinishMark).</summary>
    public void End()
    {
        while (true)
        {
            uint state = Volatile.Read(ref _state);
            if ((state & ~DrainedMask) == 0)
                throw new HeapInvariantException("INV-SWEEP-4", "activeSweep: mismatched Begin/End");
            // Publishes that this sweeper's work (its swept spans) is complete.
            if (Interlocked.CompareExchange(ref _state, state - 1, state) == state)
                return;
        }
    }

    /// <summary>markDrained: records that the unswept sets are empty; true for the call that set it.</summary>
    public bool MarkDrained()
    {
        while (true)
        {
            uint state = Volatile.Read(ref _state);
            if ((state & DrainedMask) != 0)
                return false;
            if (Interlocked.CompareExchange(ref _state, state | DrainedMask, state) == state)
                return true;
        }
    }

    public bool IsDrained => (Volatile.Read(ref _state) & DrainedMask) != 0;
    public uint Sweepers => Volatile.Read(ref _state) & ~DrainedMask;
    public bool IsDone
    {
        get
        {
#if SEEDED_BUGS
            if (SeededBugs.On(SeededBug.Go46500SweepDoneWhileSweeping))
                return (Volatile.Read(ref _state) & DrainedMask) != 0;
#endif
            return Volatile.Read(ref _state) == DrainedMask;
        }
    }

    /// <summary>reset: a new sweep cycle with <paramref name="pendingPs"/> unflushed mcaches registered. World stopped.</summary>
    public void Reset(uint pendingPs) => Volatile.Write(ref _state, pendingPs);
}
