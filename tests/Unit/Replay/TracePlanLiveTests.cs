// TracePlan's pre-scan on hand-built event lists (no allocator, no parsing): the trace's own live
// objects and bytes after each cycle (TraceLiveObjects / TraceLiveBytes, what the fidelity report
// compares our heap with), the tiny-block rules (a block counts once at 16 bytes, dies whole on its
// tracefree(block, 0x10), and the unpaired cases around it), the cap on kept unpaired events, and
// Trace's per-kind counters. Killers of Replay mutants the full record of 2026-12-07 left alive
// (mutation/README.md, "Replay").
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Replay;

public sealed class TracePlanLiveTests
{
    private static TraceEvent Alloc(ulong addr, long size, bool noscan = false, int p = 0) =>
        new(TraceEventKind.Alloc, addr, size, 0, p, noscan);

    private static TraceEvent Free(ulong addr, long size) => new(TraceEventKind.Free, addr, size, 0);

    private static readonly TraceEvent s_gc = new(TraceEventKind.Gc, 0, 0, 0);

    private static TracePlan Plan(params TraceEvent[] events) => TracePlan.Build(new Trace(events, 0, [], extended: true));

    // A (freed in window 0: dead at cycle 0's sweep, never live after one), B (100 B -> 112-byte
    // slot, freed in window 1), a tiny block of two 8-byte objects (freed whole in window 1), D (a
    // 40,000-byte large object: 5 pages, never freed), C (born in window 0, never freed).
    private static TracePlan Mixed() => Plan(
        Alloc(0x1000, 32),
        Alloc(0x2000, 100),
        Alloc(0x5000, 8, noscan: true),
        Alloc(0x5008, 8, noscan: true),
        Alloc(0x10000, 40_000),
        s_gc,
        Alloc(0x3000, 48),
        Free(0x1000, 32),
        s_gc,
        Free(0x2000, 100),
        Free(0x5000, 16),
        s_gc);

    [Fact]
    public void TracePlan_TraceLive_CountsAnObjectFromTheCycleAfterItsBirthToTheCycleBeforeItsDeath()
    {
        TracePlan plan = Mixed();
        Assert.Equal(3, plan.Cycles);
        // After cycle 0: B, the tiny block (once), D. After cycles 1 and 2: D and C.
        Assert.Equal([3L, 2L, 2L], plan.TraceLiveObjects);
        Assert.Equal([112L + 16 + 40_960, 40_960 + 48, 40_960 + 48], plan.TraceLiveBytes);
    }

    [Fact]
    public void TracePlan_TinyBlock_DiesWholeOnItsBlockFree_PairedOnce_NothingUnpaired()
    {
        TracePlan plan = Mixed();
        Assert.Equal(0, plan.UnpairedEvents);
        Assert.Equal(3, plan.PairedFrees); // A, B and the block
        Assert.Equal([1, 2, 0], plan.TraceFreesInCycle);
        Assert.Equal(1, plan.DeathCycle[2]);
        Assert.Equal(1, plan.DeathCycle[3]);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[4]);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[5]);
    }

    [Fact]
    public void TracePlan_TinyBlockFreedTwice_TheSecondFreeIsOfAnUnknownAddress()
    {
        TracePlan plan = Plan(Alloc(0x5000, 8, noscan: true), s_gc, Free(0x5000, 16), s_gc, Free(0x5000, 16));
        Assert.Equal(1, plan.PairedFrees);
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.FreeOfUnknownAddress]);
    }

    [Fact]
    public void TracePlan_TinyBlockFreedBeforeTheFirstGc_IsUnpaired_AndTheBlockStaysLive()
    {
        TracePlan plan = Plan(Alloc(0x5000, 8, noscan: true), Free(0x5000, 16), s_gc);
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.FreeBeforeFirstGc]);
        Assert.Equal(1, plan.UnpairedBeforeFirstCycle);
        Assert.Equal(0, plan.PairedFrees);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[0]);
        Assert.Equal([1L], plan.TraceLiveObjects);
    }

    [Fact]
    public void TracePlan_TinyBlockWithAnObjectAllocatedThisCycle_ItsFreeIsUnpaired()
    {
        TracePlan plan = Plan(Alloc(0x5000, 8, noscan: true), s_gc, Alloc(0x5008, 4, noscan: true), Free(0x5000, 16), s_gc);
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.FreeOfObjectAllocatedThisCycle]);
        Assert.Equal([1, 0], plan.UnpairedInWindow);
        Assert.Equal(0, plan.PairedFrees);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[0]);
    }

    [Fact]
    public void TracePlan_NonTinyAllocOverALiveTinyBlock_TheBlocksObjectsDieAtTheNextCycle()
    {
        TracePlan plan = Plan(
            Alloc(0x5000, 8, noscan: true), Alloc(0x5008, 8, noscan: true), s_gc,
            Alloc(0x5000, 32), s_gc, s_gc);
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.AllocOverLiveObject]);
        Assert.Equal(1, plan.DeathCycle[0]);
        Assert.Equal(1, plan.DeathCycle[1]);
        Assert.Equal([0, 1, 0], plan.ReplacedDyingInCycle);
        Assert.Equal(1, plan.ExpectedFreesInCycle(1));
        // Cycle 0: the block; cycles 1, 2: the 32-byte object only (the block was dropped).
        Assert.Equal([16L, 32L, 32L], plan.TraceLiveBytes);
    }

    [Fact]
    public void TracePlan_NonTinyAllocOverALiveTinyBlockAfterTheLastGc_TheBlockNeverDies()
    {
        TracePlan plan = Plan(Alloc(0x5000, 8, noscan: true), s_gc, Alloc(0x5000, 32));
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.AllocOverLiveObject]);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[0]);
        Assert.Equal([0], plan.ReplacedDyingInCycle);
        Assert.Equal(1, plan.AllocsAfterLastCycle);
    }

    [Fact]
    public void TracePlan_TinyAllocOverALiveObjectAtItsBlock_TheObjectDiesAtTheNextCycle()
    {
        TracePlan plan = Plan(Alloc(0x5000, 32), s_gc, Alloc(0x5000, 8, noscan: true), s_gc, s_gc);
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.AllocOverLiveObject]);
        Assert.Equal(1, plan.DeathCycle[0]);
        Assert.Equal([0, 1, 0], plan.ReplacedDyingInCycle);
        // Cycle 0: the 32-byte object; then the tiny block alone.
        Assert.Equal([32L, 16L, 16L], plan.TraceLiveBytes);
    }

    [Fact]
    public void TracePlan_TinyAllocOverALiveObjectAfterTheLastGc_NothingDies()
    {
        TracePlan plan = Plan(Alloc(0x5000, 32), s_gc, Alloc(0x5000, 8, noscan: true));
        Assert.Equal(1, plan.UnpairedByKind[UnpairedKind.AllocOverLiveObject]);
        Assert.Equal(TracePlan.Never, plan.DeathCycle[0]);
        Assert.Equal([0], plan.ReplacedDyingInCycle);
    }

    [Fact]
    public void TracePlan_UnpairedEvents_AllCountedButOnlyTheFirstTwentyKept()
    {
        var events = new List<TraceEvent> { s_gc };
        for (int i = 0; i < TracePlan.MaxUnpairedKept + 5; i++)
            events.Add(Free(0x9000 + (ulong)i * 16, 16));
        TracePlan plan = Plan([.. events]);
        Assert.Equal(TracePlan.MaxUnpairedKept + 5, plan.UnpairedEvents);
        Assert.Equal(TracePlan.MaxUnpairedKept, plan.FirstUnpaired.Count);
        Assert.Equal(0x9000UL, plan.FirstUnpaired[0].Event.Address);
    }

    [Fact]
    public void Trace_Counters_NoPTinyAndOtherNoscanAllocations()
    {
        var trace = new Trace(
        [
            Alloc(0x1000, 8, noscan: true, p: -1),   // tiny, no P
            Alloc(0x1010, 15, noscan: true, p: 0),   // tiny: 15 < 16
            Alloc(0x1020, 16, noscan: true, p: 1),   // not tiny: 16 is maxTinySize itself
            Alloc(0x1040, 8, noscan: false, p: 0),   // a scan object, not tiny
            s_gc,
            Free(0x1040, 8),
        ], 0, [], extended: true);
        Assert.Equal(4, trace.Allocs);
        Assert.Equal(1, trace.NoPAllocs);
        Assert.Equal(2, trace.TinyAllocs);
        Assert.Equal(1, trace.NoscanAllocs);
        Assert.Equal(1, trace.MaxP);
        Assert.Equal(1, trace.Frees);
        Assert.Equal(1, trace.Gcs);
        Assert.False(trace.Events[2].IsTiny);
        Assert.True(trace.Events[1].IsTiny);
    }

    [Fact]
    public void TraceEvent_ToString_NamesTheLineAndTheGoCall()
    {
        Assert.Equal("line 7: tracealloc(0xc000010000, 0x20)", new TraceEvent(TraceEventKind.Alloc, 0xc000010000, 32, 7).ToString());
        Assert.Equal("line 8: tracefree(0xc000010000, 0x20)", new TraceEvent(TraceEventKind.Free, 0xc000010000, 32, 8).ToString());
        Assert.Equal("line 9: tracegc()", new TraceEvent(TraceEventKind.Gc, 0, 0, 9).ToString());
    }
}
