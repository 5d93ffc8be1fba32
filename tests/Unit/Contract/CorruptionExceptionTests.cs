// Corruption and contract refusals are told apart by their exception type: a caller's misuse
// (an Alloc on a P it does not hold, StartMark with a P held, a bad size) throws
// InvalidOperationException / ArgumentOutOfRangeException / ObjectDisposedException, and internal
// corruption found on the way (a double free in the page allocator, an unbalanced sweeper count, a
// non-empty span set reset, a bad flushGen) must throw HeapInvariantException naming its INV id, so
// that the property interpreter and the lock-step heap can never take corruption for an expected
// refusal.
using GoAlloc.Tests.Optimized.SpanSetTests;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;

namespace GoAlloc.Tests.Contract;

public sealed class CorruptionExceptionTests
{
    public static readonly TheoryData<string> Implementations = ["reference", "optimized"];

    private static IHeap Make(string impl, HeapOptions? o = null) =>
        impl == "reference" ? new GoAlloc.Reference.MHeap(o ?? new HeapOptions()) : new GoAlloc.Optimized.MHeap(o ?? new HeapOptions());

    /// <summary>Exactly type T: a refusal must not be (or become) a HeapInvariantException or any other subtype.</summary>
    private static void Refuses<T>(Action call) where T : Exception => Assert.IsType<T>(Record.Exception(call));

    private static void Corrupt(string id, Action call)
    {
        var e = Assert.Throws<HeapInvariantException>(call);
        Assert.Equal(id, e.InvariantId);
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void ContractRefusals_ThrowTheirContractType_NotHeapInvariantException(string impl)
    {
        IHeap heap = Make(impl, new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        Refuses<InvalidOperationException>(() => heap.AcquireP(0));          // held already
        Refuses<ArgumentOutOfRangeException>(() => heap.AcquireP(1));        // no such P
        Refuses<ArgumentOutOfRangeException>(() => p.Alloc(-1));
        Refuses<InvalidOperationException>(heap.StartMark);                  // a P is held
        Refuses<InvalidOperationException>(() => heap.Mark(0x1000));         // not marking
        Refuses<InvalidOperationException>(heap.FinishMark);
        Refuses<ArgumentOutOfRangeException>(() => heap.Scavenge(-1));
        p.Release();
        Refuses<InvalidOperationException>(() => p.Alloc(8));               // released
        Refuses<InvalidOperationException>(p.Release);
        heap.Dispose();
        Refuses<ObjectDisposedException>(() => heap.AcquireP());
    }

    [Fact]
    public void ReferencePageAlloc_FreeOfAFreePage_IsCorruption_INV_PAGE_1()
    {
        var pa = new GoAlloc.Reference.PageAlloc();
        pa.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes);
        Corrupt("INV-PAGE-1", () => pa.Free(PageBase(BaseChunkIdx, 5), 1));
    }

    [Fact]
    public void OptimizedPageAlloc_FreeOfAFreePage_IsCorruption_INV_PAGE_1()
    {
        using var pa = new GoAlloc.Optimized.PageAlloc();
        pa.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes);
        Corrupt("INV-PAGE-1", () => pa.Free(PageBase(BaseChunkIdx, 5), 1));
    }

    [Fact]
    public void PageAllocs_GrowingAChunkTwice_IsCorruption_INV_PAGE_1()
    {
        var r = new GoAlloc.Reference.PageAlloc();
        using var o = new GoAlloc.Optimized.PageAlloc();
        r.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes);
        o.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes);
        Corrupt("INV-PAGE-1", () => r.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes));
        Corrupt("INV-PAGE-1", () => o.Grow(PageBase(BaseChunkIdx, 0), MallocConstants.PallocChunkBytes));
    }

    [Fact]
    public void ActiveSweep_EndWithoutBegin_IsCorruption_INV_SWEEP_4()
    {
        var o = new GoAlloc.Optimized.ActiveSweep(); // the Reference has no sweep-state word
        Corrupt("INV-SWEEP-4", () => o.End());
    }

    [Fact]
    public void SpanSet_ResetOfANonEmptySet_IsCorruption_INV_SPANSET_1()
    {
        using var sp = new SetWithPool();
        sp.Set.Push(FakeSpan.Of(1));
        Corrupt("INV-SPANSET-1", sp.Set.Reset);
    }

    [Fact]
    public void HeadTailIndex_TailOverflow_IsCorruption_INV_SPANSET_1()
    {
        var h = new GoAlloc.Optimized.HeadTailIndex(5, uint.MaxValue);
        Corrupt("INV-SPANSET-1", () => h.IncTail());
    }

    /// <summary>Through the heap: a P whose flushGen is neither sg nor sg-2 is corruption, though AcquireP also refuses a held P with InvalidOperationException.</summary>
    [Fact]
    public void ReferenceHeap_BadFlushGenAtAcquireP_IsCorruption_INV_SWEEP_4()
    {
        using var heap = new GoAlloc.Reference.MHeap(new HeapOptions { Procs = 1 });
        heap.AcquireP(0).Release();
        heap.AllP[0].MCache.FlushGen = heap.SweepGen - 4;
        Corrupt("INV-SWEEP-4", () => heap.AcquireP(0));
    }
}
