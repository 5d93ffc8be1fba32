// GoAlloc's extended trace format (tools/record/): " p=<P> noscan=<bool>" after each tracealloc,
// tiny requests traced at their own address with their own size. Parsed, replayed on the recorded
// Ps with the noscan flag, the tiny allocator's offsets compared with Go's; old traces still P0, scan.
using GoAlloc.Reference;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliExtendedTraceTests
{
    private static TraceEvent Single(string line)
    {
        Trace t = CliTestSupport.Parse(line);
        Assert.Equal(0, t.MalformedLines);
        return Assert.Single(t.Events);
    }

    private static ReplayResult Replay(string text, int procs = 0)
    {
        Trace trace = CliTestSupport.Parse(text);
        Assert.Equal(0, trace.MalformedLines);
        return new TraceReplayer(o => new MHeap(o), new ReplayOptions { Procs = procs }).Replay(trace);
    }

    [Fact]
    public void Parse_ExtendedAlloc_GivesThePAndNoscan()
    {
        Assert.Equal(new TraceEvent(TraceEventKind.Alloc, 0xc000016010, 0x10, 1, 1, false),
            Single("tracealloc(0xc000016010, 0x10, *runtime.p) p=1 noscan=false"));
        TraceEvent tiny = Single("tracealloc(0xc00001a09c, 0x4) p=-1 noscan=true");
        Assert.Equal(-1, tiny.P);
        Assert.True(tiny.Noscan);
        Assert.True(tiny.IsTiny);
        Assert.Equal(0xc00001a090UL, tiny.TinyBlock);
    }

    [Fact]
    public void Parse_TypeHoldingPEquals_UsesTheLastSuffix()
    {
        TraceEvent e = Single("tracealloc(0xc000026000, 0x10, struct { p=int }) p=3 noscan=false");
        Assert.Equal(3, e.P);
        Assert.Equal(0x10, e.Size);
    }

    [Fact]
    public void Parse_OldFormat_IsAScanObjectOnP0()
    {
        Trace t = CliTestSupport.Parse("tracealloc(0xc000060000, 0x70)\ntracegc()\n");
        TraceEvent e = t.Events[0];
        Assert.Equal(0, e.P);
        Assert.False(e.Noscan);
        Assert.False(t.Extended);
        Assert.Equal(0, t.MaxP);
    }

    [Theory]
    [InlineData("tracealloc(0xc000000000, 0x10) p=x noscan=true")]
    [InlineData("tracealloc(0xc000000000, 0x10) p=-2 noscan=true")]
    [InlineData("tracealloc(0xc000000000, 0x10) p=0 noscan=yes")]
    [InlineData("tracealloc(0xc000000000, 0x10) p=0")]
    [InlineData("tracealloc(0xc000000003, 0x10) p=0 noscan=false")] // off 8-byte alignment, not tiny
    public void Parse_BadSuffix_IsMalformed(string line)
    {
        Assert.Equal(1, CliTestSupport.Parse(line).MalformedLines);
    }

    [Fact]
    public void Read_MixingOldAndExtendedAllocLines_CountsTheOddOnesMalformed()
    {
        Trace t = CliTestSupport.Parse("tracealloc(0xc000000000, 0x10) p=0 noscan=false\ntracealloc(0xc000000010, 0x10)\n");
        Assert.Equal(1, t.MalformedLines);
        Assert.True(t.Extended);
    }

    [Fact]
    public void Replay_DefaultProcs_IsTheHighestRecordedPPlusOne_AndNoPRunsOnP0()
    {
        ReplayResult r = Replay("""
            tracealloc(0xc000000000, 0x10) p=-1 noscan=false
            tracealloc(0xc000002000, 0x10) p=2 noscan=false
            tracegc()
            """);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(3, r.Procs);
        Assert.Equal(2, r.FinalStats.HeapObjects);
    }

    [Fact]
    public void Replay_TinyOffsets_EqualGos_OnEachP()
    {
        // P0 packs 4 + 4 + 8 bytes into one block, then starts a new one; P1 has a block of its own
        // (Go's mcache per P). The current tiny blocks stay live (Go's gcMarkTinyAllocs).
        ReplayResult r = Replay("""
            tracealloc(0xc000000000, 0x4) p=0 noscan=true
            tracealloc(0xc000000004, 0x4) p=0 noscan=true
            tracealloc(0xc000000010, 0x8) p=1 noscan=true
            tracealloc(0xc000000008, 0x8) p=0 noscan=true
            tracealloc(0xc000000018, 0x2) p=1 noscan=true
            tracealloc(0xc000000020, 0xc) p=0 noscan=true
            tracegc()
            tracefree(0xc000000000, 0x10)
            """);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(6, r.Fidelity.TinyAllocs);
        Assert.Equal(6, r.Fidelity.TinyAgree);
        // The cycle freed P0's first block (all three objects dead) and kept the two current ones.
        Assert.Equal(1, r.Rows[0].SweepFrees);
        Assert.Equal(2, r.FinalStats.HeapObjects);
    }

    [Fact]
    public void Replay_TinyOffsetGoDidNotChoose_FailsTheReplay()
    {
        // After 4 bytes at offset 0, a 2-byte request goes at offset 4 (2-byte alignment), not 6.
        ReplayResult r = Replay("""
            tracealloc(0xc000000000, 0x4) p=0 noscan=true
            tracealloc(0xc000000006, 0x2) p=0 noscan=true
            tracegc()
            """);
        Assert.False(r.Passed);
        Assert.Equal(1, r.Fidelity.TinyUnexplained);
        Assert.Contains(r.Disagreements, d => d.Kind == DisagreementKind.TinyOffset && d.Message.Contains("tiny offset 4, Go's 6"));
    }

    [Fact]
    public void Replay_SpanPacking_CountsAdjacentPairsOfOneClassOnOneP()
    {
        ReplayResult r = Replay("""
            tracealloc(0xc000000000, 0x20) p=0 noscan=false
            tracealloc(0xc000000020, 0x20) p=0 noscan=false
            tracealloc(0xc000000060, 0x20) p=0 noscan=false
            tracegc()
            """);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(2, r.Fidelity.PackPairs);
        Assert.Equal(1, r.Fidelity.GoAdjacent);   // Go left a gap before the third
        Assert.Equal(2, r.Fidelity.OurAdjacent);
        Assert.Equal(1, r.Fidelity.PackAgree);
    }

    [Fact]
    public void Replay_BundledSample_OnItsRecordedPs_WithNoscan_Passes()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate()!);
        Assert.True(trace.Extended);
        Assert.Equal(1, trace.MaxP);
        Assert.True(trace.Gcs >= 10);
        ReplayResult r = new TraceReplayer(o => new MHeap(o)).Replay(trace, HeapFactories.Reference);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(2, r.Procs);
        Assert.Equal(trace.TinyAllocs, r.Fidelity.TinyAllocs);
        Assert.Equal(0, r.Fidelity.TinyUnexplained);
        Assert.True(r.FinalStats.TinyAllocs > 0, "the tiny allocator ran");
    }

    [Fact]
    public void Replay_IdleP_KeepsItsCacheAcrossACycle_AndIsFlushedLazily()
    {
        // P1 allocates before cycle 0, stays idle through cycle 1, and allocates again after it.
        Trace trace = CliTestSupport.Parse("""
            tracealloc(0xc000000000, 0x20) p=0 noscan=false
            tracealloc(0xc000002000, 0x20) p=1 noscan=false
            tracegc()
            tracealloc(0xc000000020, 0x20) p=0 noscan=false
            tracegc()
            tracealloc(0xc000002020, 0x20) p=1 noscan=false
            """);
        var events = new List<HeapTraceEvent>();
        ReplayResult r = new TraceReplayer(o => new MHeap(o with { OnTrace = e => { lock (events) events.Add(e); } })).Replay(trace);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        // P1 is acquired only when it allocates: twice, not after cycle 0 where it was idle.
        Assert.Equal(2, events.Count(e => e.Kind == HeapTraceKind.AcquireP && e.P == 1));
        Assert.Equal(2, events.Count(e => e.Kind == HeapTraceKind.AcquireP && e.P == 0));
        // Its stale mcache was flushed lazily (prepareForSweep), as in Go.
        Assert.Contains(events, e => e.Kind == HeapTraceKind.PrepareForSweep && e.P == 1);
    }
}
