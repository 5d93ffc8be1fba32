// The sweep-pacing scenario: PacingWorkload (PacingWorkload.cs) on a heap wrapped in a ModelCheckedHeap,
// whose pacing model (src/Model/PacingModel.cs) checks INV-PACE-1..3 after every refill and large
// allocation. One task: the pacing arithmetic needs no interleaving to go wrong, so its seeded bugs
// (SweepCreditOmitsSpanBytes, PacedBeforePagesSweptReset, HeapDistanceNotClamped,
// StaleReleaseSubtractsHeapLive) are sequential catalog entries; the concurrent side of pacing
// (credit paid while another P re-paces) is sweep-credit-repace's.
using GoAlloc.Model;

namespace GoAlloc.Concurrency;

public static partial class Scenarios
{
    /// <summary>The pacing model over PacingWorkload; the heap is disposed only when it passed (see the file header of Scenarios.cs).</summary>
    public static Task SweepPacingModel(string impl)
    {
        var heap = new ModelCheckedHeap(o => CreateHeap(impl, o), new HeapOptions { Procs = 2, MemProfileRate = 0 });
        PacingWorkload.Run(heap);
        Check(heap.Pacing.PacedChecks > 0, "the pacing line was never in force");
        heap.Dispose();
        return Task.CompletedTask;
    }
}
