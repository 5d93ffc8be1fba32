// The Optimized heap's SweepStart trace names the set sweepone took the span from: fullUnswept or
// partialUnswept, or "overflow" for a span parked in MHeap's overflow list (a C# addition: a swept
// span whose set could not map a block). A span parked across StartMark stands for its unswept set
// and is swept from the list by the next cycle; its trace must not claim a set it was never in.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class SweepOverflowTraceTests
{
    [Fact]
    public void SweepStart_NamesTheOverflowListForASpanSweptFromIt()
    {
        var events = new List<HeapTraceEvent>();
        // Refuse the sweep's mapping call k (parking spans), then StartMark's first (keeping them
        // parked): the first k for which StartMark could not push them.
        for (int k = 1; k <= 200; k++)
        {
            (MHeap heap, _) = SweepNeverMapsTests.MarkedHeap(events.Add);
            bool kept = false;
            try
            {
                SysMem.InjectFailureAtCall(k);
                try
                {
                    heap.FinishSweep();
                }
                finally
                {
                    SysMem.InjectFailureAtCall(0);
                }
                if (heap.OverflowSnapshot().Length == 0)
                    continue;
                SysMem.InjectFailureAtCall(1);
                try
                {
                    heap.StartMark();
                }
                finally
                {
                    kept = SysMem.InjectionCountdown == 0;
                    SysMem.InjectFailureAtCall(0);
                }
                if (!kept)
                    continue;
                nint[] parked = heap.OverflowSnapshot();
                Assert.NotEmpty(parked);
                // Trace events name a span by its base's offset from the arena base (read now: a
                // freed span's record is reused).
                long[] parkedAt = [.. parked.Select(sp => (long)(((MSpan*)sp)->StartAddr - heap.ArenaBase))];
                heap.FinishMark(); // nothing marked: every span is unswept and dead
                events.Clear();
                heap.FinishSweep();
                Assert.Empty(heap.OverflowSnapshot());
                heap.Verify();

                HeapTraceEvent[] starts = [.. events.Where(e => e.Kind == HeapTraceKind.SweepStart)];
                foreach (long at in parkedAt)
                {
                    HeapTraceEvent start = Assert.Single(starts, e => e.SpanOffset == at);
                    Assert.Equal("overflow", start.Detail);
                }
                // Every other span came from an unswept set, named as such.
                HeapTraceEvent[] fromSets = [.. starts.Where(e => !parkedAt.Contains(e.SpanOffset))];
                Assert.NotEmpty(fromSets);
                Assert.All(fromSets, e => Assert.True(e.Detail is "fullUnswept" or "partialUnswept", $"SweepStart detail '{e.Detail}'"));
                return;
            }
            finally
            {
                heap.Dispose();
            }
        }
        Assert.Fail("no refused sweep mapping left a span parked across StartMark");
    }
}
