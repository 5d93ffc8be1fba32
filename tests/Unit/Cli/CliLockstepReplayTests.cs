// Lockstep replays (`alloc replay --impl both`): the Reference and the Optimized replay the bundled
// sample on one LockstepHeap and agree after every operation (addresses, frees, full stats); a B heap
// that allocates one object too many is caught at the trace line where it did; ReplayCommand reports
// that as a disagreement (exit 1) and a missing implementation as a usage error (exit 2).
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliLockstepReplayTests
{
    private static readonly (string, Func<HeapOptions, IHeap>) s_reference = (HeapFactories.Reference, o => new GoAlloc.Reference.MHeap(o));
    private static readonly (string, Func<HeapOptions, IHeap>) s_optimized = (HeapFactories.Optimized, o => new GoAlloc.Optimized.MHeap(o));

    private static (string, Func<HeapOptions, IHeap>) OptimizedWithExtraAllocs(int everyNth) =>
        (HeapFactories.Optimized, o => new ExtraAllocHeap(new GoAlloc.Optimized.MHeap(o), everyNth));

    [Fact]
    public void Lockstep_BundledSample_ReferenceAndOptimizedAgreeOnEveryEvent()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        TracePlan plan = TracePlan.Build(trace);

        LockstepReplayResult r = TraceReplayer.ReplayLockstep(trace, plan, s_reference, s_optimized, statsEvery: 1);

        Assert.True(r.Agreed, r.Disagreement?.ToString());
        Assert.Null(r.Disagreement);
        Assert.True(r.Passed, string.Join("\n", r.A.Disagreements) + r.A.Failure);
        Assert.Equal(1, r.StatsEvery);
        // Every alloc, every Mark of a live object, every GC step, Release/AcquireP, Verify: more than the trace's events.
        Assert.True(r.Operations > trace.Events.Count, $"{r.Operations} operations for {trace.Events.Count} events");
        Assert.Equal(0, r.A.DisagreementCount);
        Assert.Equal(13, r.A.Cycles);
        Assert.Equal(13, r.B.Cycles);
        Assert.Equal(117_355, r.A.Allocations);
        Assert.Equal(92_457, r.A.SweepFrees);
        Assert.Equal(14, r.A.VerifyPasses); // LockstepHeap.Verify runs both heaps' Verify
        Assert.Equal(HeapFactories.Reference, r.A.Implementation);
        Assert.Equal(HeapFactories.Optimized, r.B.Implementation);
        // The rows and final stats are read from each heap separately, and are equal.
        Assert.Equal(r.A.Rows.Select(Stats), r.B.Rows.Select(Stats));
        Assert.Empty(r.A.FinalStats.Diff(r.B.FinalStats));
        Assert.Equal(117_355 - 92_457, r.B.FinalStats.HeapObjects);
    }

    private static (long, long, long, long, long, string) Stats(CycleRow row) =>
        (row.HeapSys, row.HeapInuse, row.HeapAlloc, row.HeapReleased, row.LiveObjects, string.Join(" ", row.TopClasses));

    [Fact]
    public void Lockstep_AHeapThatAllocatesAnExtraObjectEvery1000thCall_IsADisagreementNamingTheTraceLine()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        TracePlan plan = TracePlan.Build(trace);
        TraceEvent thousandth = trace.Events.Where(e => e.Kind == TraceEventKind.Alloc).ElementAt(999);

        LockstepReplayResult r = TraceReplayer.ReplayLockstep(trace, plan, s_reference, OptimizedWithExtraAllocs(1000), statsEvery: 1);

        Assert.False(r.Agreed);
        Assert.False(r.Passed);
        LockstepDisagreement d = r.Disagreement!;
        Assert.Equal(thousandth, d.Event);
        Assert.Equal(thousandth.ToString(), d.Where);
        Assert.StartsWith($"line {thousandth.Line}: tracealloc(", d.Where);
        Assert.Contains("P0.Alloc(", d.Message);
        Assert.Contains("stats differ", d.Message);
        Assert.Contains("Mallocs", d.Message);
        Assert.Contains($"at line {thousandth.Line}: tracealloc(", d.ToString());
        // The replay stopped there: no cycle after it, and the trace checks found nothing (the A side is right).
        Assert.True(r.A.Cycles < 13);
        Assert.Equal(0, r.A.DisagreementCount);
        Assert.Null(r.A.Failure);
    }

    [Fact]
    public void Lockstep_StatsEveryN_StillComparesEveryAddress()
    {
        Trace trace = CliTestSupport.Parse(CliTestSupport.HandTrace);
        // The 2nd allocation (line 2) is followed by an extra 8-byte one, whose span takes a page: the
        // next allocation of another size class (line 3, 0x30 bytes) lands one page further in B.
        // Stats are compared only every 100th allocation, but addresses after every one.
        LockstepReplayResult r = TraceReplayer.ReplayLockstep(trace, TracePlan.Build(trace), s_reference, OptimizedWithExtraAllocs(2), statsEvery: 100);
        Assert.False(r.Agreed);
        Assert.Equal(100, r.StatsEvery);
        Assert.Equal(3, r.Disagreement!.Event!.Value.Line);
        Assert.StartsWith("P0.Alloc(48, ", r.Disagreement.Message);
        Assert.Contains("reference=+0x", r.Disagreement.Message);
    }

    [Fact]
    public void Lockstep_HandTrace_AgreesAndKeepsEveryTraceCheck()
    {
        Trace trace = CliTestSupport.Parse(CliTestSupport.HandTrace);
        LockstepReplayResult r = TraceReplayer.ReplayLockstep(trace, TracePlan.Build(trace), s_reference, s_optimized,
            new ReplayOptions { Scavenge = true, Procs = 2 });
        Assert.True(r.Passed, r.Disagreement?.ToString() + string.Join("\n", r.A.Disagreements) + r.A.Failure);
        Assert.Equal([2, 1, 1], r.A.Rows.Select(row => row.SweepFrees));
        Assert.Equal(r.A.Rows.Select(row => row.ScavengedBytes), r.B.Rows.Select(row => row.ScavengedBytes));
        Assert.Equal(4, r.B.FinalStats.HeapObjects);
    }

    [Fact]
    public void ReplayCommand_LockstepDisagreement_IsReportedWithTheTraceLine_AndExitsOne()
    {
        var factories = new Dictionary<string, Func<HeapOptions, IHeap>>
        {
            [HeapFactories.Reference] = o => new GoAlloc.Reference.MHeap(o),
            [HeapFactories.Optimized] = OptimizedWithExtraAllocs(3).Item2,
        };
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var command = new ReplayCommand(CliTestSupport.StringConsole(stdout), stderr, factories);

            int exit = command.Run(ReplaySettings.Default with { TracePath = path, StatsEvery = 1 });

            string output = stdout.ToString();
            Assert.True(exit == ExitCodes.Disagreement, output + stderr);
            // The 3rd allocation is on line 3 of the hand trace.
            Assert.Contains("lockstep reference vs optimized: DISAGREEMENT after", output);
            Assert.Contains("at line 3: tracealloc(0xc000000020, 0x30) (GC cycle 0): after P0.Alloc(48", output);
            Assert.Contains("DISAGREED at line 3: tracealloc(0xc000000020, 0x30)", output); // the summary row
            Assert.Contains("stats differ (reference != optimized): ", output);
            Assert.Contains("Mallocs: 3 != 4", output);
            Assert.Contains("replay stopped at the lockstep disagreement", output);
            Assert.DoesNotContain('\u001b', output);
            Assert.Contains("FAILED", output);
            Assert.DoesNotContain("OK:", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReplayCommand_BothWithoutAnOptimizedFactory_IsAUsageError()
    {
        var factories = new Dictionary<string, Func<HeapOptions, IHeap>> { [HeapFactories.Reference] = o => new GoAlloc.Reference.MHeap(o) };
        var stderr = new StringWriter();
        var command = new ReplayCommand(CliTestSupport.StringConsole(new StringWriter()), stderr, factories);
        Assert.Equal(ExitCodes.Usage, command.Run(ReplaySettings.Default));
        Assert.Contains("the Optimized allocator is not built yet", stderr.ToString());
    }
}
