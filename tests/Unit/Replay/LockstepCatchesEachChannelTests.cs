// The lock-step comparator checks itself: for every channel it compares (the address Alloc
// returns, the freed list, the samples, the exception type, FindObject, Mark, SweepOne, Scavenge,
// SweepDone, the P's id and every HeapStats field, found by reflection), one workload runs on
// LockstepHeap(Reference, DivergentHeap(Optimized)) where the second heap differs on that channel
// alone, and the comparator must throw EquivalenceException naming it; LockstepHeap(Reference,
// Optimized) passes the same workload. A field added to HeapStats (or ObjectInfo, SizeClassStats,
// SampledAllocation) is a new channel here automatically, so it fails until the comparator
// compares it (the comparator once missed BySize[].Size, the BySize length and Phase).
using GoAlloc.Model;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Lockstep;

public sealed class LockstepCatchesEachChannelTests
{
    public static TheoryData<string> Channels()
    {
        var d = new TheoryData<string>();
        foreach (Divergence x in Divergence.All)
            d.Add(x.Name);
        return d;
    }

    private static readonly HeapOptions s_options = new() { Procs = 2, MemProfileRate = 1 };

    private static LockstepHeap Honest() =>
        new(o => new GoAlloc.Reference.MHeap(o), o => new GoAlloc.Optimized.MHeap(o), s_options, statsEvery: 1);

    private static LockstepHeap Diverging(Divergence d) =>
        new(o => new GoAlloc.Reference.MHeap(o), o => new DivergentHeap(x => new GoAlloc.Optimized.MHeap(x), o, d), s_options, statsEvery: 1);

    /// <summary>Runs call, which must throw T (the workload's contract refusals); any other exception goes through.</summary>
    private static void Refused<T>(Action call) where T : Exception
    {
        try
        {
            call();
        }
        catch (T)
        {
            return;
        }
        Assert.Fail($"expected {typeof(T).Name}");
    }

    /// <summary>
    /// A small workload that carries something on every channel: small, tiny and large objects
    /// (every one sampled), a refused allocation, a GC cycle with interior and bogus marks, single
    /// sweeps and a full one (freeing small and large objects), SweepDone before and after,
    /// FindObject on live, freed and foreign addresses, a scavenge, Phase, stats and Verify.
    /// </summary>
    private static void Workload(IHeap heap)
    {
        IProcessor p = heap.AcquireP();
        var objs = new List<nint>();
        for (int i = 0; i < 20; i++)
            objs.Add(p.Alloc(64));
        p.Alloc(4, noscan: true);
        p.Alloc(4, noscan: true);                               // combined into the tiny block
        nint large = p.Alloc(100_000);
        p.Alloc(50_000, noscan: true);                          // left unmarked: a large free
        Refused<ArgumentOutOfRangeException>(() => p.Alloc(-1));
        p.Release();

        _ = heap.Phase;
        heap.StartMark();
        _ = heap.Phase;
        for (int i = 0; i < objs.Count; i += 2)
            Assert.True(heap.Mark(objs[i] + 3));
        Assert.True(heap.Mark(large + 99_999));
        Assert.False(heap.Mark(unchecked((nint)0x1000)));       // a bad mark
        heap.FinishMark();
        _ = heap.SweepDone;
        heap.SweepOne();
        heap.SweepOne();
        heap.ReadStats();
        heap.FinishSweep();
        _ = heap.SweepDone;

        Assert.True(heap.FindObject(objs[0] + 63, out ObjectInfo live) && live.Allocated);
        heap.FindObject(objs[1], out _);                        // a swept slot of a live span
        Assert.False(heap.FindObject(unchecked((nint)0x1000), out _));
        p = heap.AcquireP();
        p.Alloc(64);
        p.Release();
        heap.Scavenge(long.MaxValue);
        heap.ReadStats();
        heap.Verify();
    }

    /// <summary>Runs the workload on a lock-step pair whose second heap diverges; the comparator's report, or null if it saw nothing.</summary>
    private static (string? Report, bool Diverged) RunDiverging(Divergence d)
    {
        using LockstepHeap heap = Diverging(d);
        try
        {
            Workload(heap);
            return (null, ((DivergentHeap)heap.B).Diverged);
        }
        catch (EquivalenceException e)
        {
            return (e.Message, ((DivergentHeap)heap.B).Diverged);
        }
    }

    private static void AssertCaught(string channel)
    {
        Divergence d = Divergence.Parse(channel);
        (string? report, bool diverged) = RunDiverging(d);
        Assert.True(diverged, $"channel {channel} never differed: the workload does not reach it, or the comparator never asks the second heap");
        Assert.True(report != null, $"the lock-step comparator missed a difference on channel {channel}");
        foreach (string says in d.ReportSays)
            Assert.Contains(says, report);
    }

    [Fact]
    public void Lockstep_HonestPair_PassesTheWorkload()
    {
        using LockstepHeap heap = Honest();
        Workload(heap);
        Assert.True(heap.Operations > 40, $"{heap.Operations} operations compared");
    }

    [Theory]
    [MemberData(nameof(Channels))]
    public void Lockstep_CatchesEachChannel(string channel) => AssertCaught(channel);

    /// <summary>The report of an address difference shows each heap's address as an offset from its own first arena.</summary>
    [Fact]
    public void Lockstep_AddressReport_ShowsEachHeapsOwnOffset()
    {
        (string? report, _) = RunDiverging(Divergence.Parse("Address"));
        Assert.Contains("reference=+0x0 optimized=+0x8", report);
    }

    /// <summary>Every field of HeapStats is a channel, or derived from the stored ones (so it differs only when one of them does).</summary>
    [Fact]
    public void Channels_CoverEveryHeapStatsField()
    {
        var names = Divergence.All.Where(d => d.Channel == LockstepChannel.Stats).Select(d => d.Part).ToHashSet();
        foreach (var f in typeof(HeapStats).GetProperties())
        {
            if (f.SetMethod == null)
            {
                Assert.Contains(f.Name, new[] { nameof(HeapStats.HeapIdle), nameof(HeapStats.HeapObjects) });
                continue;
            }
            if (f.PropertyType == typeof(SizeClassStats[]))
            {
                foreach (var e in typeof(SizeClassStats).GetProperties())
                    Assert.Contains(Divergence.BySizeEntry + e.Name, names);
                Assert.Contains(Divergence.BySizeLength, names);
                continue;
            }
            Assert.Contains(f.Name, names);
        }
    }

    /// <summary>HeapStatsFields.Copy keeps every field (LyingHeap and DivergentHeap build on it).</summary>
    [Fact]
    public void HeapStatsFields_CopyKeepsEveryField()
    {
        using var heap = new GoAlloc.Reference.MHeap(s_options);
        Workload(heap);
        HeapStats s = heap.ReadStats();
        HeapStats c = HeapStatsFields.Copy(s);
        foreach (var f in HeapStatsFields.Stored)
        {
            if (f.GetValue(s) is SizeClassStats[] a)
                Assert.Equal(a, (SizeClassStats[])f.GetValue(c)!);
            else
                Assert.Equal(f.GetValue(s), f.GetValue(c));
        }
        Assert.NotSame(s.BySize, c.BySize);
    }
}
