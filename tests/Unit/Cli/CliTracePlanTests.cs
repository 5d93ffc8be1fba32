// TracePlan: the pre-scan pairing of tracefree with live trace objects and the GC cycle in which
// each object must die; unpaired events are tolerated and counted, never fatal.
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliTracePlanTests
{
    private static TracePlan Plan(string text) => TracePlan.Build(CliTestSupport.Parse(text));

    [Fact]
    public void Plan_FreeBetweenGcIAndGcIPlus1_DiesInCycleI()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracealloc(0xb0, 0x10)
            tracegc()
            tracegc()
            tracefree(0xb0, 0x10)
            tracegc()
            """);
        Assert.Equal(3, p.Cycles);
        Assert.Equal([TracePlan.Never, 1], p.DeathCycle);
        Assert.Equal([0, 1, 0], p.TraceFreesInCycle);
        Assert.Equal(1, p.PairedFrees);
        Assert.Equal(0, p.UnpairedEvents);
    }

    [Fact]
    public void Plan_FreeOfAnAddressNotLive_IsUnpairedAndCounted()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracegc()
            tracefree(0xc0, 0x10)
            tracefree(0xa0, 0x10)
            tracefree(0xa0, 0x10)
            """);
        Assert.Equal(1, p.PairedFrees);
        Assert.Equal(2, p.UnpairedEvents);
        Assert.Equal(2, p.UnpairedByKind[UnpairedKind.FreeOfUnknownAddress]);
        Assert.Equal([2], p.UnpairedInWindow);
        Assert.Equal([3, 5], p.FirstUnpaired.Select(u => u.Event.Line));
        Assert.Equal([0], p.DeathCycle);
    }

    [Fact]
    public void Plan_FreeWithADifferentSize_IsUnpairedAndTheObjectStaysLive()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x20)
            tracegc()
            tracefree(0xa0, 0x10)
            tracegc()
            tracefree(0xa0, 0x20)
            """);
        Assert.Equal(1, p.UnpairedByKind[UnpairedKind.FreeSizeMismatch]);
        // The mismatched free did not kill it: the later, matching free does (in cycle 1).
        Assert.Equal([1], p.DeathCycle);
        Assert.Equal([0, 1], p.TraceFreesInCycle);
    }

    [Fact]
    public void Plan_FreeBeforeTheFirstGc_IsUnpaired()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracefree(0xa0, 0x10)
            tracegc()
            """);
        Assert.Equal(1, p.UnpairedByKind[UnpairedKind.FreeBeforeFirstGc]);
        Assert.Equal(1, p.UnpairedBeforeFirstCycle);
        Assert.Equal([TracePlan.Never], p.DeathCycle);
    }

    [Fact]
    public void Plan_FreeOfAnObjectAllocatedAfterThatGc_IsUnpaired()
    {
        TracePlan p = Plan("""
            tracegc()
            tracealloc(0xa0, 0x10)
            tracefree(0xa0, 0x10)
            tracegc()
            """);
        Assert.Equal(1, p.UnpairedByKind[UnpairedKind.FreeOfObjectAllocatedThisCycle]);
        Assert.Equal([TracePlan.Never], p.DeathCycle);
    }

    [Fact]
    public void Plan_AllocAtALiveAddress_ReplacesTheOldObjectWhichDiesAtTheNextGc()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracegc()
            tracealloc(0xa0, 0x30)
            tracegc()
            tracefree(0xa0, 0x30)
            tracegc()
            """);
        Assert.Equal(1, p.UnpairedByKind[UnpairedKind.AllocOverLiveObject]);
        // Object 0 was dropped before tracegc #1: cycle 1 frees it; object 1 is freed by the trace in cycle 1 too.
        Assert.Equal([1, 1], p.DeathCycle);
        Assert.Equal([0, 1, 0], p.ReplacedDyingInCycle);
        Assert.Equal([0, 1, 0], p.TraceFreesInCycle);
        Assert.Equal(2, p.ExpectedFreesInCycle(1));
    }

    [Fact]
    public void Plan_AllocAtALiveAddressAfterTheLastGc_NeverDies()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracegc()
            tracealloc(0xa0, 0x10)
            """);
        Assert.Equal([TracePlan.Never, TracePlan.Never], p.DeathCycle);
        Assert.Equal(1, p.UnpairedEvents);
    }

    [Fact]
    public void Plan_AddressReusedAfterAPairedFree_IsANewObjectNotAReplacement()
    {
        TracePlan p = Plan("""
            tracealloc(0xa0, 0x10)
            tracegc()
            tracefree(0xa0, 0x10)
            tracealloc(0xa0, 0x10)
            tracegc()
            """);
        Assert.Equal(0, p.UnpairedEvents);
        Assert.Equal([0, TracePlan.Never], p.DeathCycle);
    }

    [Fact]
    public void Plan_HandTrace_CountsAllocationsFreesAndUnpairedPerCycle()
    {
        TracePlan p = Plan(CliTestSupport.HandTrace);
        Assert.Equal(3, p.Cycles);
        Assert.Equal(8, p.ObjectCount);
        Assert.Equal([4, 1, 2], p.AllocsBeforeCycle);
        Assert.Equal(1, p.AllocsAfterLastCycle);
        Assert.Equal([2, 1, 0], p.TraceFreesInCycle);
        Assert.Equal([0, 0, 1], p.ReplacedDyingInCycle);
        Assert.Equal([1, 1, 0], p.UnpairedInWindow);
        Assert.Equal(3, p.PairedFrees);
    }

    [Fact]
    public void Plan_BundledSample_PairsAllButThreeFrees()
    {
        TracePlan p = TracePlan.Build(TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!));
        Assert.Equal(13, p.Cycles);
        Assert.Equal(117_355, p.ObjectCount);
        Assert.Equal(92_457, p.PairedFrees);
        Assert.Equal(3, p.UnpairedEvents);
        Assert.Equal(3, p.UnpairedByKind[UnpairedKind.FreeOfUnknownAddress]);
        Assert.Equal([6, 1144, 5020, 6170, 6320, 5867, 9310, 8354, 7380, 10080, 11199, 10861, 10746], p.TraceFreesInCycle);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(0x70, 0x70)]
    [InlineData(33, 48)]
    [InlineData(32768, 32768)]
    [InlineData(32769, 40960)]
    [InlineData(40960, 40960)]
    public void SlotSize_IsTheClassSizeOrWholePages(long size, long slot)
    {
        Assert.Equal(slot, TracePlan.SlotSize(size));
    }
}
