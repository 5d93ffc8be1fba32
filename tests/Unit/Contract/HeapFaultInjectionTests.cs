// Fault injection (issue #20 item 1, spec/SPEC.md "Failures"): a fixed workload (tiny, small and
// large objects, a new arena, a GC cycle, scavenging, reuse of scavenged pages) is run again and
// again with one fault injected at a different step each time: the k-th mapping call fails
// (SysMem.InjectFailureAtCall: mmap / mprotect / madvise refused, as under an address-space limit)
// or the k-th trace event's hook throws (OnTrace is called at every step of refill, cacheSpan,
// uncacheSpan, sweep, flush and the stop-the-world points). After each run: the operation that hit
// the fault threw the injected exception and nothing else, Verify passes, the objects that were
// handed out still hold their pattern, and a follow-up workload on the same heap works.
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class HeapFaultInjectionTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    /// <summary>What a trace hook throws when the injection fires.</summary>
    private sealed class InjectedHookException() : Exception("injected hook failure");

    // Tiny, small (several classes), large under 16 pages, direct page allocation (>= 16 pages),
    // and one object bigger than an arena (a new 64 MiB reservation and mapping).
    private static readonly long[] Sizes = [8, 24, 64, 512, 4096, 32768, 40_000, 200_000];
    private const long ArenaSized = 70L << 20;

    private sealed class Run(IHeap heap)
    {
        public readonly List<(nint Addr, long Size, byte Pattern)> Live = [];
        public int Faults;
        public Exception? Fault;
        private byte _next = 1;

        /// <summary>Runs one operation; an injected fault (T) is counted, anything else fails the test.</summary>
        public void Step<T>(Action op) where T : Exception
        {
            try
            {
                op();
            }
            catch (T e)
            {
                Faults++;
                Fault = e;
            }
        }

        public void AllocRound<T>(int smallEach, bool arena) where T : Exception => Step<T>(() =>
        {
            IProcessor p = heap.AcquireP(0);
            try
            {
                foreach (long size in Sizes)
                {
                    for (int i = 0; i < (size <= SizeClasses.MaxSmallSize ? smallEach : 1); i++)
                        Add(p.Alloc(size, noscan: size < 16), size);
                }
                if (arena)
                    Add(p.Alloc(ArenaSized, noscan: true), ArenaSized);
            }
            finally
            {
                p.Release();
            }
        });

        private void Add(nint a, long size)
        {
            long n = Math.Min(size, 4096); // the first bytes carry the pattern
            HeapTestUtil.Fill(a, n, _next);
            Live.Add((a, n, _next));
            _next = (byte)(_next % 250 + 1);
        }

        /// <summary>A GC cycle that keeps every other object (the rest are freed by the sweep).</summary>
        public void Cycle<T>() where T : Exception
        {
            Step<T>(heap.StartMark);
            if (heap.Phase == GcPhase.Mark)
            {
                var kept = new List<(nint, long, byte)>();
                for (int i = 0; i < Live.Count; i++)
                {
                    if (i % 2 == 0)
                    {
                        Assert.True(heap.Mark(Live[i].Addr));
                        kept.Add(Live[i]);
                    }
                }
                Live.Clear();
                Live.AddRange(kept);
                Step<T>(heap.FinishMark);
                // A refused FinishMark (the Optimized sets aside the sweep's mark bitmaps first)
                // leaves the heap in the mark phase, ready to be finished again.
                if (heap.Phase == GcPhase.Mark)
                    heap.FinishMark();
            }
            Step<T>(heap.FinishSweep);
        }

        public void CheckPatterns()
        {
            foreach ((nint a, long n, byte pattern) in Live)
                Assert.True(HeapTestUtil.IsFilled(a, n, pattern), $"object 0x{a:x} lost its pattern {pattern}");
        }
    }

    /// <summary>The workload; faults of type T are tolerated at every step.</summary>
    private static void Workload<T>(Run run, IHeap heap) where T : Exception
    {
        run.AllocRound<T>(smallEach: 40, arena: true);
        run.Cycle<T>();
        run.Step<T>(() => heap.Scavenge(long.MaxValue));
        run.AllocRound<T>(smallEach: 40, arena: false); // reuses swept slots and scavenged pages
        run.Cycle<T>();
    }

    /// <summary>After a faulted run: consistent, patterns intact, and the heap still serves a full workload.</summary>
    private static void CheckRecovered(Run run, IHeap heap, string where)
    {
        try
        {
            heap.Verify();
            run.CheckPatterns();
            Workload<NeverThrown>(run, heap);
            heap.Verify();
            run.CheckPatterns();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"after {where}: {e}\n--- the injected fault: {run.Fault}");
        }
    }

    private sealed class NeverThrown : Exception;

    /// <summary>Counts the mapping calls the workload makes on a fresh heap.</summary>
    private int MappingCalls()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 2 });
        SysMem.InjectFailureAtCall(int.MaxValue);
        try
        {
            Workload<NeverThrown>(new Run(heap), heap);
            return int.MaxValue - SysMem.InjectionCountdown;
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
    }

    [Fact]
    public void INV_FailureLeavesHeapConsistent_MappingFailureAtEachStep()
    {
        int calls = MappingCalls();
        Assert.True(calls >= 3, $"the workload made only {calls} mapping calls");
        // Every call in turn; under Mutation (each mutant runs this) about 24 of them, spread out
        // (all of the Reference's, every other one of the Optimized's).
        int stride = TestBudget.IsMutationRun ? Math.Max(1, calls / 24) : 1;
        for (int k = 1; k <= calls; k += stride)
        {
            using IHeap heap = CreateHeap(new HeapOptions { Procs = 2 });
            var run = new Run(heap);
            SysMem.InjectFailureAtCall(k);
            try
            {
                Workload<OutOfMemoryException>(run, heap);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"mapping call {k} of {calls} failed, then: {e}\n--- the injected fault: {run.Fault}");
            }
            finally
            {
                SysMem.InjectFailureAtCall(0);
            }
            // 0: the heap absorbed the failure (an arena hint refused: it tries the next one; a
            // swept span's set could not grow: the span waits in the overflow list).
            Assert.InRange(run.Faults, 0, 1);
            CheckRecovered(run, heap, $"mapping call {k} of {calls} failed");
        }
    }

    [Fact]
    public void INV_FailureLeavesHeapConsistent_TraceHookThrowsAtEachStep()
    {
        int events = 0;
        using (IHeap counting = CreateHeap(new HeapOptions { Procs = 2, OnTrace = _ => events++ }))
            Workload<NeverThrown>(new Run(counting), counting);
        Assert.True(events > 20, $"the workload emitted only {events} trace events");
        // Every step in turn; under Mutation (each mutant runs this) about 8 of them, spread out.
        int stride = TestBudget.IsMutationRun ? Math.Max(1, events / 8) : 1;
        for (int k = 1; k <= events; k += stride)
        {
            int seen = 0, fireAt = k;
            using IHeap heap = CreateHeap(new HeapOptions
            {
                Procs = 2,
                OnTrace = _ =>
                {
                    if (++seen == fireAt)
                        throw new InjectedHookException();
                },
            });
            var run = new Run(heap);
            Workload<InjectedHookException>(run, heap);
            Assert.Equal(1, run.Faults);
            CheckRecovered(run, heap, $"trace event {k} of {events} threw");
        }
    }

    /// <summary>An OnFree hook that throws on the background sweeper's thread: the process survives, the next FinishSweep rethrows it.</summary>
    [Fact]
    public void INV_FailureLeavesHeapConsistent_OnFreeThrowsOnBackgroundSweeper()
    {
        int frees = 0;
        using IHeap heap = CreateHeap(new HeapOptions
        {
            Procs = 1,
            OnFree = (_, _) =>
            {
                if (Interlocked.Increment(ref frees) == 5)
                    throw new InjectedHookException();
            },
        });
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 2000; i++)
            p.Alloc(64);
        p.Flush();
        p.Release();
        heap.StartBackgroundSweeper();
        heap.StartMark();
        heap.FinishMark(); // kicks the sweeper: it frees all 2000 and its hook throws once
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref frees) == 2000, TestBudget.HangBound(TimeSpan.FromMinutes(2))), $"the sweeper freed {frees} of 2000");
        // Stop joins the sweeper's thread, which hands its fault over at the end of its round.
        Assert.Throws<InjectedHookException>(heap.StopBackgroundSweeper);
        heap.FinishSweep(); // delivered once: nothing left to rethrow
        heap.Verify();
        Assert.Equal(2000, Volatile.Read(ref frees));
        Assert.Equal(0, heap.ReadStats().HeapAlloc);
    }

    /// <summary>An OnSample hook that throws: the allocation it reports happened (and counts), then the exception reaches the caller.</summary>
    [Fact]
    public void INV_FailureLeavesHeapConsistent_OnSampleThrows()
    {
        using IHeap heap = CreateHeap(new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 1,
            OnSample = _ => throw new InjectedHookException(),
        });
        IProcessor p = heap.AcquireP(0);
        Assert.Throws<InjectedHookException>(() => p.Alloc(64));
        Assert.Throws<InjectedHookException>(() => p.Alloc(100_000));
        p.Release();
        heap.Verify();
        HeapStats s = heap.ReadStats();
        Assert.Equal(2, s.Mallocs);
        Assert.Equal(64 + 106_496, s.HeapAlloc);
    }
}

public sealed class ReferenceHeapFaultInjectionTests : HeapFaultInjectionTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedHeapFaultInjectionTests : HeapFaultInjectionTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);
}
