// HeapStats: Diff is the instrument of every equivalence check (CLI lock step, properties), so each
// field must be compared and named; ToString is the one-line summary the CLI prints.
using System.Reflection;
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class HeapStatsTests
{
    private static readonly PropertyInfo[] s_counters = typeof(HeapStats)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(long) && p.CanWrite)
        .ToArray();

    private static HeapStats WithField(PropertyInfo field, long value)
    {
        var s = new HeapStats { BySize = [new SizeClassStats(0, 0, 0), new SizeClassStats(8, 5, 2)] };
        field.SetValue(s, value);
        return s;
    }

    [Fact]
    public void Diff_EqualSnapshotsHaveNoDifference()
    {
        HeapStats a = WithField(s_counters[0], 0), b = WithField(s_counters[0], 0);
        Assert.Empty(a.Diff(b));
    }

    [Fact]
    public void Diff_NamesEveryCounterThatDiffers()
    {
        // Every settable long counter of the snapshot, not a hand-picked few.
        Assert.Equal(18, s_counters.Length);
        foreach (PropertyInfo field in s_counters)
        {
            List<string> d = WithField(field, 3).Diff(WithField(field, 7));
            Assert.Equal([$"{field.Name}: 3 != 7"], d);
        }
    }

    [Fact]
    public void Diff_ListsEveryDifferingFieldInOrder()
    {
        var a = new HeapStats { HeapSys = 1, Frees = 2, Arenas = 3 };
        var b = new HeapStats { HeapSys = 10, Frees = 20, Arenas = 30 };
        Assert.Equal(["HeapSys: 1 != 10", "Frees: 2 != 20", "Arenas: 3 != 30"], a.Diff(b));
    }

    [Fact]
    public void Diff_ComparesBySizeLengthAndEveryFieldPerClass()
    {
        var a = new HeapStats { BySize = [new(0, 0, 0), new(8, 5, 2), new(16, 1, 1)] };
        var b = new HeapStats { BySize = [new(0, 0, 0), new(8, 6, 2)] };
        Assert.Equal(["BySize.Length: 3 != 2", "BySize[1].Mallocs: 5 != 6", "BySize[2].Size: 16 != 0", "BySize[2].Mallocs: 1 != 0", "BySize[2].Frees: 1 != 0"], a.Diff(b));
        Assert.Equal(["BySize.Length: 2 != 3", "BySize[1].Mallocs: 6 != 5", "BySize[2].Size: 0 != 16", "BySize[2].Mallocs: 0 != 1", "BySize[2].Frees: 0 != 1"], b.Diff(a));
        var c = new HeapStats { BySize = [new(0, 0, 0), new(8, 6, 3)] };
        Assert.Equal(["BySize[1].Frees: 2 != 3"], b.Diff(c));
        var d = new HeapStats { BySize = [new(0, 0, 0), new(16, 6, 2)] };
        Assert.Equal(["BySize[1].Size: 8 != 16"], b.Diff(d));
        var empty = new HeapStats { BySize = [new(0, 0, 0), new(0, 0, 0)] }; // an extra all-zero entry still differs
        Assert.Equal(["BySize.Length: 1 != 2"], new HeapStats { BySize = [new(0, 0, 0)] }.Diff(empty));
    }

    [Fact]
    public void DerivedCounters_FollowTheIdentities()
    {
        var s = new HeapStats { HeapSys = 100, HeapInuse = 30, Mallocs = 9, Frees = 4 };
        Assert.Equal(70, s.HeapIdle);
        Assert.Equal(5, s.HeapObjects);
    }

    [Fact]
    public void ToString_IsTheOneLineSummary()
    {
        var s = new HeapStats
        {
            HeapSys = 1,
            HeapInuse = 2,
            HeapReleased = 3,
            HeapAlloc = 4,
            Mallocs = 9,
            Frees = 4,
            TinyAllocs = 6,
            LargeAllocs = 7,
            LargeFrees = 8,
            NumGC = 10,
            SweepGen = 11,
            HeapLive = 12,
        };
        Assert.Equal("heap_sys=1 heap_inuse=2 heap_idle=-1 heap_released=3 heap_alloc=4 objects=5 mallocs=9 frees=4 tiny=6 " +
                     "large=7/8 gc=10 sweepgen=11 heap_live=12", s.ToString());
    }
}
