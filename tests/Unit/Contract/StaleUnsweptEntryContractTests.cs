// StaleUnsweptEntryContractTests: a span swept on demand (FindObject's ensureSwept) stays in the
// unswept set it was queued on, as a stale entry; sweepone pops it later and must skip it, because
// its sweepgen already says swept: ownership is taken only by the CAS sg-2 -> sg-1 (tryAcquire;
// spec/SPEC.md 2.3, the ownership rule; mgcsweep.go), so a span is swept once per cycle. A second
// sweep would read the fresh, cleared mark bits of the first and free every live object of the
// span. Run against the Reference and the Optimized.
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class StaleUnsweptEntryContractTests
{
    protected abstract IHeap CreateHeap(HeapOptions options);

    [Fact]
    public void TryAcquire_SweepOneSkipsASpanFindObjectSweptOnDemand()
    {
        using IHeap heap = CreateHeap(new HeapOptions { GcPercent = -1 }); // no credit sweeping
        IProcessor p = heap.AcquireP();
        nint[] objs = [.. Enumerable.Range(0, 300).Select(_ => p.Alloc(16))]; // one span of class 2
        p.Flush();
        p.Release();
        heap.StartMark();
        foreach (nint a in objs.Where((_, i) => i % 2 == 1))
            Assert.True(heap.Mark(a));
        heap.FinishMark();

        Assert.True(heap.FindObject(objs[1], out _)); // sweeps the span now: 150 freed, 150 live
        HeapStats afterFind = heap.ReadStats();
        Assert.Equal(150, afterFind.HeapObjects);

        heap.FinishSweep(); // pops the span's stale entry
        HeapStats done = heap.ReadStats();
        Assert.Equal(afterFind.Frees, done.Frees);
        Assert.Equal(150, done.HeapObjects);
        Assert.Equal(afterFind.HeapInuse, done.HeapInuse);
        heap.Verify();

        // The live objects keep their slots: new objects go to the dead ones only.
        IProcessor q = heap.AcquireP();
        var live = objs.Where((_, i) => i % 2 == 1).ToHashSet();
        for (int i = 0; i < 150; i++)
            Assert.DoesNotContain(q.Alloc(16), live);
        q.Release();
        heap.Verify();
    }
}

public sealed class ReferenceStaleUnsweptEntryContractTests : StaleUnsweptEntryContractTests
{
    protected override IHeap CreateHeap(HeapOptions options) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedStaleUnsweptEntryContractTests : StaleUnsweptEntryContractTests
{
    protected override IHeap CreateHeap(HeapOptions options) => new GoAlloc.Optimized.MHeap(options);
}
