// Threading parts of the heap contract: ownership of Ps across threads, the background sweeper and
// two allocating threads. Run against each allocator on its own (the lock-step comparison is
// single-threaded by definition).
using GoAlloc.Tests.Helpers;
using Xunit;
using static GoAlloc.Tests.Contract.HeapTestUtil;

namespace GoAlloc.Tests.Contract;

public abstract class HeapThreadingContractTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    [Fact]
    public void Processor_OwnedByOneThreadAtATime()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 2 });
        IProcessor p0 = heap.AcquireP(0);
        Assert.IsType<InvalidOperationException>(OnOtherThread(() => heap.AcquireP(0)));
        Assert.IsType<InvalidOperationException>(OnOtherThread(() => p0.Alloc(8)));
        Assert.IsType<InvalidOperationException>(OnOtherThread(p0.Release));
        Assert.IsType<InvalidOperationException>(OnOtherThread(p0.Flush));
        Assert.Throws<InvalidOperationException>(() => heap.AcquireP(0));
        IProcessor p1 = heap.AcquireP();
        Assert.Equal(1, p1.Id);
        Assert.Throws<InvalidOperationException>(() => heap.AcquireP());
        Assert.Throws<ArgumentOutOfRangeException>(() => heap.AcquireP(2));
        p0.Release();
        Assert.Throws<InvalidOperationException>(() => p0.Alloc(8));
        // An idle P on a thread that has never allocated (its cached thread id is still unset).
        Assert.IsType<InvalidOperationException>(OnOtherThread(() => p0.Alloc(8)));
        Assert.Throws<InvalidOperationException>(p0.Release);
        p1.Release();
        Assert.Null(OnOtherThread(() => heap.AcquireP(0).Release()));
        heap.Verify();
    }

    [Fact]
    public void Dispose_RefusedWhileAnotherThreadHoldsAP()
    {
        IHeap heap = CreateHeap(new HeapOptions { Procs = 2 });
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var owner = new Thread(() =>
        {
            IProcessor p = heap.AcquireP(1);
            p.Alloc(64);
            held.Set();
            release.Wait();
            p.Release();
        });
        owner.Start();
        held.Wait();
        Assert.Throws<InvalidOperationException>(heap.Dispose);
        heap.Verify(); // still usable: the refused Dispose changed nothing
        release.Set();
        Assert.True(owner.Join(TestBudget.HangBound(TimeSpan.FromMinutes(1))));
        heap.Dispose();
        Assert.Throws<ObjectDisposedException>(heap.Verify);
    }

    [Fact]
    public void BackgroundSweeper_SweepsTheCycleToDoneOnItsOwn()
    {
        using IHeap heap = CreateHeap();
        AllocGarbage(heap, 50_000);
        heap.StartBackgroundSweeper();
        heap.StartMark();
        heap.FinishMark();
        Assert.False(heap.SweepDone);
        Assert.True(SpinWait.SpinUntil(() => heap.SweepDone, TestBudget.HangBound(TimeSpan.FromMinutes(1))), "the background sweeper never finished the cycle");
        heap.StopBackgroundSweeper();
        HeapStats st = heap.ReadStats();
        Assert.Equal(0, st.HeapObjects);
        Assert.Equal(0, st.HeapInuse);
        Assert.Equal(-1, heap.SweepOne());
        heap.Verify();
    }

    /// <summary>count 48-byte objects that no one will mark.</summary>
    private static void AllocGarbage(IHeap heap, int count)
    {
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < count; i++)
            p.Alloc(48);
        p.Release();
    }

    /// <summary>Waits (bounded, a liveness guard) for the background sweeper to finish the cycle, stops it, and checks every object died.</summary>
    private static void AwaitSweptToNothing(IHeap heap, string never)
    {
        Assert.True(SpinWait.SpinUntil(() => heap.SweepDone, TestBudget.HangBound(TimeSpan.FromMinutes(1))), never);
        heap.StopBackgroundSweeper();
        Assert.Equal(0, heap.ReadStats().HeapObjects);
        heap.Verify();
    }

    /// <summary>A sweeper started after FinishMark still sweeps the cycle already waiting (Go's bgsweep starts ready to sweep).</summary>
    [Fact]
    public void BackgroundSweeper_StartedAfterACycleBeganSweepsIt()
    {
        using IHeap heap = CreateHeap();
        AllocGarbage(heap, 10_000);
        heap.StartMark();
        heap.FinishMark();
        heap.StartBackgroundSweeper();
        AwaitSweptToNothing(heap, "the sweeper started after FinishMark never swept the cycle");
    }

    /// <summary>Stop joins the sweeper thread, so the sweeper can be started again; a second Start while running is refused.</summary>
    [Fact]
    public void BackgroundSweeper_RestartsAfterStopAndRefusesADoubleStart()
    {
        using IHeap heap = CreateHeap();
        heap.StartBackgroundSweeper();
        Assert.Throws<InvalidOperationException>(heap.StartBackgroundSweeper);
        heap.StopBackgroundSweeper();
        heap.StopBackgroundSweeper(); // stopping a stopped sweeper is a no-op
        AllocGarbage(heap, 10_000);
        heap.StartBackgroundSweeper();
        heap.StartMark();
        heap.FinishMark();
        AwaitSweptToNothing(heap, "the restarted sweeper never finished the cycle");
    }

    [Fact]
    public void Concurrency_TwoThreadsWithTheirOwnPsAndTheBackgroundSweeper()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 2 });
        heap.StartBackgroundSweeper();
        var lives = new List<nint>[2];
        int allocsPerThread = TestBudget.Count(30_000, 3_000);
        for (int cycle = 0; cycle < 4; cycle++)
        {
            var threads = new Thread[2];
            for (int t = 0; t < 2; t++)
            {
                int id = t;
                lives[id] ??= [];
                threads[t] = new Thread(() =>
                {
                    IProcessor p = heap.AcquireP(id);
                    var rng = new Random(id * 100 + cycle);
                    for (int i = 0; i < allocsPerThread; i++)
                    {
                        nint a = p.Alloc(rng.Next(1, 3000), noscan: (i & 1) == 0);
                        if (rng.Next(5) == 0)
                            lives[id].Add(a);
                    }
                    if (cycle % 2 == 1)
                        p.Alloc(50_000);
                    p.Release();
                });
                threads[t].Start();
            }
            foreach (Thread t in threads)
                Assert.True(t.Join(TestBudget.HangBound(TimeSpan.FromMinutes(1))));
            heap.StartMark();
            foreach (nint a in lives[0].Concat(lives[1]))
                Assert.True(heap.Mark(a));
            heap.FinishMark();
        }
        heap.StopBackgroundSweeper();
        heap.FinishSweep();
        heap.Verify();
        foreach (nint a in lives[0].Concat(lives[1]))
            Assert.True(heap.FindObject(a, out ObjectInfo info) && info.Allocated, $"live 0x{a:x} was freed");
    }
}

public sealed class ReferenceHeapThreadingTests : HeapThreadingContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedHeapThreadingTests : HeapThreadingContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);
}
