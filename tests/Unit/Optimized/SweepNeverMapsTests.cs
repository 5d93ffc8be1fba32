// The Optimized sweep under refused mappings (issue #20, spec/SPEC.md 4.15). Go's mspan.sweep may
// map (a new gcBits arena for the span's next mark bitmap, a span-set block for the swept span)
// and treats a refusal as fatal; here the span is already owned by its sweeper then, so neither
// may fail half-way: FinishMark sets aside the mark bitmaps of every span in use (GcBits'
// reserve, drawn from arenas span setup mapped ahead; a refusal there would leave the heap in the
// mark phase), and a swept span whose set cannot grow waits in the heap's swept overflow list,
// which StartMark drains.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class SweepNeverMapsTests
{
    private static bool AllZero(byte* p, long bytes) => new ReadOnlySpan<byte>(p, (int)bytes).IndexOfAnyExcept((byte)0) < 0;

    [Fact]
    public void GcBits_SweepBitmapsComeFromTheReserveWithoutMapping()
    {
        using var bits = new GcBits();
        bits.NextEpoch(sweepBytes: 3 * GcBits.PerArenaBytes);
        Assert.Equal(3, bits.ReservedArenaCount);
        Assert.Equal(3, bits.ArenaCount);
        var seen = new HashSet<nint>();
        SysMem.InjectFailureAtCall(1);
        try
        {
            // Every bitmap size, as many bytes as were asked for: no mapping call at all.
            long taken = 0;
            for (int i = 0; taken + 128 <= 3 * GcBits.PerArenaBytes; i++)
            {
                int nelems = 1 + i * 37 % 1024;
                byte* p = bits.NewSweepMarkBits(nelems);
                Assert.True(AllZero(p, GcBits.BitmapBytes(nelems)));
                new Span<byte>(p, (int)GcBits.BitmapBytes(nelems)).Fill(0xFF);
                Assert.True(seen.Add((nint)p));
                taken += GcBits.BitmapBytes(nelems);
            }
            Assert.Equal(1, SysMem.InjectionCountdown);
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal(3, bits.ArenaCount);
        Assert.Equal(0, bits.ReservedArenaCount);
    }

    [Fact]
    public void GcBits_RefusedReserveLeavesTheEpochUnrotated()
    {
        using var bits = new GcBits();
        byte* first = bits.NewMarkBits(1024);
        *first = 0xAB;
        SysMem.InjectFailureAtCall(2); // the reserve's second arena is refused
        try
        {
            Assert.Throws<OutOfMemoryException>(() => bits.NextEpoch(sweepBytes: 5 * GcBits.PerArenaBytes));
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal(1, bits.ReservedArenaCount); // the arena mapped before the refusal stays set aside
        // Not rotated: first's arena is still next, so it is recycled at the third rotation from
        // here, not the second.
        bits.NextEpoch();
        bits.NextEpoch();
        Assert.NotEqual((nint)first, (nint)bits.NewMarkBits(1024));
        Assert.Equal(0xAB, *first);
        bits.NextEpoch();
        Assert.Equal((nint)first, (nint)bits.NewMarkBits(1024));
        Assert.Equal(0, *first); // handed out cleared
    }

    [Fact]
    public void GcBits_ReserveDrawsOnThePreviousEpochBeforeMapping()
    {
        using var bits = new GcBits();
        // Two arenas' worth of bitmaps, rotated to previous: free after the next rotation.
        for (int i = 0; i < 600; i++) // 511 bitmaps of 128 B fill an arena
            bits.NewMarkBits(1024);
        Assert.Equal(2, bits.ArenaCount);
        bits.NextEpoch();
        bits.NextEpoch();
        bits.NextEpoch(sweepBytes: 2 * GcBits.PerArenaBytes);
        Assert.Equal(2, bits.ReservedArenaCount);
        Assert.Equal(2, bits.ArenaCount); // nothing mapped
        // A reserved arena that was used before is handed out cleared.
        byte* p = bits.NewSweepMarkBits(1024);
        Assert.True(AllZero(p, 128));
    }

    [Fact]
    public void GcBits_SweepArenasRotateWithNext()
    {
        using var bits = new GcBits();
        bits.NextEpoch(sweepBytes: 1);
        byte* swept = bits.NewSweepMarkBits(64);
        *swept = 0xCD;
        // The sweep's bitmaps are the next cycle's mark bits: live for two more rotations.
        bits.NextEpoch();
        bits.NextEpoch();
        Assert.NotEqual((nint)swept, (nint)bits.NewMarkBits(64));
        Assert.Equal(0xCD, *swept);
        bits.NextEpoch();
        Assert.Equal((nint)swept, (nint)bits.NewMarkBits(64));
    }

    /// <summary>A heap with spans of many classes, all live, marked and ready to be swept.</summary>
    internal static (MHeap Heap, List<nint> Objs) MarkedHeap(Action<HeapTraceEvent>? onTrace = null)
    {
        var heap = new MHeap(new HeapOptions { Procs = 1, OnTrace = onTrace });
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        // Every small class a few times (their span sets take their first blocks), and large objects.
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            for (int i = 0; i < 3; i++)
                objs.Add(p.Alloc(SizeClasses.ClassToSize[c]));
        }
        for (int i = 0; i < 8; i++)
            objs.Add(p.Alloc(40_000 + i * 8192));
        p.Flush();
        p.Release();
        heap.StartMark();
        foreach (nint o in objs)
            Assert.True(heap.Mark(o));
        heap.FinishMark();
        return (heap, objs);
    }

    [Fact]
    public void INV_SweepMapsNothing_AndARefusedSetGrowthParksTheSpan()
    {
        int calls;
        (MHeap counting, _) = MarkedHeap();
        using (counting)
        {
            SysMem.InjectFailureAtCall(int.MaxValue);
            try
            {
                counting.FinishSweep();
                calls = int.MaxValue - SysMem.InjectionCountdown;
            }
            finally
            {
                SysMem.InjectFailureAtCall(0);
            }
        }
        // The sweep's only mapping calls are the swept sets' new blocks (pool chunks), never a bitmap.
        Assert.True(calls >= 1, "the sweep pushed into no set that needed a block: the test needs more classes");
        int parked = 0;
        for (int k = 1; k <= calls; k++)
        {
            (MHeap heap, List<nint> objs) = MarkedHeap();
            using (heap)
            {
                SysMem.InjectFailureAtCall(k);
                try
                {
                    heap.FinishSweep(); // absorbs the refusal
                    Assert.Equal(0, SysMem.InjectionCountdown); // it did fire
                }
                finally
                {
                    SysMem.InjectFailureAtCall(0);
                }
                int overflow = heap.OverflowSnapshot().Length;
                Assert.True(overflow >= 1, $"mapping call {k} of {calls} refused, but no span waits in the overflow list");
                parked += overflow;
                heap.Verify(); // the parked spans count as members of their swept sets
                // The next cycle drains the list; every object is still found and the heap works.
                heap.StartMark();
                Assert.Empty(heap.OverflowSnapshot());
                foreach (nint o in objs)
                    Assert.True(heap.Mark(o));
                heap.FinishMark();
                heap.FinishSweep();
                heap.Verify();
                IProcessor p = heap.AcquireP(0);
                for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
                    p.Alloc(SizeClasses.ClassToSize[c]);
                p.Release();
                heap.Verify();
            }
        }
        Assert.True(parked >= calls);
    }

    /// <summary>
    /// A heap that grew (spans in every class, a few thousand objects), then cycles that keep half,
    /// then nothing, and the same allocations again; returns the mapping calls made after growth.
    /// </summary>
    private static int GrowThenCollect(int refuseCall)
    {
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 4000; i++)
            objs.Add(p.Alloc(SizeClasses.ClassToSize[1 + i % (SizeClasses.NumSizeClasses - 1)]));
        for (int i = 0; i < 8; i++)
            objs.Add(p.Alloc(40_000 + i * 8192));
        p.Release();
        long inuse = heap.ReadStats().HeapInuse;
        int made;
        SysMem.InjectFailureAtCall(refuseCall);
        try
        {
            foreach (int keepEvery in new[] { 2, 0 })
            {
                heap.StartMark();
                for (int i = 0; keepEvery != 0 && i < objs.Count; i += keepEvery)
                    Assert.True(heap.Mark(objs[i]));
                heap.FinishMark();
                heap.FinishSweep();
                heap.Verify();
            }
            Assert.True(heap.ReadStats().HeapInuse < inuse, "the cycles freed no span");
            // The freed memory serves allocations again; one that needs a new span's bitmaps may be
            // refused (OutOfMemoryException, undone), the rest are served.
            p = heap.AcquireP(0);
            int served = 0;
            for (int i = 0; i < 1000; i++)
            {
                try
                {
                    p.Alloc(SizeClasses.ClassToSize[1 + i % (SizeClasses.NumSizeClasses - 1)]);
                    served++;
                }
                catch (OutOfMemoryException)
                {
                }
            }
            p.Release();
            Assert.True(served >= 999, $"only {served} of 1,000 allocations served after one refused mapping");
            made = refuseCall == int.MaxValue ? int.MaxValue - SysMem.InjectionCountdown : 0;
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        heap.Verify();
        return made;
    }

    [Fact]
    public void INV_GcCycleAfterGrowthAbsorbsEveryRefusal()
    {
        // After growth, the cycles need no bitmap arena (span setup mapped them ahead); what they
        // may still map is a swept set's first spine or block, and each such refusal is absorbed
        // by the overflow list: every cycle runs (none throws), frees, and the memory is reused.
        int calls = GrowThenCollect(int.MaxValue);
        for (int k = 1; k <= calls; k++)
            GrowThenCollect(k);
    }
}
