// FindObject's wait for a span being swept (spec/SPEC.md, "FindObject under concurrency", item 1)
// across FinishMark's reset window: FinishMark publishes the new sweepgen before it resets the
// sweep-state word, so a P-less FindObject can find a span at sg-2 while activeSweep.begin still
// sees the last cycle's drained bit and refuses. The waiter must then claim and sweep the span
// itself once begin succeeds again: nobody else may ever sweep it (no background sweeper, no
// further cycle). The window is opened deterministically: the drained bit is set by hand, and the
// trace hook the waiter calls when it starts waiting resets the word (FinishMark's reset landing).
// Found by FindObject_WaitEndsWhenTheCycleMovesOn hanging under load (a finder never returned).
// Optimized only: the Reference has no sweep-state word (its FindObject sweeps the span under the
// heap lock and never waits).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class FindObjectSweepWindowTests
{
    private static readonly TimeSpan HangBound = TestBudget.HangBound(TimeSpan.FromSeconds(60));

    [Fact]
    public void Optimized_FindObject_SweepsAnUnclaimedSpanWhenBeginFailedInTheResetWindow() =>
        Check(o => new GoAlloc.Optimized.MHeap(o),
              h => ((GoAlloc.Optimized.MHeap)h).ActiveSweepRef.MarkDrained(),
              h => ((GoAlloc.Optimized.MHeap)h).ActiveSweepRef.Reset(1));

    private static void Check(Func<HeapOptions, IHeap> create, Action<IHeap> drain, Action<IHeap> reset)
    {
        IHeap? heap = null;
        int waits = 0, selfSweeps = 0;
        var sweptBy = new List<int>(); // the P of each SweepDone during the FindObject call
        bool finding = false;
        heap = create(new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 0,
            OnTrace = e =>
            {
                if (finding && e.Kind == HeapTraceKind.SweepDone)
                    sweptBy.Add(e.P);
                if (e.Kind != HeapTraceKind.EnsureSwept)
                    return;
                if (e.Detail == "waiting for its sweeper" && ++waits == 1)
                    reset(heap!); // FinishMark's reset of the sweep-state word lands now
                else if (e.Detail == "sweeping it here")
                    selfSweeps++;
            },
        });
        // 16 objects of 1 KiB: the first span (8) is full and uncached, the second cached on P0.
        List<nint> objs = EnsureSweptPostconditionTests.SixteenKiBObjectsAfterACycle(heap);
        // The full span is at sg-2, unclaimed; the window: begin refuses (drained from "last cycle").
        drain(heap);
        bool found = false;
        finding = true;
        ObjectInfo info = default;
        var finder = new Thread(() => found = heap.FindObject(objs[0] + 5, out info)) { IsBackground = true };
        finder.Start();
        Assert.True(finder.Join(HangBound), "FindObject never returned: it waits for a sweeper that will never come");
        Assert.True(found && info.Allocated && info.Base == objs[0], $"FindObject answered {found}: {info}");
        Assert.Equal(1, waits);
        Assert.Equal(0, selfSweeps); // the first attempt was refused; the waiter swept it in its loop
        Assert.Equal([-1], sweptBy);   // one sweep, by the P-less caller
        finding = false;
        heap.FinishSweep();
        heap.Verify();
        heap.Dispose();
    }
}
