// The bundled Go trace replayed on the Reference and the Optimized in lock step, each heap wrapped
// in a ModelCheckedHeap: besides the replay's own checks (the sweep frees what Go freed) and the
// lock-step comparison, every call on each heap is checked against the heap model (Alloc's address
// and zeroing, Mark's answer, every OnFree against the cycle's unmarked set, the sweep set at every
// sweep-done point, and the full stats identities after every call).
using GoAlloc.Model;
using GoAlloc.Replay;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Model;

public sealed class ModelTraceReplayTests
{
    [Fact]
    public void BundledTrace_BothHeapsMatchTheModelAfterEveryOperation()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        TracePlan plan = TracePlan.Build(trace);
        ModelCheckedHeap? a = null, b = null;

        LockstepReplayResult r = TraceReplayer.ReplayLockstep(trace, plan,
            (HeapFactories.Reference, o => a = new ModelCheckedHeap(x => new GoAlloc.Reference.MHeap(x), o)),
            (HeapFactories.Optimized, o => b = new ModelCheckedHeap(x => new GoAlloc.Optimized.MHeap(x), o)),
            // Every call's stats compared in lock step; every 16th under Mutation (7 of this test's
            // 11 s there), where the model still checks each heap's stats identities after every call.
            statsEvery: TestBudget.IsMutationRun ? 16 : 1);

        Assert.True(r.Agreed, r.Disagreement?.ToString());
        Assert.True(r.Passed, string.Join("\n", r.A.Disagreements) + r.A.Failure);
        Assert.Equal(13, r.A.Cycles);
        Assert.Equal(13, a!.Model.Cycles);
        Assert.Equal(13, b!.Model.Cycles);
        // Every allocation, Mark and GC call was checked on each heap, and the model's live set is the heap's.
        Assert.True(a.Checks >= r.A.Allocations, $"{a.Checks} checks for {r.A.Allocations} allocations");
        Assert.Equal(a.Checks, b.Checks);
        Assert.Equal(r.A.FinalStats.HeapObjects, a.Model.LiveObjects);
        Assert.Equal(r.A.FinalStats.HeapAlloc, a.Model.LiveBytes);
    }

    [Fact]
    public void BundledTrace_OnAHeapKeepingOneUnmarkedObjectPerCycle_FailsTheModelAtTheFirstCycle()
    {
        Trace trace = TraceReader.ReadFile(SampleTrace.Locate(SampleTrace.OldFormatFileName)!);
        var replayer = new TraceReplayer(o => new ModelCheckedHeap(x => new LyingHeap(y => new GoAlloc.Reference.MHeap(y), x, HeapLie.KeepsOneUnmarkedObject), o));

        ReplayResult r = replayer.Replay(trace);

        Assert.NotNull(r.Failure);
        Assert.Contains($"ModelViolationException: [{ModelIdentity.SweepKeptDead}]", r.Failure);
        Assert.Equal(0, r.Cycles);
    }
}
