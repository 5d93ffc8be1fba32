// SweepTraceContractTests: mspan.sweep's SweepDone event says how many objects died and where a
// surviving span went (HeapTraceEvent.Detail): a partly freed small span to partialSwept, a small
// span still full to fullSwept, a large span whose object lived to fullSwept. Run against the
// Reference and the Optimized, whose events must say the same (the interleaving swim lanes and
// `alloc reproduce` print these details).
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class SweepTraceContractTests
{
    protected abstract IHeap CreateHeap(HeapOptions options);

    [Fact]
    public void Sweep_SweepDoneNamesTheObjectsFreedAndTheSetEachSpanWentTo()
    {
        var events = new List<HeapTraceEvent>();
        using IHeap heap = CreateHeap(new HeapOptions { GcPercent = -1, OnTrace = e => { lock (events) events.Add(e); } });
        IProcessor p = heap.AcquireP();
        nint[] part = [.. Enumerable.Range(0, 300).Select(_ => p.Alloc(16))]; // class 2: 300 of one span's 512 slots
        nint[] full = [.. Enumerable.Range(0, 256).Select(_ => p.Alloc(32))]; // class 3: one span's 256 slots
        nint large = p.Alloc(64 << 10);
        p.Flush();
        p.Release();
        heap.StartMark();
        foreach (nint a in part.Where((_, i) => i % 2 == 1).Concat(full).Append(large)) // half of part dies
            Assert.True(heap.Mark(a));
        heap.FinishMark();
        events.Clear();

        heap.FinishSweep();
        // Each span's first object lies at its base: the heap is fresh, so every span here is too.
        string? Done(nint spanBase) =>
            Assert.Single(events, e => e.Kind == HeapTraceKind.SweepDone && e.SpanOffset == spanBase - heap.ArenaBase).Detail;
        Assert.Equal("150 of 512 objects freed, pushed to partialSwept", Done(part[0]));
        Assert.Equal("0 of 256 objects freed, pushed to fullSwept", Done(full[0]));
        Assert.Equal("0 of 1 objects freed, pushed to fullSwept", Done(large));
        heap.Verify();
    }
}

public sealed class ReferenceSweepTraceContractTests : SweepTraceContractTests
{
    protected override IHeap CreateHeap(HeapOptions options) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedSweepTraceContractTests : SweepTraceContractTests
{
    protected override IHeap CreateHeap(HeapOptions options) => new GoAlloc.Optimized.MHeap(options);
}
