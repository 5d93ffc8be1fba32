// The heap model catches real bugs: one workload (small, tiny and large objects, a GC cycle with
// interior and bogus marks, sweeping, FindObject on live, interior, boundary and dead addresses,
// reuse of swept slots, large pages and scavenged pages) runs on each allocator wrapped in a
// ModelCheckedHeap. Honest, it passes; behind a LyingHeap that breaks one identity family (stats,
// sweep set, zeroing, FindObject, Mark) the model check throws ModelViolationException naming
// exactly that identity. Lock-step comparison could not catch these when both heaps share the bug.
using GoAlloc.Model;
using Xunit;

namespace GoAlloc.Tests.Model;

public sealed class ModelCatchesBugsTests
{
    public static readonly TheoryData<string> Implementations = ["reference", "optimized"];

    private static IHeap Make(string impl, HeapOptions o) =>
        impl == "reference" ? new GoAlloc.Reference.MHeap(o) : new GoAlloc.Optimized.MHeap(o);

    /// <summary>Runs the workload; returns how many objects the model held at the end.</summary>
    private static int Workload(ModelCheckedHeap heap)
    {
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        for (int i = 0; i < 20; i++)
            objs.Add(p.Alloc(64));
        nint tiny = p.Alloc(4, noscan: true);
        nint tiny2 = p.Alloc(4, noscan: true);
        Assert.Equal(tiny + 4, tiny2);
        nint large = p.Alloc(100_000);
        nint deadLarge = p.Alloc(50_000, noscan: true);
        p.Alloc(1000, needzero: false); // dirty, unmarked: its slot comes back below
        p.Release();

        heap.StartMark();
        for (int i = 0; i < objs.Count; i += 2)
            Assert.True(heap.Mark(objs[i] + 3));                 // interior pointer
        Assert.True(heap.Mark(large + 99_999));                  // last byte below the limit
        Assert.False(heap.Mark(large + 100_000));                // past a large object's limit
        Assert.False(heap.Mark(unchecked((nint)0x1000)));        // nowhere near the heap
        Assert.False(heap.Mark(objs[^1] + 64 * 40));             // a free slot of a live span
        heap.FinishMark();
        heap.SweepOne();
        heap.FinishSweep();

        Assert.True(heap.FindObject(objs[0] + 63, out ObjectInfo live) && live.Allocated && live.Base == objs[0]);
        Assert.False(heap.FindObject(objs[1], out ObjectInfo dead) && dead.Allocated); // a swept slot of a live span
        Assert.False(heap.FindObject(deadLarge, out _));          // its span was freed
        Assert.False(heap.FindObject(large + 100_000, out _));   // boundary of a large object

        p = heap.AcquireP();
        for (int i = 0; i < 12; i++)
            p.Alloc(64);                                          // reuses swept slots: must read zero
        p.Alloc(1000);                                            // the dirty object's slot
        p.Alloc(50_000);                                          // the freed large object's pages
        p.Release();
        heap.Scavenge(long.MaxValue);
        p = heap.AcquireP();
        p.Alloc(200_000);                                         // scavenged pages
        p.Release();
        heap.Verify();
        return heap.Model.LiveObjects;
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void HonestHeap_PassesTheModelOnTheWorkload(string impl)
    {
        using var heap = new ModelCheckedHeap(o => Make(impl, o));
        int live = Workload(heap);
        Assert.Equal(live, heap.ReadStats().HeapObjects);
        Assert.True(heap.Checks > 40, $"{heap.Checks} checks");
    }

    public static readonly TheoryData<string, HeapLie, string> Lies = BuildLies();

    private static TheoryData<string, HeapLie, string> BuildLies()
    {
        var d = new TheoryData<string, HeapLie, string>();
        foreach (string impl in new[] { "reference", "optimized" })
        {
            d.Add(impl, HeapLie.HeapAllocOffByOneSlot, ModelIdentity.HeapAlloc);
            d.Add(impl, HeapLie.KeepsOneUnmarkedObject, ModelIdentity.SweepKeptDead);
            d.Add(impl, HeapLie.SkipsZeroingAfterACycle, ModelIdentity.Zeroing);
            d.Add(impl, HeapLie.FindObjectReportsFreeSlotsAllocated, ModelIdentity.FindObject);
            d.Add(impl, HeapLie.MarkAcceptsEveryPointer, ModelIdentity.Mark);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Lies))]
    public void LyingHeap_FailsTheModelNamingTheBrokenIdentity(string impl, HeapLie lie, string identity)
    {
        using var heap = new ModelCheckedHeap(o => new LyingHeap(x => Make(impl, x), o, lie));
        var e = Assert.Throws<ModelViolationException>(() => Workload(heap));
        Assert.Equal(identity, e.Identity);
        Assert.StartsWith($"[{identity}]", e.Message);
    }

    /// <summary>The same bug in both heaps of a lock-step pair: they agree, the model does not.</summary>
    [Fact]
    public void LockstepPairSharingAHeapAllocBug_AgreesButFailsTheModel()
    {
        using var heap = new GoAlloc.Replay.LockstepHeap(
            o => new ModelCheckedHeap(x => new LyingHeap(y => new GoAlloc.Reference.MHeap(y), x, HeapLie.HeapAllocOffByOneSlot), o),
            o => new ModelCheckedHeap(x => new LyingHeap(y => new GoAlloc.Optimized.MHeap(y), x, HeapLie.HeapAllocOffByOneSlot), o));
        IProcessor p = heap.AcquireP();
        var e = Assert.Throws<ModelViolationException>(() => p.Alloc(64));
        Assert.Equal(ModelIdentity.HeapAlloc, e.Identity);
    }

    /// <summary>Without the OnFree / OnSample hooks (the production path) the model infers frees at sweep done.</summary>
    [Theory]
    [MemberData(nameof(Implementations))]
    public void HookFreeHeap_PassesTheModelAndIsStillCaughtKeepingAnObject(string impl)
    {
        using (var honest = new ModelCheckedHeap(o => Make(impl, o), hooks: false))
            Workload(honest);
        using var lying = new ModelCheckedHeap(o => new LyingHeap(x => Make(impl, x), o, HeapLie.HeapAllocOffByOneSlot), hooks: false);
        Assert.Equal(ModelIdentity.HeapAlloc, Assert.Throws<ModelViolationException>(() => Workload(lying)).Identity);
    }
}
