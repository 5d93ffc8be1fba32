// ActiveSweep: the sweep-done word (Go 1.18's activeSweep, runtime/mgcsweep.go), padded on its own
// cache line: top bit = every unswept set was found empty (drained), low bits = registered
// sweepers at work, counting each P whose mcache still holds the previous cycle's spans. Sweep is
// done when the word is exactly the drained bit (INV-SWEEP-4). Fixed protocol vs Go 1.16
// (golang/go#46500, #45315): every path that sweeps registers before taking a span.
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct ActiveSweep
{
    private const uint DrainedMask = 1u << 31;

    [FieldOffset(64)]
    private uint _state;

    /// <summary>begin: registers a sweeper unless drained.</summary>
    public bool Begin()
    {
        while (true)
        {
            uint state = Volatile.Read(ref _state);
            if ((state & DrainedMask) != 0)
                return false;
            // Reserves a sweeper slot; fails (and retries) if another sweeper or the drain won.
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
                return true;
        }
    }

    /// <summary>end: deregisters one sweeper (or one flushed P).</summary>
    public void End()
    {
        while (true)
        {
            uint state = Volatile.Read(ref _state);
            if ((state & ~DrainedMask) == 0)
                throw new HeapInvariantException("INV-SWEEP-4", "activeSweep: mismatched Begin/End");
            // Publishes that this sweeper's spans are swept and placed.
            if (Interlocked.CompareExchange(ref _state, state - 1, state) == state)
                return;
        }
    }

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

    public readonly bool IsDrained => (Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.AsRef(in _state)) & DrainedMask) != 0;
    public readonly uint Sweepers => Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.AsRef(in _state)) & ~DrainedMask;
    public readonly bool IsDone
    {
        get
        {
            uint state = Volatile.Read(ref System.Runtime.CompilerServices.Unsafe.AsRef(in _state));
            Seeded.Go46500SweepDoneWhileSweeping(ref state);
            return state == DrainedMask;
        }
    }

    /// <summary>reset: a new cycle with pendingPs unflushed mcaches. World stopped.</summary>
    public void Reset(uint pendingPs) => Volatile.Write(ref _state, pendingPs);
}
