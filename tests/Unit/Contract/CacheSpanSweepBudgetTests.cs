// mcentral.cacheSpan's sweep budget (Go 1.16 mcentral.go: spanBudget = 100, `for ; spanBudget >= 0;
// spanBudget--`): 101 tries, shared by the partial-unswept loop and the full-unswept loop that follows
// it, and a stale entry (a span already swept, or freed, by someone else) spends a try too. Here the
// stale entries are spans that FindObject's on-demand sweep freed while they sat in the
// partial-unswept set: with 100 of them the budget still has its last try left for the full-unswept
// span, whose sweep frees room and is reused; with 101 the budget is spent and the heap grows. Both
// allocators, and the lock-step pair, must agree (MallocConstants.CacheSpanSweepBudget).
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class CacheSpanSweepBudgetTests
{
    private const int ObjectSize = 1024; // one-page spans of 8 objects
    private const int PerSpan = 8;

    private static IHeap Create(string impl) => impl switch
    {
        "reference" => new GoAlloc.Reference.MHeap(),
        "optimized" => new GoAlloc.Optimized.MHeap(),
        _ => new LockstepHeap(o => new GoAlloc.Reference.MHeap(o), o => new GoAlloc.Optimized.MHeap(o), null, statsEvery: 1),
    };

    [Theory]
    [InlineData("reference", MallocConstants.CacheSpanSweepBudget, true)]
    [InlineData("reference", MallocConstants.CacheSpanSweepBudget + 1, false)]
    [InlineData("optimized", MallocConstants.CacheSpanSweepBudget, true)]
    [InlineData("optimized", MallocConstants.CacheSpanSweepBudget + 1, false)]
    [InlineData("lockstep", MallocConstants.CacheSpanSweepBudget, true)]
    [InlineData("lockstep", MallocConstants.CacheSpanSweepBudget + 1, false)]
    public void CacheSpan_StaleEntriesSpendTheBudgetTheFullUnsweptLoopShares(string impl, int staleSpans, bool reusesTheFullSpan)
    {
        using IHeap heap = Create(impl);
        IProcessor p = heap.AcquireP();
        // The full span first, then the spans that will go stale: each span is a fresh one-page span.
        nint[] full = Enumerable.Range(0, PerSpan).Select(_ => p.Alloc(ObjectSize)).ToArray();
        nint[] partial = Enumerable.Range(0, staleSpans * PerSpan).Select(_ => p.Alloc(ObjectSize)).ToArray();
        p.Release();

        // Cycle 1: the full span keeps every object; each other span keeps its first object only.
        heap.StartMark();
        foreach (nint a in full)
            Assert.True(heap.Mark(a));
        for (int i = 0; i < partial.Length; i += PerSpan)
            Assert.True(heap.Mark(partial[i]));
        heap.FinishMark();
        heap.FinishSweep();

        // Cycle 2: half of the full span survives; nothing else does. The full span is in the
        // full-unswept set, the others in the partial-unswept set.
        heap.StartMark();
        for (int i = 0; i < PerSpan / 2; i++)
            Assert.True(heap.Mark(full[i]));
        heap.FinishMark();
        // FindObject sweeps each partial span on demand: every object is dead, so the span is freed,
        // and its entry in the partial-unswept set is stale.
        for (int i = 0; i < partial.Length; i += PerSpan)
            Assert.False(heap.FindObject(partial[i], out _));

        p = heap.AcquireP();
        nint got = p.Alloc(ObjectSize);
        p.Release();

        bool inFullSpan = got >= full[0] && got < full[0] + PerSpan * ObjectSize;
        Assert.True(reusesTheFullSpan == inFullSpan,
            $"{staleSpans} stale entries: the allocation at {got:x} is {(inFullSpan ? "" : "not ")}in the full span at {full[0]:x}");
        if (reusesTheFullSpan)
            Assert.Contains(got, full[(PerSpan / 2)..]); // a slot its sweep freed
        heap.FinishSweep();
        heap.Verify();
    }
}
