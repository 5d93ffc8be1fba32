// Regression tests of issue #20 items 1 and 2 (every failure leaves a consistent heap; options
// outside their meaning are refused), against each allocator. Each failed before its fix: a
// 2 GiB object on dirty pages overflowed the zeroing length (OverflowException, then INV-SWEEP-2);
// a throwing OnFree left a span half-swept (INV-SWEEP-1); GcPercent accepted int.MinValue; Mark
// racing Dispose read unmapped arenas (AccessViolationException, the test host died).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class HeapFaultRegressionTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    /// <summary>A 2 GiB - 1 object on dirty pages: the zeroing length overflows int today (OverflowException, then INV-SWEEP-2).</summary>
    [Fact]
    public void HugeAllocOnDirtyPages_EitherSucceedsOrThrowsCleanly_AndVerifyPasses()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        p.Alloc(int.MaxValue, noscan: true, needzero: false);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep(); // its pages are free and dirty now
        p = heap.AcquireP(0);
        try
        {
            nint a = p.Alloc(int.MaxValue, noscan: true, needzero: true);
            Assert.NotEqual(0, a);
        }
        catch (OutOfMemoryException)
        {
            // A clean refusal is allowed; anything else is not.
        }
        p.Release();
        heap.Verify();
        p = heap.AcquireP(0);
        Assert.NotEqual(0, p.Alloc(64));
        p.Release();
        heap.Verify();
    }

    /// <summary>An OnFree hook that throws: the sweep must finish (or be undone) before the exception leaves the heap.</summary>
    [Fact]
    public void ThrowingOnFreeHook_LeavesTheHeapConsistent()
    {
        int frees = 0;
        using IHeap heap = CreateHeap(new HeapOptions
        {
            Procs = 1,
            OnFree = (_, _) =>
            {
                if (++frees == 3)
                    throw new InvalidOperationException("hook failure");
            },
        });
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 100; i++)
            p.Alloc(64);
        p.Release();
        heap.StartMark();
        heap.FinishMark();
        // P0's cached span is stale: FinishSweep flushes it and sweeps it, calling the hook.
        Assert.Throws<InvalidOperationException>(heap.FinishSweep);
        heap.Verify();
        heap.FinishSweep();
        heap.Verify();
    }

    [Theory]
    [InlineData(int.MinValue)]
    [InlineData(-2)]
    public void GcPercentBelowMinusOne_IsRefused(int percent)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CreateHeap(new HeapOptions { GcPercent = percent }).Dispose());
        using IHeap heap = CreateHeap();
        Assert.Throws<ArgumentOutOfRangeException>(() => heap.SetGcPercent(percent));
    }

    /// <summary>
    /// Dispose while other threads are inside Mark, FindObject, SweepOne, ReadStats and the
    /// background sweeper: each call either completes or throws ObjectDisposedException; nothing
    /// reads unmapped memory (before the fix: AccessViolationException in ArenaOf, host killed).
    /// </summary>
    [Fact]
    public void DisposeRacingPLessOperations_NeverFaults()
    {
        for (int round = 0; round < TestBudget.Count(40, min: 4); round++)
        {
            IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
            IProcessor p = heap.AcquireP(0);
            var objs = new nint[2000];
            for (int i = 0; i < objs.Length; i++)
                objs[i] = p.Alloc(i % 2 == 0 ? 64 : 40_000);
            p.Release();
            heap.StartBackgroundSweeper();
            heap.StartMark();
            using var started = new CountdownEvent(4);
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            Thread Worker(Action<int> op) => new(() =>
            {
                started.Signal();
                try
                {
                    for (int i = 0; ; i++)
                        op(i);
                }
                catch (ObjectDisposedException)
                {
                    // the heap went away: the only allowed way out
                }
                catch (Exception e)
                {
                    errors.Enqueue(e);
                }
            });
            Thread[] threads =
            [
                Worker(i => heap.Mark(objs[i % objs.Length])),
                Worker(i => heap.FindObject(objs[i % objs.Length] + 8, out _)),
                Worker(_ => heap.SweepOne()),
                Worker(_ => heap.ReadStats()),
            ];
            foreach (Thread t in threads)
                t.Start();
            started.Wait();
            heap.Dispose();
            foreach (Thread t in threads)
                Assert.True(t.Join(TestBudget.HangBound(TimeSpan.FromMinutes(1))));
            Assert.Empty(errors);
        }
    }

    /// <summary>Mark and FindObject answer for any address at all: null, the zero base, unmapped arena slots, the top of the address space.</summary>
    [Fact]
    public void MarkAndFindObject_AnyAddress_NeverFault()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        nint obj = p.Alloc(64);
        p.Release();
        nint arena = heap.ArenaBase;
        nint[] addresses =
        [
            0, 1, heap.ZeroBase, heap.ZeroBase + 7, arena - 1, arena + (nint)MallocConstants.HeapArenaBytes,
            arena + (nint)MallocConstants.HeapArenaBytes * 2 + 4096, arena - (nint)MallocConstants.HeapArenaBytes,
            unchecked((nint)(1L << 47) - 1), unchecked((nint)(1L << 47)), unchecked((nint)(1L << 48)), nint.MaxValue, nint.MinValue, -1,
        ];
        heap.StartMark();
        foreach (nint a in addresses)
        {
            Assert.False(heap.Mark(a), $"Mark(0x{a:x})");
            Assert.False(heap.FindObject(a, out _), $"FindObject(0x{a:x})");
        }
        Assert.True(heap.Mark(obj));
        heap.FinishMark();
        heap.FinishSweep();
        Assert.Equal(addresses.Length, heap.ReadStats().BadMarks);
        heap.Verify();
    }
}

public sealed class ReferenceHeapFaultRegressionTests : HeapFaultRegressionTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedHeapFaultRegressionTests : HeapFaultRegressionTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);
}
