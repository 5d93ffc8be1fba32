// Regression tests of issue 21, on real threads against each allocator: FindObject from a thread
// that holds no P while cycles pass and stale spans are flushed (spec/SPEC.md, "FindObject under
// concurrency"), a P held by a thread that exited, the background sweeper as a background thread,
// a heap that is never disposed, and a failed huge growth leaving the arena hints as they were.
// Hang detection: a thread that does not finish within a generous bound (60 s) fails the test;
// it is a hang detector, not a timing assertion (the loops are bounded by iteration counts).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

/// <summary>
/// Runs these tests alone, after the parallel ones: the finalizer test watches an arena address
/// that any heap created meanwhile would map again, and the threaded loops want the cores.
/// </summary>
[CollectionDefinition(nameof(HeapLifeCycleCollection), DisableParallelization = true)]
public sealed class HeapLifeCycleCollection;

public abstract class HeapLifeCycleContractTests
{
    private static readonly TimeSpan HangBound = TestBudget.HangBound(TimeSpan.FromSeconds(60));

    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    protected abstract bool SweeperOnBackgroundThread(IHeap heap);

    /// <summary>100 objects of 64 bytes on P0 (all in its cached span), P0 released.</summary>
    private static List<nint> SixtyFourByteObjects(IHeap heap)
    {
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 100; i++)
            objs.Add(p.Alloc(64));
        p.Release();
        return objs;
    }

    /// <summary>
    /// Runs finders threads that loop FindObject (no P) over objs, checking every answer, while
    /// the calling thread runs cycles of StartMark / Mark all / FinishMark / AcquireP().Release()
    /// (the acquire flushes P0's stale cached span and sweeps it). Returns the wrong answers seen.
    /// </summary>
    private static List<string> FindWhileCyclesPass(IHeap heap, List<nint> objs, int finders, int cycles)
    {
        var wrong = new List<string>();
        int stop = 0;
        var threads = new Thread[finders];
        for (int t = 0; t < finders; t++)
        {
            int first = t;
            threads[t] = new Thread(() =>
            {
                for (int i = first; Volatile.Read(ref stop) == 0; i++)
                {
                    nint a = objs[i % objs.Count];
                    if (!heap.FindObject(a + 3, out ObjectInfo info) || !info.Allocated || info.Base != a)
                    {
                        lock (wrong)
                            wrong.Add($"0x{a:x}: {info}");
                    }
                }
            })
            { IsBackground = true }; // a hung finder must not keep the test host alive
            threads[t].Start();
        }
        for (int c = 0; c < cycles; c++)
        {
            heap.StartMark();
            foreach (nint a in objs)
                heap.Mark(a);
            heap.FinishMark();
            heap.AcquireP().Release();
        }
        Volatile.Write(ref stop, 1);
        foreach (Thread t in threads)
            Assert.True(t.Join(HangBound), "a FindObject caller never returned (it waits for a sweepgen the cycle has moved past)");
        return wrong;
    }

    [Fact]
    public void FindObject_WaitEndsWhenTheCycleMovesOn()
    {
        IHeap heap = CreateHeap(new HeapOptions { Procs = 2, MemProfileRate = 0 });
        List<nint> objs = SixtyFourByteObjects(heap);
        List<string> wrong = FindWhileCyclesPass(heap, objs, finders: 1, cycles: TestBudget.Count(20_000));
        Assert.Empty(wrong);
        heap.Verify();
        heap.Dispose();
    }

    [Fact]
    public void FindObject_NeverReportsALiveObjectFreeWhileItsStaleSpanIsFlushed()
    {
        IHeap heap = CreateHeap(new HeapOptions { Procs = 2, MemProfileRate = 0 });
        List<nint> objs = SixtyFourByteObjects(heap);
        List<string> wrong = FindWhileCyclesPass(heap, objs, finders: 4, cycles: TestBudget.Count(100_000));
        Assert.True(wrong.Count == 0, $"{wrong.Count} live objects reported free, e.g. {string.Join("; ", wrong.Take(3))}");
        heap.Verify();
        heap.Dispose();
    }

    [Fact]
    public void AcquireP_ReclaimsAPWhoseThreadExitedHoldingIt()
    {
        IHeap heap = CreateHeap(new HeapOptions { Procs = 2, MemProfileRate = 0 });
        nint kept = 0;
        var dead = new Thread(() =>
        {
            IProcessor p = heap.AcquireP(1);
            kept = p.Alloc(64);
            // Exits without Release.
        });
        dead.Start();
        Assert.True(dead.Join(HangBound));
        // A stop-the-world point, an acquire of that very P, and Dispose all go through.
        heap.StartMark();
        heap.Mark(kept);
        heap.FinishMark();
        IProcessor again = heap.AcquireP(1);
        Assert.NotEqual(0, again.Alloc(64));
        again.Release();
        heap.FinishSweep();
        Assert.True(heap.FindObject(kept, out ObjectInfo info) && info.Allocated);
        heap.Verify();

        var dead2 = new Thread(() => heap.AcquireP(0).Alloc(64));
        dead2.Start();
        Assert.True(dead2.Join(HangBound));
        heap.Dispose();
        Assert.Throws<ObjectDisposedException>(heap.Verify);
    }

    [Fact]
    public void AcquireP_StillRefusesAPHeldByALiveThread()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var owner = new Thread(() =>
        {
            IProcessor p = heap.AcquireP(0);
            held.Set();
            release.Wait();
            p.Release();
        });
        owner.Start();
        held.Wait();
        Assert.Throws<InvalidOperationException>(() => heap.AcquireP(0));
        Assert.Throws<InvalidOperationException>(heap.StartMark);
        release.Set();
        Assert.True(owner.Join(HangBound));
        heap.AcquireP(0).Release();
    }

    [Fact]
    public void BackgroundSweeper_RunsOnABackgroundThread()
    {
        using IHeap heap = CreateHeap();
        heap.StartBackgroundSweeper();
        // A foreground thread would keep a process that returns from Main without Dispose alive
        // forever. The thread marks itself background as it starts: wait for that (hang detector).
        Assert.True(SpinWait.SpinUntil(() => SweeperOnBackgroundThread(heap), HangBound));
        heap.StopBackgroundSweeper();
    }

    /// <summary>Creates a heap with an arena (and a running background sweeper), never disposes it, and returns where its first arena is.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private nint AbandonedHeapArena(bool sweeper)
    {
        IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        p.Alloc(100);
        p.Release();
        if (sweeper)
            heap.StartBackgroundSweeper();
        return heap.ArenaBase;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Finalizer_ReleasesTheArenasOfAHeapNeverDisposed(bool sweeper)
    {
        nint arena = AbandonedHeapArena(sweeper);
        Assert.NotEmpty(Helpers.ProcMaps.Overlapping(arena, (nint)MallocConstants.HeapArenaBytes));
        // Hang detector: collect until the finalizer has run (a parked sweeper holds the heap only weakly).
        bool released = SpinWait.SpinUntil(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return Helpers.ProcMaps.Overlapping(arena, (nint)MallocConstants.HeapArenaBytes).Count == 0;
        }, HangBound);
        Assert.True(released, $"the arena at 0x{arena:x} of a heap nobody references is still mapped");
    }

    [Fact]
    public void OutOfMemory_FailedHugeGrowthLeavesTheArenaHintsAsTheyWere()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        p.Alloc(1000);
        nint first = heap.ArenaBase;
        // 1 TiB: the kernel refuses the reservation or the read/write mapping.
        Assert.Throws<OutOfMemoryException>(() => p.Alloc(MallocConstants.MaxAlloc));
        // 100 MiB needs new arenas: they continue the first one at its hint, as before the failure.
        nint big = p.Alloc(100 << 20, noscan: true, needzero: false);
        p.Release();
        Assert.InRange(big - first, 0, 4 * MallocConstants.HeapArenaBytes);
        heap.Verify();
    }
}

[Collection(nameof(HeapLifeCycleCollection))]
public sealed class ReferenceHeapLifeCycleTests : HeapLifeCycleContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);

    protected override bool SweeperOnBackgroundThread(IHeap heap) => ((GoAlloc.Reference.MHeap)heap).BackgroundSweeperOnBackgroundThread;

    [Fact]
    public void Metadata_ReservationStartsSmallAndGrowsWithTheHeap()
    {
        using var heap = new GoAlloc.Reference.MHeap(new HeapOptions { Procs = 1 });
        // Was 4 GiB up front: under an address-space limit the .NET runtime itself then failed.
        Assert.Equal(16L << 20, heap.MetadataReservedBytes);
        IProcessor p = heap.AcquireP();
        // 100,000 one-page spans of 8 KiB objects: 200,000 gcBits records of 128 B, 25 MiB.
        for (int i = 0; i < 100_000; i++)
            p.Alloc(8192, noscan: true, needzero: false);
        p.Release();
        Assert.InRange(heap.MetadataReservedBytes, (16L + 32) << 20, (16L + 32 + 64) << 20);
        heap.Verify();
    }
}

[Collection(nameof(HeapLifeCycleCollection))]
public sealed class OptimizedHeapLifeCycleTests : HeapLifeCycleContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);

    protected override bool SweeperOnBackgroundThread(IHeap heap) => ((GoAlloc.Optimized.MHeap)heap).BackgroundSweeperOnBackgroundThread;

    [Fact]
    public void Metadata_ReservationStartsSmallAndGrowsWithTheHeap()
    {
        using var heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1 });
        // Was 601 MiB up front (Go's summaries for the whole address space plus the arena index).
        long fresh = heap.MetadataReservedBytes;
        Assert.InRange(fresh, 16L << 20, (16L << 20) + (1L << 20));
        IProcessor p = heap.AcquireP();
        // 100,000 one-page spans of 8 KiB objects: 800 MiB of heap, 13 arenas, one chunk-map block.
        for (int i = 0; i < 100_000; i++)
            p.Alloc(8192, noscan: true, needzero: false);
        p.Release();
        Assert.InRange(heap.MetadataReservedBytes, fresh + (1L << 20), fresh + (2L << 20));
        heap.Verify();
    }
}
