// The background sweeper restarted in the middle of a cycle (mgcsweep.go: bgsweep starts ready to
// sweep): run against each allocator. The catalog's SweeperRestartForgetsWork is this bug found by
// Coyote; this test finds it with real threads, deterministically ordered by the OnFree hook.
using GoAlloc.Replay;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class BackgroundSweeperRestartTests
{
    /// <summary>
    /// A sweeper stopped in the middle of a cycle and started again finishes that cycle: Start
    /// records pending work. The sweeper is held inside its first free (OnFree) while Stop is
    /// requested, so it has taken the cycle's kick and stops after that span.
    /// </summary>
    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void BackgroundSweeper_RestartedMidCycleFinishesTheCycle(string impl)
    {
        using var inSweep = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        int held = 0;
        using IHeap heap = HeapFactories.Available[impl](new HeapOptions
        {
            OnFree = (_, _) =>
            {
                if (Interlocked.Exchange(ref held, 1) == 0)
                {
                    inSweep.Set();
                    resume.Wait();
                }
            },
        });
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 10_000; i++)
            p.Alloc(48);
        p.Release();
        heap.StartBackgroundSweeper();
        heap.StartMark();
        heap.FinishMark();
        Assert.True(inSweep.Wait(TestBudget.HangBound(TimeSpan.FromMinutes(1))), "the background sweeper never began the cycle");
        var stopper = new Thread(heap.StopBackgroundSweeper);
        stopper.Start();
        // Stop has asked the sweeper to stop once its thread waits in Join (or for a lock); if it
        // is released earlier the sweeper finishes the cycle first and the test proves less, never
        // fails wrongly.
        SpinWait.SpinUntil(() => (stopper.ThreadState & ThreadState.WaitSleepJoin) != 0, TestBudget.HangBound(TimeSpan.FromMinutes(1)));
        resume.Set();
        Assert.True(stopper.Join(TestBudget.HangBound(TimeSpan.FromMinutes(1))));
        heap.StartBackgroundSweeper();
        Assert.True(SpinWait.SpinUntil(() => heap.SweepDone, TestBudget.HangBound(TimeSpan.FromMinutes(1))),
            "the sweeper restarted in the middle of a cycle never finished it");
        heap.StopBackgroundSweeper();
        Assert.Equal(0, heap.ReadStats().HeapObjects);
        heap.Verify();
    }
}
