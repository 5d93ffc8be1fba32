// IBackgroundSweepHeap: what the shared BackgroundSweeper thread calls on its heap (mirrors the
// calls bgsweep makes in runtime/mgcsweep.go: sweepone, and forEachP(prepareForSweep) through
// the P flush). Each heap keeps its own sweep step and locking; the thread shell is shared.
// Differs from Go: an interface, so one thread shell serves both heaps; plus the hand-over of a
// hook exception (Go has no user hooks on the sweeper).
using System.Runtime.ExceptionServices;

namespace GoAlloc;

/// <summary>The heap a BackgroundSweeper sweeps: one span at a time, then the idle Ps' stale mcaches.</summary>
internal interface IBackgroundSweepHeap
{
    /// <summary>sweepone: sweeps the next unswept span; its pages if it was freed, 0 if kept, -1 when none is left (or the heap is disposed).</summary>
    long SweepOneInBackground();

    /// <summary>The end of a round: flushes the mcache of every idle P still holding the previous cycle's spans.</summary>
    void FlushIdleStalePsInBackground();

    /// <summary>Hands over a hook exception thrown on the sweeper's thread; the heap rethrows it to its next FinishSweep, StartMark or StopBackgroundSweeper.</summary>
    void DeferBackgroundHookFault(ExceptionDispatchInfo fault);
}
