// TraceReplayer: the sweep of every GC cycle frees exactly the objects the trace frees in that
// cycle, Verify passes after every cycle, and deliberately broken heaps (a skipped Mark, a hidden
// free, a reused live address, a failing Verify) are reported, not missed.
using GoAlloc.Cli;
using GoAlloc.Reference;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliReplayTests
{
    private static ReplayResult Replay(string text, Func<HeapOptions, IHeap>? factory = null, ReplayOptions? options = null) =>
        new TraceReplayer(factory ?? (o => new MHeap(o)), options).Replay(CliTestSupport.Parse(text), "test");

    [Fact]
    public void Replay_BundledSample_SweepFreesExactlyTheTraceFreesInEveryCycle()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        ReplayResult r = new TraceReplayer(o => new MHeap(o)).Replay(trace, HeapFactories.Reference);

        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(0, r.DisagreementCount);
        Assert.Null(r.Failure);
        Assert.Equal(13, r.Cycles);
        Assert.Equal(117_355, r.Allocations);
        Assert.Equal(92_457, r.Plan.PairedFrees);
        Assert.Equal(92_457, r.SweepFrees);
        Assert.Equal(3, r.Plan.UnpairedEvents);
        Assert.Equal(14, r.VerifyPasses); // after each of the 13 cycles and at the end of the trace
        Assert.All(r.Rows, row => Assert.Equal(row.TraceFrees, row.SweepFrees));
        Assert.Equal(117_355 - 92_457, r.FinalStats.HeapObjects);
        Assert.Equal(117_355, r.Rows.Sum(row => row.AllocsSinceLastCycle) + r.Plan.AllocsAfterLastCycle);
    }

    [Fact]
    public void Replay_HandTrace_SweepFreesExactlyTheTraceFreesIncludingReplacedObjects()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal([2, 1, 1], r.Rows.Select(row => row.SweepFrees));
        Assert.Equal([1, 1, 0], r.Rows.Select(row => row.Unpaired));
        Assert.Equal(8, r.Allocations);
        Assert.Equal(4, r.VerifyPasses);
        // Live after the last tracegc: 0x20 (the replacement), 0x10 (reused), 0x40 and the 8-byte one.
        Assert.Equal(4, r.FinalStats.HeapObjects);
        Assert.Equal(0x30 + 0x10 + 0x2000 + 0x8, r.FinalStats.HeapAlloc);
    }

    [Fact]
    public void Replay_CycleRows_ReportStatsAfterTheSweep()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace);
        CycleRow first = r.Rows[0];
        Assert.Equal(0, first.Cycle);
        Assert.Equal(4, first.AllocsSinceLastCycle);
        Assert.Equal(2, first.LiveObjects);                 // 0x0 and 0x20 survive cycle 0
        Assert.Equal(0x10 + 0x30, first.HeapAlloc);
        Assert.True(first.HeapInuse > 0 && first.HeapSys >= first.HeapInuse);
        Assert.Equal([new ClassCount(2, 16, 1), new ClassCount(5, 48, 1)], first.TopClasses);
    }

    [Fact]
    public void Replay_MarkThatSkipsOneLiveObject_IsReportedAsFreedLiveObject()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => new FaultyHeap(o, skipMarkNumber: 0));
        Assert.False(r.Passed);
        Disagreement d = Assert.Single(r.Disagreements);
        Assert.Equal(DisagreementKind.FreedLiveObject, d.Kind);
        Assert.Equal(0, d.Cycle);
        Assert.Contains("trace 0xc000000000", d.Message);
    }

    [Fact]
    public void Replay_SweepThatHidesAFree_IsReportedAsKeptDeadObject()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => new FaultyHeap(o, hideFreeNumber: 0));
        Assert.False(r.Passed);
        Assert.Contains(r.Disagreements, d => d.Kind == DisagreementKind.KeptDeadObject && d.Cycle == 0);
    }

    [Fact]
    public void Replay_AllocReturningAStillLiveAddress_IsReported()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => new FaultyHeap(o, repeatAllocNumber: 1));
        Assert.False(r.Passed);
        Assert.Equal(DisagreementKind.AddressStillLive, r.Disagreements[0].Kind);
    }

    [Fact]
    public void Replay_VerifyFailure_StopsTheReplayAndIsReported()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => new FaultyHeap(o, failVerifyNumber: 1));
        Assert.False(r.Passed);
        Assert.NotNull(r.Failure);
        Assert.Contains("cycle 1: Verify", r.Failure);
        Assert.Contains("INV-TEST-1", r.Failure);
        Assert.Single(r.Rows);
        Assert.Equal(1, r.VerifyPasses);
    }

    [Fact]
    public void Replay_ExceptionFromTheHeap_IsAFailureNamingTheTraceLine()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => new FaultyHeap(o, throwOnAllocNumber: 0));
        Assert.False(r.Passed);
        Assert.Contains("line 1: tracealloc", r.Failure);
        Assert.Contains(nameof(InvalidOperationException), r.Failure);
    }

    [Fact]
    public void Replay_OutOfMemory_IsNotAFailureOfTheReplay_ItPropagatesAsAHostFailure()
    {
        // The host ran out of memory: no finding about the allocator to report (Program: exit 3).
        Assert.Throws<OutOfMemoryException>(() => Replay(CliTestSupport.HandTrace, o => new MHeap(o with { MemoryLimit = 0 })));
    }

    [Fact]
    public void Replay_Procs_SetsTheHeapsGomaxprocs()
    {
        int procs = 0;
        ReplayResult r = Replay(CliTestSupport.HandTrace, o => { procs = o.Procs; return new MHeap(o); }, new ReplayOptions { Procs = 3 });
        Assert.True(r.Passed);
        Assert.Equal(3, procs);
    }

    [Fact]
    public void Replay_ScavengeOption_CallsScavengeAfterEachCycleAndStillAgrees()
    {
        ReplayResult r = Replay(CliTestSupport.HandTrace, options: new ReplayOptions { Scavenge = true });
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.All(r.Rows, row => Assert.True(row.HeapReleased <= row.HeapSys - row.HeapInuse));
    }

    [Fact]
    public void Replay_ScavengeOption_ReleasesTheFreePagesOfTheBundledSample()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        ReplayResult r = new TraceReplayer(o => new MHeap(o), new ReplayOptions { Scavenge = true }).Replay(trace);
        Assert.True(r.Passed);
        Assert.True(r.Rows.Sum(row => row.ScavengedBytes) > 0);
    }

    [Fact]
    public void Compare_TwoReplaysOfTheSameAllocator_Agree_AndADifferentOneDoesNot()
    {
        Trace trace = CliTestSupport.Parse(CliTestSupport.HandTrace);
        ReplayResult a = new TraceReplayer(o => new MHeap(o)).Replay(trace, "a");
        ReplayResult b = new TraceReplayer(o => new MHeap(o)).Replay(trace, "b");
        Assert.Empty(ReplayComparison.Compare(a, b));

        Trace other = CliTestSupport.Parse(CliTestSupport.HandTrace + "\ntracealloc(0xc000200000, 0x100)");
        ReplayResult c = new TraceReplayer(o => new MHeap(o)).Replay(other, "c");
        Assert.Contains(ReplayComparison.Compare(a, c), d => d.Contains("final stats: HeapAlloc"));
    }

    [Fact]
    public void HeapFactories_ReferenceOptimizedAndBoth_AreBuilt_BothIsTheOracleThenTheOptimized()
    {
        Assert.True(HeapFactories.TryResolve(HeapFactories.Reference, out var refs, out _));
        Assert.Equal([HeapFactories.Reference], refs.Select(f => f.Name));
        Assert.True(HeapFactories.TryResolve(HeapFactories.Optimized, out var opts, out string error), error);
        Assert.Equal([HeapFactories.Optimized], opts.Select(f => f.Name));
        using (IHeap heap = opts[0].Factory(new HeapOptions()))
            Assert.IsType<GoAlloc.Optimized.MHeap>(heap);
        Assert.True(HeapFactories.TryResolve(HeapFactories.Both, out var both, out error), error);
        Assert.Equal([HeapFactories.Reference, HeapFactories.Optimized], both.Select(f => f.Name));
        Assert.Equal(HeapFactories.Both, ReplaySettings.Default.Impl);
    }

    [Fact]
    public void HeapFactories_AKnownImplementationMissingFromTheFactories_IsNotBuilt()
    {
        var onlyReference = new Dictionary<string, Func<HeapOptions, IHeap>> { [HeapFactories.Reference] = o => new MHeap(o) };
        Assert.False(HeapFactories.TryResolve(HeapFactories.Both, onlyReference, out _, out string error));
        Assert.Equal("the Optimized allocator is not built yet", error);
        Assert.False(HeapFactories.TryResolve("fast", onlyReference, out _, out error));
        Assert.StartsWith("unknown implementation 'fast'", error);
    }
}
