// The swim lanes of `alloc reproduce --swimlane` are read back from the lines Interleaving prints
// (SwimLaneData, beside Interleaving in src/Concurrency): for every HeapTraceKind, the parsed step has the event's
// number, thread and P, and, where the line shows them, its span offset, span class and sweepgen
// (relative to the heap's sg, as printed). A change to Interleaving's format that the swim lanes
// could no longer read fails here.
using Xunit;

namespace GoAlloc.Concurrency;

public class InterleavingSwimLaneTests
{
    private const uint HeapSg = 6;

    /// <summary>A span-naming event of each kind at the sweepgens the protocol gives it (relative to HeapSg).</summary>
    public static TheoryData<HeapTraceKind, int, int, bool> Events()
    {
        var data = new TheoryData<HeapTraceKind, int, int, bool>();
        foreach (HeapTraceKind kind in Enum.GetValues<HeapTraceKind>())
        {
            (int before, int after) = kind switch
            {
                HeapTraceKind.Refill => (0, 3),
                HeapTraceKind.CacheSpanSweepUnswept or HeapTraceKind.SweepStart or HeapTraceKind.EnsureSwept => (-2, -1),
                HeapTraceKind.UncacheSpan => (3, 0),
                HeapTraceKind.UncacheStaleSweep => (1, -1),
                HeapTraceKind.SweepDone => (-1, 0),
                _ => (0, 0),
            };
            data.Add(kind, before, after, true);
            data.Add(kind, before, after, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void SwimLaneData_ReadsEveryInterleavingLine(HeapTraceKind kind, int before, int after, bool withP)
    {
        bool spanKind = kind is HeapTraceKind.Refill or HeapTraceKind.CacheSpanPopSwept or HeapTraceKind.CacheSpanSweepUnswept
            or HeapTraceKind.CacheSpanGrow or HeapTraceKind.UncacheSpan or HeapTraceKind.UncacheStaleSweep or HeapTraceKind.SweepStart
            or HeapTraceKind.SweepDone or HeapTraceKind.FreeSpan or HeapTraceKind.EnsureSwept;
        var e = new HeapTraceEvent(kind, withP ? 1 : -1, 23, spanKind ? 0x1c000 : 0, spanKind ? 65 : -1,
            (uint)(HeapSg + before), (uint)(HeapSg + after), HeapSg, "partialUnswept");
        string line = Interleaving.Line(417, e);

        SwimStep? step = SwimLaneData.ParseStep(line);

        Assert.NotNull(step);
        Assert.Equal(417, step.Number);
        Assert.Equal(23, step.Thread);
        Assert.Equal(withP ? 1 : null, step.P);
        Assert.Equal(Interleaving.Describe(e), step.Text);
        Assert.False(string.IsNullOrEmpty(step.Operation));
        Assert.Equal(spanKind ? 0x1c000 : null, step.SpanOffset);
        Assert.Equal(spanKind ? "65 (1024 B noscan)" : null, step.SpanClass);
        string b = e.Relative(e.SweepGenBefore), a = e.Relative(e.SweepGenAfter);
        string? expected = kind switch
        {
            HeapTraceKind.FreeSpan => null,
            HeapTraceKind.CacheSpanPopSwept or HeapTraceKind.CacheSpanGrow => b,
            HeapTraceKind.CacheSpanSweepUnswept when before == after => b,
            HeapTraceKind.PrepareForSweep or HeapTraceKind.FinishMark => $"{e.SweepGenBefore} -> {e.SweepGenAfter}",
            _ when spanKind => $"{b} -> {a}",
            _ => null,          // the other kinds name no span and show no sweepgen
        };
        Assert.Equal(expected, step.SweepGen);
        if (line.Contains("(heap sg "))
            Assert.Equal(HeapSg, step.HeapSweepGen);
    }

    [Fact]
    public void SwimLaneData_GivesEachThreadItsLane()
    {
        HeapTraceEvent At(int p, int thread, HeapTraceKind kind) => new(kind, p, thread, 0, -1, HeapSg, HeapSg, HeapSg);
        string[] lines =
        [
            Interleaving.Line(1, At(0, 7, HeapTraceKind.AcquireP)),
            Interleaving.Line(2, At(-1, 11, HeapTraceKind.MarkDrained)),
            Interleaving.Line(3, At(1, 7, HeapTraceKind.AcquireP)),
            Interleaving.Line(4, At(0, 9, HeapTraceKind.ReleaseP)),
        ];
        SwimLaneData data = SwimLaneData.Parse(lines);
        Assert.Equal([7, 11, 9], data.Lanes.Select(l => l.Thread));
        Assert.Equal([0, 1], data.Lanes[0].Ps);
        Assert.Empty(data.Lanes[1].Ps);
        Assert.Equal([1, 3], data.Lanes[0].Steps.Select(s => s.Number));
    }
}
