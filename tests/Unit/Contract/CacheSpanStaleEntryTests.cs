// mcentral.cacheSpan and the stale entries of the unswept sets (Go 1.16 mcentral.go). A span swept by
// someone else (here FindObject's on-demand sweep, spec/SPEC.md 4.12) stays in the unswept set it was
// in: the swept copy goes where it belongs, or the span is freed, and the old entry is skipped when
// popped, by its state and sweepgen (Go: `s.sweepgen == sg-2 && cas(sg-2, sg-1)`). Skipping it still
// spends one try of the sweep budget (spanBudget = 100, `for ; spanBudget >= 0; spanBudget--`: 101
// tries, shared by the partial-unswept loop and the full-unswept loop that follows it). Both
// allocators, and the lock-step pair, must agree.
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class CacheSpanStaleEntryTests
{
    private const int ObjectSize = 1024; // one-page spans of 8 objects
    private const int PerSpan = 8;

    private static IHeap Create(string impl) => impl switch
    {
        "reference" => new GoAlloc.Reference.MHeap(),
        "optimized" => new GoAlloc.Optimized.MHeap(),
        _ => new LockstepHeap(o => new GoAlloc.Reference.MHeap(o), o => new GoAlloc.Optimized.MHeap(o), null, statsEvery: 1),
    };

    // With 100 freed spans' entries in the partial-unswept set the budget keeps its last try for the
    // full-unswept span, whose sweep frees room and is reused; with 101 it is spent and the heap grows.
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


    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    [InlineData("lockstep")]
    public void CacheSpan_SkipsTheStaleEntryOfAFreedFullSpan(string impl)
    {
        using IHeap heap = Create(impl);
        IProcessor p = heap.AcquireP();
        nint[] full = Enumerable.Range(0, PerSpan).Select(_ => p.Alloc(ObjectSize)).ToArray();
        p.Release();
        heap.StartMark();
        foreach (nint a in full)
            Assert.True(heap.Mark(a));
        heap.FinishMark();
        heap.FinishSweep();
        // Cycle 2: nothing survives; FindObject frees the full span while its entry is in the
        // full-unswept set.
        heap.StartMark();
        heap.FinishMark();
        Assert.False(heap.FindObject(full[0], out _));

        p = heap.AcquireP();
        nint got = p.Alloc(ObjectSize);
        p.Release();
        Assert.Equal(1, heap.ReadStats().HeapObjects);
        heap.FinishSweep();
        Assert.Equal(1, heap.ReadStats().HeapObjects);
        Assert.True(heap.FindObject(got, out ObjectInfo info) && info.Allocated);
        heap.Verify();
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    [InlineData("lockstep")]
    public void CacheSpan_DoesNotSweepAgainASpanFindObjectSweptInUse(string impl)
    {
        using IHeap heap = Create(impl);
        IProcessor p = heap.AcquireP();
        nint[] span = Enumerable.Range(0, PerSpan).Select(_ => p.Alloc(ObjectSize)).ToArray();
        p.Release();
        // Two cycles keep the first half: the span is partial and its entry sits in the
        // partial-unswept set when FindObject sweeps it (in use: it goes to the partial-swept set).
        for (int cycle = 0; cycle < 2; cycle++)
        {
            heap.StartMark();
            for (int i = 0; i < PerSpan / 2; i++)
                Assert.True(heap.Mark(span[i]));
            heap.FinishMark();
            if (cycle == 0)
                heap.FinishSweep();
        }
        Assert.True(heap.FindObject(span[0], out ObjectInfo live) && live.Allocated);

        // The swept copy refills the cache (4 free slots); the next refill finds the old entry,
        // stale, and must grow instead of sweeping the span again (which would free its live objects).
        p = heap.AcquireP();
        var fresh = new List<nint>();
        for (int i = 0; i < PerSpan / 2 + 1; i++)
            fresh.Add(p.Alloc(ObjectSize));
        p.Release();
        Assert.All(fresh[..(PerSpan / 2)], a => Assert.Contains(a, span[(PerSpan / 2)..]));
        Assert.DoesNotContain(fresh[^1], span);
        Assert.Equal(PerSpan + 1, heap.ReadStats().HeapObjects);
        foreach (nint a in span[..(PerSpan / 2)].Concat(fresh))
            Assert.True(heap.FindObject(a, out ObjectInfo info) && info.Allocated, $"{a:x} is not allocated");
        heap.FinishSweep();
        heap.Verify();
    }
}
