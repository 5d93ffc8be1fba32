// INV-SWEEP-6, the postcondition of a wait for a span's sweep (spec/SPEC.md 4.7, ensureSwept): once
// the wait returns, unless the span was freed or the cycle moved on past the sweepgen the caller
// read, the span is at sg (sg+3 once cached) and, outside the mark phase, its mark bits are
// consumed. FindObject checks it after every ensureSwept (MHeap.CheckSweptAfterWait). These tests
// put a span in each state by hand and call the check directly, on the Optimized only: the
// Reference's FindObject sweeps the span under the heap lock and never waits, so it has no such
// check (a sweep cannot be observed half-done there). The
// seeded bugs EnsureSweptReturnsOnClaim and SweepgenPublishedBeforeBitmaps show it catching a sweep
// observed half-done under Coyote (tests/Concurrency, findobject-across-cycles).
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed unsafe class EnsureSweptPostconditionTests
{
    /// <summary>
    /// What a test needs of one implementation's span internals. A span is named by a handle (the
    /// Optimized's MSpan* as nint) taken while it is in use, so a freed span can still be read.
    /// </summary>
    public sealed record Impl(
        string Name,
        Func<HeapOptions, IHeap> Create,
        Func<IHeap, uint> SweepGen,
        Func<IHeap, nint, object> Span,
        Func<object, uint> SpanSweepGen,
        Action<object, uint> SetSpanSweepGen,
        Func<IHeap, object, bool> Claim,
        Action<IHeap, object> Sweep,
        Action<object, nint, bool> SetMarkBit,
        Action<IHeap, object, uint> Check,
        Action<IHeap> Drain)
    {
        public override string ToString() => Name;
    }

    private static readonly Impl Optimized = new(
        "Optimized",
        o => new GoAlloc.Optimized.MHeap(o),
        h => O(h).SweepGen,
        (h, p) => (nint)O(h).SpanOf(p),
        s => OS(s)->SweepGen,
        (s, g) => OS(s)->SweepGen = g,
        (h, s) => GoAlloc.Optimized.MHeap.TryAcquire(OS(s), O(h).SweepGen),
        (h, s) => O(h).SweepSpan(OS(s), preserve: false),
        (s, p, on) => SetBit(OS(s)->GcMarkBits, OS(s)->ObjIndex(p), on),
        (h, s, sg) => O(h).CheckSweptAfterWait(OS(s), sg),
        h => O(h).ActiveSweepRef.MarkDrained());

    public static TheoryData<Impl> Impls => new() { Optimized };

    private static GoAlloc.Optimized.MHeap O(IHeap h) => (GoAlloc.Optimized.MHeap)h;
    private static GoAlloc.Optimized.MSpan* OS(object s) => (GoAlloc.Optimized.MSpan*)(nint)s;

    private static void SetBit(byte* bits, int i, bool on)
    {
        if (on)
            bits[i >> 3] |= (byte)(1 << (i & 7));
        else
            bits[i >> 3] &= (byte)~(1 << (i & 7));
    }

    /// <summary>
    /// 16 objects of 1 KiB allocated on P0 (two spans of 8), then one mark cycle that marks all of
    /// them (or none): after FinishMark the first, full and uncached span is at sg-2, unswept and
    /// unclaimed, and the second is P0's stale cached span. Returns the objects.
    /// </summary>
    internal static List<nint> SixteenKiBObjectsAfterACycle(IHeap heap, bool mark = true)
    {
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 16; i++)
            objs.Add(p.Alloc(1024));
        p.Release();
        heap.StartMark();
        if (mark)
        {
            foreach (nint a in objs)
                heap.Mark(a);
        }
        heap.FinishMark();
        return objs;
    }

    private static nint UnsweptSpan(IHeap heap, bool mark = true) => SixteenKiBObjectsAfterACycle(heap, mark)[0];

    private static IHeap NewHeap(Impl impl) => impl.Create(new HeapOptions { Procs = 1, MemProfileRate = 0 });

    private static void AssertCaught(Action check, string words)
    {
        var e = Assert.Throws<HeapInvariantException>(check);
        Assert.Equal("INV-SWEEP-6", e.InvariantId);
        Assert.Contains(words, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_AWaitThatEndsOnASweepersClaimIsCaught(Impl impl)
    {
        using IHeap heap = NewHeap(impl);
        nint a = UnsweptSpan(heap);
        object sa = impl.Span(heap, a);
        uint sg = impl.SweepGen(heap);
        Assert.Equal(sg - 2, impl.SpanSweepGen(sa));
        AssertCaught(() => impl.Check(heap, sa, sg), "has not finished"); // sg-2: never swept
        Assert.True(impl.Claim(heap, sa));
        Assert.Equal(sg - 1, impl.SpanSweepGen(sa));
        AssertCaught(() => impl.Check(heap, sa, sg), "has not finished"); // sg-1: claimed, sweep in progress
        impl.Sweep(heap, sa);
        Assert.Equal(sg, impl.SpanSweepGen(sa));
        impl.Check(heap, sa, sg); // swept: the postcondition holds
        heap.FinishSweep();
        heap.Verify();
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_HoldsForASpanCachedSinceItsSweep(Impl impl)
    {
        using IHeap heap = NewHeap(impl);
        nint a = UnsweptSpan(heap);
        object sa = impl.Span(heap, a);
        uint sg = impl.SweepGen(heap);
        heap.FinishSweep();
        // The second span of the class was cached on P0 last cycle; refilling sweeps and caches a span: sg+3.
        IProcessor p = heap.AcquireP(0);
        nint b = p.Alloc(1024);
        object sb = impl.Span(heap, b);
        Assert.Equal(sg + 3, impl.SpanSweepGen(sb));
        impl.Check(heap, sb, sg);
        impl.Check(heap, sa, sg);
        p.Release();
        heap.Verify();
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_MarkBitsLeftAfterTheSweepAreCaughtOutsideTheMarkPhaseOnly(Impl impl)
    {
        using IHeap heap = NewHeap(impl);
        nint a = UnsweptSpan(heap);
        object sa = impl.Span(heap, a);
        uint sg = impl.SweepGen(heap);
        heap.FinishSweep();
        Assert.Equal(sg, impl.SpanSweepGen(sa));
        impl.Check(heap, sa, sg);
        // A sweep that published sg before it replaced the bitmaps leaves the cycle's marks in place.
        nint a5 = a + 5 * 1024;
        impl.SetMarkBit(sa, a5, true);
        AssertCaught(() => impl.Check(heap, sa, sg), "but 1 mark bits are not consumed");
        // In the mark phase the bits are this cycle's marks: nothing to say (sg is unchanged by StartMark).
        heap.StartMark();
        Assert.Equal(sg, impl.SweepGen(heap));
        impl.Check(heap, sa, sg);
        impl.SetMarkBit(sa, a5, false);
        heap.Mark(a5);
        heap.FinishMark();
        heap.FinishSweep();
        heap.Verify();
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_FindObjectChecksItAfterItsWait(Impl impl)
    {
        // The sweeper FindObject waits for publishes sg without consuming the mark bits (the seeded
        // bug SweepgenPublishedBeforeBitmaps, played here by the trace hook the waiter calls when
        // it starts waiting): the wait ends, and FindObject's check must refuse the span.
        object? sa = null;
        uint sg = 0;
        using IHeap heap = impl.Create(new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 0,
            OnTrace = e =>
            {
                if (e.Kind == HeapTraceKind.EnsureSwept && e.Detail == "waiting for its sweeper")
                    impl.SetSpanSweepGen(sa!, sg);
            },
        });
        List<nint> objs = SixteenKiBObjectsAfterACycle(heap);
        sa = impl.Span(heap, objs[0]);
        sg = impl.SweepGen(heap);
        impl.Drain(heap); // activeSweep.begin refuses, so the finder waits instead of sweeping the span itself
        var e = Assert.Throws<HeapInvariantException>(() => heap.FindObject(objs[3] + 5, out _));
        Assert.Equal("INV-SWEEP-6", e.InvariantId);
        Assert.Contains("but 8 mark bits are not consumed", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_SaysNothingOnceTheCycleMovedOnPastTheCallersSweepgen(Impl impl)
    {
        using IHeap heap = NewHeap(impl);
        nint a = UnsweptSpan(heap);
        object sa = impl.Span(heap, a);
        uint sg = impl.SweepGen(heap);
        Assert.True(impl.Claim(heap, sa));
        // A caller that read the sweepgen one cycle ago: the span's sg-1 is that cycle's sg+1.
        impl.Check(heap, sa, sg - 2);
        impl.Sweep(heap, sa);
        heap.FinishSweep();
        heap.Verify();
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void INV_SWEEP_6_SaysNothingOfAFreedSpan(Impl impl)
    {
        using IHeap heap = NewHeap(impl);
        nint a = UnsweptSpan(heap, mark: false);
        object sa = impl.Span(heap, a);
        uint sg = impl.SweepGen(heap);
        Assert.True(impl.Claim(heap, sa));
        impl.Sweep(heap, sa); // nothing marked: the span goes back to the heap
        // Freed (the record may still read any sweepgen, here sg-1 by hand): the wait ended
        // because the span is gone, and nothing is claimed of it.
        uint kept = impl.SpanSweepGen(sa);
        impl.SetSpanSweepGen(sa, sg - 1);
        impl.Check(heap, sa, sg);
        impl.SetSpanSweepGen(sa, kept);
        heap.FinishSweep();
        heap.Verify();
    }
}
