// The Optimized heap's overflow list across a cycle (issue #20, spec/SPEC.md 4.15): spans parked
// because their swept set could not grow stay parked when StartMark cannot push them either; the
// list then stands for the unswept sets, the next sweep takes them from it (sweeping, freeing the
// unmarked ones and keeping the marked ones), and Verify accepts them as unswept until then.
// And mcentral.cacheSpan takes a parked partial span before it grows the heap.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class SweepOverflowTests
{
    /// <summary>Every small class three times and a few large objects, all marked, swept with mapping call k refused.</summary>
    private static (MHeap Heap, List<nint> Objs) Parked(int k, Action<HeapTraceEvent>? onTrace = null)
    {
        (MHeap heap, List<nint> objs) = SweepNeverMapsTests.MarkedHeap(onTrace);
        SysMem.InjectFailureAtCall(k);
        try
        {
            heap.FinishSweep();
        }
        finally
        {
            t_lastCountdown = SysMem.InjectionCountdown;
            SysMem.InjectFailureAtCall(0);
        }
        return (heap, objs);
    }

    [ThreadStatic]
    private static int t_lastCountdown; // SysMem's countdown when Parked's sweep returned

    /// <summary>The mapping calls FinishSweep makes in Parked's heap.</summary>
    private static int SweepMappingCalls()
    {
        (MHeap heap, _) = Parked(int.MaxValue);
        using (heap)
            return int.MaxValue - t_lastCountdown;
    }

    [Fact]
    public void INV_SWEEP_2_OverflowSpansAreSweptByTheNextCycle()
    {
        // The sweep's refused mapping k parks spans; for some k their set still cannot grow when
        // StartMark tries to push them (its first mapping call, refused too): find one.
        int calls = SweepMappingCalls();
        MHeap? heap = null;
        List<nint> objs = [];
        nint[] parked = [];
        for (int k = 1; k <= calls && heap == null; k++)
        {
            (MHeap h, List<nint> o) = Parked(k);
            parked = h.OverflowSnapshot();
            Assert.NotEmpty(parked);
            SysMem.InjectFailureAtCall(1);
            try
            {
                h.StartMark();
            }
            finally
            {
                bool refused = SysMem.InjectionCountdown == 0;
                SysMem.InjectFailureAtCall(0);
                if (refused)
                    (heap, objs) = (h, o);
                else
                    h.Dispose();
            }
        }
        Assert.True(heap != null, $"none of the sweep's {calls} refused mapping calls left a set that StartMark could not grow");
        using (heap)
        {
            // What StartMark could not push stays listed, now standing for the unswept sets.
            parked = heap.OverflowSnapshot();
            Assert.NotEmpty(parked);
            // Keep the objects outside the parked spans and the first object of each parked span.
            var inParked = new Dictionary<nint, List<nint>>();
            var keep = new List<nint>();
            foreach (nint o in objs)
            {
                Assert.True(heap.FindObject(o, out ObjectInfo info) && info.Allocated);
                nint span = parked.FirstOrDefault(sp => o >= ((MSpan*)sp)->StartAddr && o < ((MSpan*)sp)->End);
                if (span == 0)
                {
                    keep.Add(o);
                }
                else
                {
                    if (!inParked.TryGetValue(span, out List<nint>? list))
                        inParked[span] = list = [];
                    list.Add(o);
                }
            }
            Assert.NotEmpty(inParked);
            var dropped = new List<nint>();
            bool keepFirst = false; // the first parked span loses every object
            foreach (List<nint> list in inParked.Values)
            {
                // Every other parked span keeps one object; the others lose all of theirs.
                if (keepFirst)
                    keep.Add(list[0]);
                dropped.AddRange(keepFirst ? list.Skip(1) : list);
                keepFirst = !keepFirst;
            }
            foreach (nint o in keep)
                Assert.True(heap.Mark(o));
            long inuse = heap.ReadStats().HeapInuse;
            heap.FinishMark();
            // Unswept now, still in the list: Verify accepts them there until the sweep.
            heap.Verify();
            Assert.All(heap.OverflowSnapshot(), sp => Assert.Equal(heap.SweepGen - 2, ((MSpan*)sp)->SweepGen));
            heap.FinishSweep();
            Assert.Empty(heap.OverflowSnapshot());
            heap.Verify();
            foreach (nint o in keep)
                Assert.True(heap.FindObject(o, out ObjectInfo info) && info.Allocated, $"kept object 0x{o:x} was freed");
            foreach (nint o in dropped)
                Assert.False(heap.FindObject(o, out ObjectInfo info) && info.Allocated, $"dropped object 0x{o:x} survived the sweep");
            Assert.True(heap.ReadStats().HeapInuse < inuse, "the parked spans that lost every object were not freed");
        }
    }

    [Fact]
    public void INV_SWEEP_2_VerifyRejectsAListedSpanNotFlaggedAsParked()
    {
        (MHeap heap, _) = Parked(1);
        using (heap)
        {
            var s = (MSpan*)heap.OverflowSnapshot()[0];
            // The list and the spans' membership flags must agree.
            s->InOverflow = 0;
            var e = Assert.Throws<HeapInvariantException>(heap.Verify);
            Assert.Equal("INV-SWEEP-2", e.InvariantId);
            Assert.Contains("overflow list", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void INV_SWEEP_2_CacheSpanTakesAPartialSpanFromTheOverflowList()
    {
        static bool PartialSmall(nint sp) => ((MSpan*)sp)->SpanClass >> 1 != 0 && ((MSpan*)sp)->AllocCount < ((MSpan*)sp)->NElems;
        // The first refused sweep mapping that parks a partial span of a small class.
        int calls = SweepMappingCalls();
        Assert.InRange(calls, 1, 1000);
        var events = new List<HeapTraceEvent>();
        MHeap? heap = null;
        for (int k = 1; k <= calls && heap == null; k++)
        {
            (MHeap h, _) = Parked(k, events.Add);
            if (h.OverflowSnapshot().Any(PartialSmall))
                heap = h;
            else
                h.Dispose();
        }
        Assert.True(heap != null, $"none of the sweep's {calls} refused mapping calls parked a partial small span");
        using (heap)
        {
            nint parked = heap.OverflowSnapshot().First(PartialSmall);
            var s = (MSpan*)parked;
            int parkedBefore = heap.OverflowSnapshot().Length;
            IProcessor p = heap.AcquireP(0);
            // The other span class of the same size (noscan) has no span anywhere: it must not take
            // the parked one, which is swept and has room, but is not of its class.
            nint other = p.Alloc(s->ElemSize, noscan: (s->SpanClass & 1) == 0);
            Assert.False(other >= s->StartAddr && other < s->End, "a span of another class was taken from the overflow list");
            Assert.Contains(parked, heap.OverflowSnapshot());
            // Its own class: Parked holds three objects per class, so the parked span is its class's
            // only partial span; refilling takes it from the list and the heap does not grow.
            long inuse = heap.ReadStats().HeapInuse;
            events.Clear();
            nint obj = p.Alloc(s->ElemSize, noscan: (s->SpanClass & 1) != 0);
            Assert.InRange(obj, s->StartAddr, s->End - 1);
            Assert.Equal(inuse, heap.ReadStats().HeapInuse);
            Assert.Equal(parkedBefore - 1, heap.OverflowSnapshot().Length);
            Assert.DoesNotContain(parked, heap.OverflowSnapshot());
            Assert.Equal(0, s->InOverflow);
            HeapTraceEvent taken = Assert.Single(events, e => e.Kind == HeapTraceKind.CacheSpanPopSwept);
            Assert.Equal("overflow", taken.Detail);
            Assert.Equal(s->SpanClass, taken.SpanClass);
            p.Flush();
            p.Release();
            heap.Verify();
        }
    }
}
