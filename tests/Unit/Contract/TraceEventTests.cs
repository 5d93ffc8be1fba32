// HeapOptions.OnTrace: both allocators emit the same HeapTraceEvent sequence for the same
// single-threaded workload (every event kind a single thread can reach), the events carry the
// sweepgen transitions of the protocol (an unswept span refilled after FinishMark goes
// sg-2 -> sg-1 -> sg -> sg+3), and without a hook the refill/sweep slow paths allocate nothing
// managed on the Optimized heap.
using Xunit;

namespace GoAlloc.Tests;

public class TraceEventTests
{
    private static IHeap Create(string impl, HeapOptions options) => impl switch
    {
        "reference" => new GoAlloc.Reference.MHeap(options),
        "optimized" => new GoAlloc.Optimized.MHeap(options),
        _ => throw new ArgumentOutOfRangeException(nameof(impl)),
    };

    private static List<HeapTraceEvent> Record(string impl, Action<IHeap> workload, int procs = 2)
    {
        var events = new List<HeapTraceEvent>();
        using IHeap heap = Create(impl, new HeapOptions { Procs = procs, MemProfileRate = 0, OnTrace = events.Add });
        workload(heap);
        heap.Verify();
        return events;
    }

    /// <summary>
    /// Two GC cycles touching every single-threaded protocol path: refills that grow, pop swept
    /// spans and sweep unswept ones; explicit and stale flushes; sweepone (keeping and freeing
    /// spans, a large one too); ensureSwept from FindObject; proportional sweep credit; re-pacing.
    /// </summary>
    private static void Workload(IHeap heap)
    {
        IProcessor p0 = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 20; i++)
            objs.Add(p0.Alloc(1024)); // 8 per span: two full spans and a partial one, still cached
        p0.Alloc(40_000); // dead after the first cycle: its sweep frees the span (FreeSpan)
        var small = new List<nint>();
        for (int i = 0; i < 16_000; i++)
            small.Add(p0.Alloc(256)); // ~4 MiB: enough unswept pages for the pacer to ask for credit
        p0.Release();

        heap.StartMark();
        for (int i = 0; i < objs.Count; i += 2)
            heap.Mark(objs[i]);
        for (int i = 0; i < small.Count; i += 3)
            heap.Mark(small[i]);
        heap.FinishMark();

        // P1 refills the 1024-byte class from an unswept span (P0's cache is stale and idle).
        IProcessor p1 = heap.AcquireP(1);
        for (int i = 0; i < 3; i++)
            p1.Alloc(1024);
        // Fresh 4 KiB spans: each pays sweep credit.
        for (int i = 0; i < 40; i++)
            p1.Alloc(4096);
        p1.Flush();
        p1.Release();

        heap.FindObject(objs[9], out _); // ensureSwept, unless credit sweeping got there first
        heap.FindObject(small[^1], out _);
        heap.SweepOne();
        heap.SetGcPercent(50);
        heap.FinishSweep(); // flushes idle P0 (its stale spans are swept as they are uncached)

        // Second cycle: reuse swept partial spans.
        p0 = heap.AcquireP(0);
        for (int i = 0; i < 5; i++)
            p0.Alloc(1024);
        p0.Release();
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
    }

    [Fact]
    public void SingleThreadedWorkload_BothAllocatorsEmitTheSameEvents()
    {
        List<HeapTraceEvent> reference = Record("reference", Workload);
        List<HeapTraceEvent> optimized = Record("optimized", Workload);
        for (int i = 0; i < Math.Min(reference.Count, optimized.Count); i++)
            Assert.True(reference[i] == optimized[i], $"event {i} differs:\n  reference {reference[i]}\n  optimized {optimized[i]}");
        Assert.Equal(reference.Count, optimized.Count);

        // Every kind a single thread can produce shows up.
        var seen = reference.Select(e => e.Kind).ToHashSet();
        foreach (HeapTraceKind k in Enum.GetValues<HeapTraceKind>())
            Assert.True(seen.Contains(k), $"no {k} event in the workload");
        int me = Environment.CurrentManagedThreadId;
        Assert.All(reference, e => Assert.Equal(me, e.Thread));
    }

    /// <summary>
    /// An event names the P its thread works for: a P's refills, flushes and sweep credit name it;
    /// world-stopped and heap-level operations name none (-1), also on a thread that just worked
    /// for a P (the acting P ends with the P operation: it is not a P id threaded through sweeps).
    /// </summary>
    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void Events_NameTheActingP_HeapLevelOperationsNameNone(string impl)
    {
        List<HeapTraceEvent> events = Record(impl, Workload);
        HeapTraceKind[] perP = [HeapTraceKind.AcquireP, HeapTraceKind.ReleaseP, HeapTraceKind.Refill, HeapTraceKind.Flush,
            HeapTraceKind.CacheSpanGrow, HeapTraceKind.CacheSpanPopSwept, HeapTraceKind.UncacheSpan, HeapTraceKind.CreditSweep];
        HeapTraceKind[] none = [HeapTraceKind.StartMark, HeapTraceKind.FinishMark, HeapTraceKind.SetGcPercent, HeapTraceKind.EnsureSwept];
        Assert.All(events.Where(e => perP.Contains(e.Kind)), e => Assert.InRange(e.P, 0, 1));
        Assert.All(events.Where(e => none.Contains(e.Kind)), e => Assert.Equal(-1, e.P));
        // P1's credit sweeps name P1; the explicit SweepOne after its release names none.
        Assert.Contains(events, e => e.Kind == HeapTraceKind.CreditSweep && e.P == 1);
        Assert.Contains(events, e => e.Kind == HeapTraceKind.SweepStart && e.P == 1);
        Assert.Contains(events, e => e.Kind == HeapTraceKind.SweepStart && e.P == -1);
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void RefillAfterFinishMark_UnsweptSpanGoesFromUnsweptThroughSweptToCached(string impl)
    {
        nint first = 0;
        List<HeapTraceEvent> events = Record(impl, heap =>
        {
            IProcessor p = heap.AcquireP(0);
            var objs = new List<nint>();
            for (int i = 0; i < 16; i++)
                objs.Add(p.Alloc(1024)); // two full spans (the second still cached)
            first = objs[0];
            p.Release();
            heap.StartMark();
            heap.Mark(objs[0]);
            heap.FinishMark();
            p = heap.AcquireP(1); // a P with an empty cache: refill must sweep an unswept span
            p.Alloc(1024);
            p.Release();
            heap.FinishSweep();
        });

        HeapTraceEvent finish = events.Single(e => e.Kind == HeapTraceKind.FinishMark);
        Assert.Equal(("sg-2", "sg"), (finish.Relative(finish.SweepGenBefore), finish.Relative(finish.SweepGenAfter)));

        // P1's refill after FinishMark: cacheSpan pops the first (full, unswept) span and wins it ...
        int i0 = events.FindIndex(e => e.Kind == HeapTraceKind.CacheSpanSweepUnswept && e.P == 1);
        Assert.True(i0 >= 0, "no cacheSpan sweep of an unswept span:\n" + string.Join("\n", events));
        HeapTraceEvent won = events[i0];
        Assert.Equal(0, won.SpanOffset); // the heap's first span
        Assert.Equal(("sg-2", "sg-1", "fullUnswept"), (won.Relative(won.SweepGenBefore), won.Relative(won.SweepGenAfter), won.Detail));
        Assert.Equal(finish.HeapSweepGen, won.HeapSweepGen);

        // ... sweeps it, keeping it for the cache (7 of 8 objects freed) ...
        HeapTraceEvent swept = events[i0 + 1];
        Assert.Equal((HeapTraceKind.SweepDone, 1, won.SpanOffset), (swept.Kind, swept.P, swept.SpanOffset));
        Assert.Equal(("sg-1", "sg"), (swept.Relative(swept.SweepGenBefore), swept.Relative(swept.SweepGenAfter)));
        Assert.Equal("7 of 8 objects freed, kept by its sweeper (cacheSpan)", swept.Detail);

        // ... and caches it: sg -> sg+3.
        HeapTraceEvent cached = events[i0 + 2];
        Assert.Equal((HeapTraceKind.Refill, 1, won.SpanOffset), (cached.Kind, cached.P, cached.SpanOffset));
        Assert.Equal(("sg", "sg+3"), (cached.Relative(cached.SweepGenBefore), cached.Relative(cached.SweepGenAfter)));
        Assert.Equal(won.SpanClass, cached.SpanClass);
        Assert.Equal(SpanClass.Make(GoAlloc.Model.SizeOracle.SizeClassOf(1024), noscan: false), won.SpanClass);

        // P0's second span was cached before FinishMark: stale (sg+1), swept as FinishSweep flushes idle P0.
        HeapTraceEvent flush = events.Single(e => e.Kind == HeapTraceKind.PrepareForSweep && e.P == 0);
        Assert.Equal((0, "sg-2", "sg"), (flush.P, flush.Relative(flush.SweepGenBefore), flush.Relative(flush.SweepGenAfter)));
        HeapTraceEvent stale = events.Single(e => e.Kind == HeapTraceKind.UncacheStaleSweep);
        Assert.Equal((0, "sg+1", "sg-1"), (stale.P, stale.Relative(stale.SweepGenBefore), stale.Relative(stale.SweepGenAfter)));
        Assert.True(events.IndexOf(stale) > events.IndexOf(flush));
    }

    [Fact]
    public void Relative_NamesTheProtocolStates()
    {
        var e = new HeapTraceEvent(HeapTraceKind.Refill, 0, 1, 0, 2, 0, 0, HeapSweepGen: 6);
        Assert.Equal(["sg-2", "sg-1", "sg", "sg+1", "sg+3", "100"], new uint[] { 4, 5, 6, 7, 9, 100 }.Select(e.Relative));
        Assert.False(new HeapTraceEvent(HeapTraceKind.StartMark, -1, 1, 0, -1, 0, 0, 2).HasSpan);
    }

    [Fact]
    public void WithoutAHook_RefillsAndSweepsAllocateNothingManaged_Optimized()
    {
        using var heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1, MemProfileRate = 0 });
        var keep = new List<nint>(40_000);
        void Round()
        {
            IProcessor p = heap.AcquireP(0);
            for (int i = 0; i < 20_000; i++)
            {
                nint a = p.Alloc(64 + (i % 4) * 256);
                if (i % 7 == 0 && keep.Count < keep.Capacity)
                    keep.Add(a);
            }
            p.Flush();
            p.Release();
        }
        Round(); // warm-up: arena mapped, page cache and span sets populated, methods jitted
        heap.StartMark();
        foreach (nint a in keep)
            heap.Mark(a);
        heap.FinishMark();
        Round();

        long before = GC.GetAllocatedBytesForCurrentThread();
        Round(); // refills: lazy sweeping of unswept spans, uncacheSpan, proportional sweep credit
        heap.SweepOne();
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(0, after - before);
    }
}
