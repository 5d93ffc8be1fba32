// The rarer heap options through the lock-step heap and the model together (the options the wide
// property generator draws, here in one deterministic run each): a one-arena MemoryLimit with arena
// hints off and no OnFree / OnSample hooks, where an allocation runs out of memory and succeeds
// again once a GC has freed space; 8 Ps with a GOGC other than 100 and StrictMarks.
using GoAlloc.Model;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Model;

public sealed class ModelCheckedLockstepTests
{
    private static LockstepHeap Pair(HeapOptions o, bool hooks) => new(
        x => new ModelCheckedHeap(y => new GoAlloc.Reference.MHeap(y), x, hooks: hooks),
        x => new ModelCheckedHeap(y => new GoAlloc.Optimized.MHeap(y), x, hooks: hooks),
        o, statsEvery: 1, hooks: hooks);

    [Fact]
    public void MemoryLimit_OutOfMemoryThenRecoveryAfterAGc_NoHooksNoHints_AgreesWithTheModel()
    {
        using LockstepHeap heap = Pair(new HeapOptions { MemoryLimit = MallocConstants.HeapArenaBytes, UseArenaHints = false, Procs = 2 }, hooks: false);
        IProcessor p = heap.AcquireP();
        nint keep = p.Alloc(20 << 20);
        p.Alloc(30 << 20, noscan: true);
        Assert.Throws<OutOfMemoryException>(() => p.Alloc(30 << 20));
        p.Release();
        heap.StartMark();
        Assert.True(heap.Mark(keep + 12345));
        heap.FinishMark();
        heap.FinishSweep();
        p = heap.AcquireP();
        nint again = p.Alloc(30 << 20);            // fits now: the unmarked 30 MiB object was freed
        Assert.True(heap.FindObject(again + (20 << 20), out ObjectInfo info) && info.Allocated && info.Base == again);
        p.Release();
        HeapStats s = heap.ReadStats();
        Assert.Equal(1, s.Arenas);
        Assert.Equal((3, 1), (s.LargeAllocs, s.LargeFrees));
        var a = (ModelCheckedHeap)heap.A;
        Assert.Equal(2, a.Model.LiveObjects);
        Assert.Equal(s.HeapAlloc, a.Model.LiveBytes);
        heap.Verify();
    }

    [Fact]
    public void EightPs_GogcTwentyFive_StrictMarks_AgreesWithTheModelOverCycles()
    {
        using LockstepHeap heap = Pair(new HeapOptions { Procs = 8, GcPercent = 25, StrictMarks = true }, hooks: true);
        var live = new List<nint>();
        for (int cycle = 0; cycle < 4; cycle++)
        {
            for (int id = 0; id < 8; id++)
            {
                IProcessor p = heap.AcquireP(id);
                for (int i = 0; i < 200; i++)
                {
                    nint x = p.Alloc(8 + (i * 37 + id) % 3000, noscan: i % 3 == 0);
                    if (i % 4 == 0)
                        live.Add(x);
                }
                p.Release();
            }
            heap.SetGcPercent(cycle % 2 == 0 ? 25 : 200);
            heap.StartMark();
            foreach (nint x in live)
                Assert.True(heap.Mark(x));
            Assert.Throws<ArgumentOutOfRangeException>(() => heap.Mark(unchecked((nint)0x1000)));
            heap.FinishMark();
            for (int i = 0; i < 3; i++)
                heap.SweepOne();
        }
        heap.FinishSweep();
        var a = (ModelCheckedHeap)heap.A;
        Assert.Equal(4, a.Model.Cycles);
        Assert.Equal(heap.ReadStats().HeapObjects, a.Model.LiveObjects);
        Assert.Equal(4, heap.ReadStats().BadMarks);
        heap.Verify();
    }
}
