// The plain data a replay reports, on hand-built values (no allocator): ReplayComparison names every
// per-cycle memstat that differs between two replays and stops at MaxDifferences; ReplayResult's
// derived times and rates; the pass rule of a lock-step replay; ReplayFidelity's counters and the
// three lines the report prints from them. Killers of Replay mutants the full record of 2026-12-07
// left alive (mutation/README.md, "Replay").
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Replay;

public sealed class ReplayReportDataTests
{
    private static CycleRow Row(int cycle, int swept = 0, long heapSys = 0, long heapInuse = 0, long heapAlloc = 0,
        long heapReleased = 0, long scavenged = 0, long liveObjects = 0) =>
        new(cycle, 0, 0, swept, 0, heapSys, heapInuse, heapAlloc, heapReleased, scavenged, liveObjects, 0, 0, [], 0);

    private static ReplayResult Result(string impl, IReadOnlyList<CycleRow> rows, HeapStats? final = null,
        TimeSpan wall = default, TimeSpan verify = default, TimeSpan allocator = default, long allocations = 0,
        long disagreements = 0, string? failure = null) => new()
        {
            Implementation = impl,
            Options = new ReplayOptions(),
            Plan = TracePlan.Build(new Trace([], 0, [])),
            Rows = rows,
            Disagreements = [],
            DisagreementCount = disagreements,
            Failure = failure,
            VerifyPasses = 0,
            Allocations = allocations,
            SweepFrees = 0,
            FinalStats = final ?? new HeapStats(),
            WallTime = wall,
            VerifyTime = verify,
            AllocatorTime = allocator,
        };

    [Fact]
    public void Compare_EachPerCycleMemstat_IsNamedWithBothValues()
    {
        ReplayResult a = Result("reference", [Row(0), Row(1)]);
        ReplayResult b = Result("optimized", [Row(0), Row(1, swept: 1, heapSys: 2, heapInuse: 3, heapAlloc: 4, heapReleased: 5, scavenged: 6, liveObjects: 7)]);
        Assert.Equal(
        [
            "reference vs optimized: cycle 1: swept 0 != 1",
            "reference vs optimized: cycle 1: heap_sys 0 != 2",
            "reference vs optimized: cycle 1: heap_inuse 0 != 3",
            "reference vs optimized: cycle 1: heap_alloc 0 != 4",
            "reference vs optimized: cycle 1: heap_released 0 != 5",
            "reference vs optimized: cycle 1: scavenged 0 != 6",
            "reference vs optimized: cycle 1: live objects 0 != 7",
        ], ReplayComparison.Compare(a, b));
    }

    [Fact]
    public void Compare_DifferentCycleCounts_AreReported_AndTheCommonCyclesStillCompared()
    {
        ReplayResult a = Result("a", [Row(0, heapAlloc: 8), Row(1), Row(2)]);
        ReplayResult b = Result("b", [Row(0, heapAlloc: 16), Row(1)]);
        Assert.Equal(["a vs b: 3 != 2 cycles", "a vs b: cycle 0: heap_alloc 8 != 16"], ReplayComparison.Compare(a, b));
        Assert.Equal(["b vs a: 2 != 3 cycles", "b vs a: cycle 0: heap_alloc 16 != 8"], ReplayComparison.Compare(b, a));
    }

    // Differing cycle rows that leave exactly two of MaxDifferences for the final stats.
    private const int RowsLeavingTwo = ReplayComparison.MaxDifferences - 2;

    [Fact]
    public void Compare_StopsAtMaxDifferences_CycleRowsAndFinalStatsTogether()
    {
        var rows = Enumerable.Range(0, 30).Select(i => Row(i)).ToList();
        var other = Enumerable.Range(0, 30).Select(i => Row(i, heapAlloc: 1)).ToList();
        List<string> diffs = ReplayComparison.Compare(
            Result("a", rows, new HeapStats { HeapSys = 1 }), Result("b", other, new HeapStats { HeapSys = 2 }));
        Assert.Equal(ReplayComparison.MaxDifferences, diffs.Count);
        Assert.Equal("a vs b: cycle 19: heap_alloc 0 != 1", diffs[^1]);

        // With room left, the final stats follow the cycles, up to the same cap.
        diffs = ReplayComparison.Compare(
            Result("a", [.. rows.Take(RowsLeavingTwo)], new HeapStats { HeapSys = 1, HeapInuse = 1, Mallocs = 1 }),
            Result("b", [.. other.Take(RowsLeavingTwo)], new HeapStats { HeapSys = 2, HeapInuse = 2, Mallocs = 2 }));
        Assert.Equal(ReplayComparison.MaxDifferences, diffs.Count);
        Assert.Equal(["a vs b: final stats: HeapSys: 1 != 2", "a vs b: final stats: HeapInuse: 1 != 2"], diffs[^2..]);
    }

    [Fact]
    public void Compare_AgreeingReplays_NoDifferences()
    {
        Assert.Empty(ReplayComparison.Compare(Result("a", [Row(0, heapAlloc: 5)]), Result("b", [Row(0, heapAlloc: 5)])));
    }

    [Fact]
    public void ReplayResult_TimesAndRates_DeriveFromWallVerifyAndAllocatorTime()
    {
        ReplayResult r = Result("x", [], wall: TimeSpan.FromSeconds(10), verify: TimeSpan.FromSeconds(2),
            allocator: TimeSpan.FromSeconds(5), allocations: 1000);
        Assert.Equal(TimeSpan.FromSeconds(3), r.ReplayerTime);
        Assert.Equal(200, r.AllocatorAllocationsPerSecond);
        Assert.Equal(125, r.AllocationsPerSecond); // 1000 over the 8 s without Verify
        Assert.Equal(0, r.AllocatorAloneAllocationsPerSecond);
        r.AllocatorAloneTime = TimeSpan.FromSeconds(4);
        Assert.Equal(250, r.AllocatorAloneAllocationsPerSecond);
    }

    [Fact]
    public void ReplayResult_ZeroTimes_RatesAreZeroNotInfinite()
    {
        ReplayResult r = Result("x", [], wall: TimeSpan.FromSeconds(2), verify: TimeSpan.FromSeconds(2), allocations: 1000);
        Assert.Equal(0, r.AllocatorAllocationsPerSecond);
        Assert.Equal(0, r.AllocationsPerSecond);
        r.AllocatorAloneTime = TimeSpan.Zero;
        Assert.Equal(0, r.AllocatorAloneAllocationsPerSecond);
    }

    [Fact]
    public void LockstepReplayResult_PassesOnlyWhenTheHeapsAgreedAndBothReplaysPassed()
    {
        ReplayResult ok = Result("a", []), bad = Result("b", [], disagreements: 1), failed = Result("c", [], failure: "Verify: x");
        var disagreement = new LockstepDisagreement("line 3", null, 1, "addresses differ");
        LockstepReplayResult Lockstep(ReplayResult a, ReplayResult b, LockstepDisagreement? d = null) =>
            new() { A = a, B = b, StatsEvery = 1, Operations = 1, Disagreement = d };
        Assert.True(Lockstep(ok, ok).Passed);
        Assert.False(Lockstep(ok, ok, disagreement).Passed);
        Assert.False(Lockstep(bad, ok).Passed);
        Assert.False(Lockstep(ok, bad).Passed);
        Assert.False(Lockstep(failed, ok).Passed);
        Assert.False(Lockstep(ok, failed).Passed);
        Assert.Equal("at line 3 (GC cycle 1): addresses differ", disagreement.ToString());
    }

    [Fact]
    public void ReportRecords_ToString()
    {
        Assert.Equal("cycle 3: Stats: HeapAlloc 1 != 2", new Disagreement(3, DisagreementKind.Stats, "HeapAlloc 1 != 2").ToString());
        Assert.Equal("large:5", new ClassCount(0, 40960, 5).ToString());
        Assert.Equal("48B:7", new ClassCount(5, 48, 7).ToString());
    }

    [Fact]
    public void Fidelity_Packing_CountsPairsAdjacencyAndAgreement()
    {
        var f = new ReplayFidelity();
        Assert.Equal("-", f.PackingText());
        f.AddPacking(goAdjacent: true, ourAdjacent: true);
        f.AddPacking(goAdjacent: true, ourAdjacent: false);
        f.AddPacking(goAdjacent: false, ourAdjacent: false);
        f.AddPacking(goAdjacent: false, ourAdjacent: true);
        Assert.Equal((4L, 2L, 2L, 2L), (f.PackPairs, f.GoAdjacent, f.OurAdjacent, f.PackAgree));
        f.AddPacking(goAdjacent: true, ourAdjacent: true);
        Assert.Equal((5L, 3L, 3L, 3L), (f.PackPairs, f.GoAdjacent, f.OurAdjacent, f.PackAgree));
        Assert.Equal("60.00% agree of 5 pairs (adjacent: Go 60.00%, ours 60.00%)", f.PackingText());
    }

    [Fact]
    public void Fidelity_Cycles_CountExactMatchesAndTheLargestDifferences()
    {
        var f = new ReplayFidelity();
        f.AddCycle(ourObjects: 10, ourBytes: 100, traceObjects: 10, traceBytes: 100);
        f.AddCycle(ourObjects: 10, ourBytes: 164, traceObjects: 10, traceBytes: 100); // bytes differ only
        f.AddCycle(ourObjects: 7, ourBytes: 100, traceObjects: 10, traceBytes: 100);  // objects differ only
        f.AddCycle(ourObjects: 12, ourBytes: 90, traceObjects: 10, traceBytes: 100);
        Assert.Equal(4, f.Cycles);
        Assert.Equal(1, f.CyclesLiveEqual);
        Assert.Equal(64, f.MaxLiveBytesDiff);
        Assert.Equal(3, f.MaxLiveObjectsDiff);
        Assert.Equal("1 of 4 cycles equal the trace's (max diff 3 objects, 64 bytes)", f.LiveText());
    }

    [Fact]
    public void Fidelity_Tiny_CountsAgreementAndMismatchesByKind()
    {
        var f = new ReplayFidelity();
        Assert.Equal("no tiny allocations (old trace format: no noscan)", f.TinyText());
        f.AddTiny(null);
        f.AddTiny(null);
        f.AddTiny(TinyMismatch.GcTiming);
        f.AddTiny(TinyMismatch.NoP);
        f.AddTiny(TinyMismatch.GcTiming);
        Assert.Equal((5L, 2L, 0L), (f.TinyAllocs, f.TinyAgree, f.TinyUnexplained));
        Assert.Equal("2 of 5 offsets equal Go's (40.00%); differ: NoP 1, GcTiming 2", f.TinyText());
        f.AddTiny(TinyMismatch.Unexplained);
        Assert.Equal(1, f.TinyUnexplained);

        var agreeing = new ReplayFidelity();
        agreeing.AddTiny(null);
        Assert.Equal("1 of 1 offsets equal Go's (100.00%)", agreeing.TinyText());
    }

    [Fact]
    public void Fidelity_Percent_OfNothingIsADash()
    {
        Assert.Equal("-", ReplayFidelity.Percent(0, 0));
        Assert.Equal("25.00%", ReplayFidelity.Percent(1, 4));
        Assert.Equal("150.00%", ReplayFidelity.Percent(3, 2));
    }
}
