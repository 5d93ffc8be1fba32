// ProcTable and PBase (src/Allocator/ProcTable.cs, PBase.cs: allp, acquirep/releasep and
// stopTheWorld's check in Go's proc.go), shared by both heaps: Ps taken and given back by the
// calling thread, the first idle P found, the P of a thread that exited reclaimed (once, with the
// heap told), and the stop-the-world and Dispose checks refusing while a P is held. Test Ps are
// bare PBase instances; "another thread" is a real thread that takes a P and waits.
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class ProcTableTests
{
    private static readonly TimeSpan Bound = TestBudget.HangBound(TimeSpan.FromSeconds(30));

    private sealed class TestP(int id) : PBase(id);

    private static (ProcTable<TestP> Table, TestP[] Ps, List<int> Reclaimed) Make(int n)
    {
        TestP[] ps = [.. Enumerable.Range(0, n).Select(i => new TestP(i))];
        var reclaimed = new List<int>();
        return (new ProcTable<TestP>(ps, p => reclaimed.Add(p.Id)), ps, reclaimed);
    }

    /// <summary>Runs take on a new thread and returns once it took its P; the thread holds it until done is set, then exits.</summary>
    private static Thread HoldOnOtherThread(Action take, ManualResetEventSlim? done)
    {
        using var taken = new ManualResetEventSlim();
        var t = new Thread(() =>
        {
            take();
            taken.Set();
            done?.Wait(Bound);
        });
        t.Start();
        Assert.True(taken.Wait(Bound));
        return t;
    }

    [Fact]
    public void ProcTable_RefusesAPOutOfPlace()
    {
        var e = Assert.Throws<ArgumentException>(() => new ProcTable<TestP>([new TestP(0), new TestP(2)], _ => { }));
        Assert.Equal("all", e.ParamName);
        Assert.StartsWith("P2 stands at index 1", e.Message);
    }

    [Fact]
    public void ProcTable_IndexesPsByIdAndRefusesOthers()
    {
        (ProcTable<TestP> table, TestP[] ps, _) = Make(3);
        Assert.Same(ps[0], table[0]);
        Assert.Same(ps[2], table[2]);
        foreach (int bad in new[] { -1, 3, int.MinValue })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => table[bad]);
            Assert.Equal("id", e.ParamName);
            Assert.Equal(bad, e.ActualValue);
            Assert.StartsWith("P ids are 0..2", e.Message);
        }
    }

    [Fact]
    public void ProcTable_TakeAndReleaseRecordTheCallingThread()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(2);
        Assert.Equal(1, ps[1].Id);
        Assert.Equal(0, ps[1].Owner);
        table.Take(ps[1]);
        Assert.Equal(Environment.CurrentManagedThreadId, ps[1].Owner);
        Assert.False(table.IdleOrOrphaned(ps[1])); // held by this live thread
        var e = Assert.Throws<InvalidOperationException>(() => table.RequireIdle(ps[1]));
        Assert.Equal($"P1 is held by thread {Environment.CurrentManagedThreadId}", e.Message);
        table.RequireIdle(ps[0]);
        table.Release(ps[1]);
        Assert.Equal(0, ps[1].Owner);
        Assert.True(table.IdleOrOrphaned(ps[1]));
        table.RequireIdle(ps[1]);
        Assert.Empty(reclaimed);
    }

    [Fact]
    public void ProcTable_FindIdleTakesTheFirstIdlePAndRefusesWhenAllAreHeld()
    {
        (ProcTable<TestP> table, TestP[] ps, _) = Make(2);
        Assert.Same(ps[0], table.FindIdle());
        table.Take(ps[0]);
        Assert.Same(ps[1], table.FindIdle());
        table.Take(ps[1]);
        var e = Assert.Throws<InvalidOperationException>(table.FindIdle);
        Assert.Equal("all 2 Ps are held", e.Message);
        table.Release(ps[0]);
        Assert.Same(ps[0], table.FindIdle());
    }

    [Fact]
    public void ProcTable_APHeldByAnExitedThreadIsReclaimedOnceAndReported()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(2);
        Thread t = HoldOnOtherThread(() => table.Take(ps[1]), done: null);
        Assert.True(t.Join(Bound));
        Assert.NotEqual(0, ps[1].Owner);
        Assert.True(table.IdleOrOrphaned(ps[1]));
        Assert.Equal([1], reclaimed);
        Assert.Equal(0, ps[1].Owner);
        Assert.True(table.IdleOrOrphaned(ps[1]));
        Assert.Equal([1], reclaimed); // once
    }

    [Fact]
    public void ProcTable_FindIdleReclaimsAnOrphanOnTheWay()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(2);
        Thread t = HoldOnOtherThread(() => table.Take(ps[0]), done: null);
        Assert.True(t.Join(Bound));
        Assert.Same(ps[0], table.FindIdle());
        Assert.Equal([0], reclaimed);
    }

    [Fact]
    public void ProcTable_AnOwnerWithoutARecordedHolderIsNotReclaimed()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(1);
        ps[0].Owner = 12345; // set without Take: no holder thread to look at
        Assert.False(table.IdleOrOrphaned(ps[0]));
        Assert.Equal(12345, ps[0].Owner);
        Assert.Empty(reclaimed);
    }

    [Fact]
    public void ProcTable_StopTheWorldRefusesWhileAnyPIsHeld()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(3);
        table.RequireWorldStopped("StartMark");
        table.Take(ps[2]);
        var e = Assert.Throws<InvalidOperationException>(() => table.RequireWorldStopped("StartMark"));
        Assert.Equal($"StartMark is a stop-the-world point: P2 is held by thread {Environment.CurrentManagedThreadId}; release every P first", e.Message);
        table.Release(ps[2]);
        // An orphan does not stop the world: it is reclaimed.
        Thread t = HoldOnOtherThread(() => table.Take(ps[1]), done: null);
        Assert.True(t.Join(Bound));
        table.RequireWorldStopped("FinishMark");
        Assert.Equal([1], reclaimed);
    }

    [Fact]
    public void ProcTable_DisposeCheckAllowsTheCallersPsAndOrphansButNotALiveHolder()
    {
        (ProcTable<TestP> table, TestP[] ps, List<int> reclaimed) = Make(3);
        table.Take(ps[0]);
        table.RequireNoneHeldByOthers("Dispose"); // the caller's own P
        using var done = new ManualResetEventSlim();
        int other = 0;
        Thread t = HoldOnOtherThread(() =>
        {
            table.Take(ps[2]);
            other = Environment.CurrentManagedThreadId;
        }, done);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => table.RequireNoneHeldByOthers("Dispose"));
            Assert.Equal($"Dispose: P2 is still held by thread {other}", e.Message);
        }
        finally
        {
            done.Set();
            Assert.True(t.Join(Bound));
        }
        table.RequireNoneHeldByOthers("Dispose"); // the holder exited: reclaimed
        Assert.Equal([2], reclaimed);
        Assert.Equal(Environment.CurrentManagedThreadId, ps[0].Owner);
    }
}
