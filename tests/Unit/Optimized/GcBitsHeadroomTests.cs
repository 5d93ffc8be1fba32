// GcBits headroom (issue #20 item 5, spec/SPEC.md 4.15): span setup pays ahead for the bitmap
// arenas the next rotations draw on, so that FinishMark's rotation and the sweep never map, and a
// cycle's worth of spans can be set up again after a cycle when every mapping is refused (the
// address space exhausted). The floor is a guarantee (a setup below it is refused); the target
// above it is best effort.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public sealed class GcBitsHeadroomTests
{
    private const long Arena = GcBits.PerArenaBytes;

    [Theory]
    [InlineData(0, 0, 1)]               // nothing in use: the next list's first arena
    [InlineData(Arena, 0, 3)]           // N = 1, no current list: 2N - C = 2, plus 1
    [InlineData(3 * Arena, 0, 7)]
    [InlineData(3 * Arena, 2, 5)]       // 2N - C = 4
    [InlineData(3 * Arena, 5, 4)]       // the current list covers the second rotation: N, plus 1
    [InlineData(3 * Arena + 1, 5, 5)]   // one byte more is one arena more
    [InlineData(512 * Arena, 512, 515)] // N / 256 for denser packing
    public void GcBits_HeadroomFloor_IsTwoRotationsAheadPlusTheNextListsArena(long inUseBytes, long currentArenas, long floor) =>
        Assert.Equal(floor, GcBits.HeadroomFloor(inUseBytes, currentArenas));

    [Theory]
    [InlineData(0, 2)]
    [InlineData(Arena, 5)]
    [InlineData(3 * Arena, 11)]
    [InlineData(512 * Arena, 1540)]
    public void GcBits_HeadroomTarget_IsThreeReservesPlusTwo(long inUseBytes, long target) =>
        Assert.Equal(target, GcBits.HeadroomTarget(inUseBytes));

    [Fact]
    public void GcBits_EnsureHeadroom_MapsToTheTargetOnce()
    {
        using var bits = new GcBits();
        bits.EnsureHeadroom(3 * Arena);
        Assert.Equal(11, bits.ArenaCount);
        bits.EnsureHeadroom(3 * Arena); // already there
        Assert.Equal(11, bits.ArenaCount);
        bits.EnsureHeadroom(3 * Arena + 1); // N = 4: target 14
        Assert.Equal(14, bits.ArenaCount);
        // The free arenas are what a rotation draws on: a sweep reserve of 4 maps nothing.
        bits.NextEpoch(sweepBytes: 4 * Arena);
        Assert.Equal(14, bits.ArenaCount);
        Assert.Equal(4, bits.ReservedArenaCount);
    }

    [Fact]
    public void GcBits_EnsureHeadroom_IgnoresARefusalAtOrAboveTheFloor()
    {
        using var bits = new GcBits();
        // Target 5, floor 3: the fourth mapping is refused with three in place.
        SysMem.InjectFailureAtCall(4);
        try
        {
            bits.EnsureHeadroom(Arena);
            Assert.Equal(0, SysMem.InjectionCountdown);
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal(3, bits.ArenaCount);
        bits.EnsureHeadroom(Arena); // the system allows it again: up to the target
        Assert.Equal(5, bits.ArenaCount);
    }

    [Fact]
    public void GcBits_EnsureHeadroom_BelowTheFloorIsOutOfMemory_AndKeepsWhatItMapped()
    {
        using var bits = new GcBits();
        // Floor 3: the second mapping is refused with one in place.
        SysMem.InjectFailureAtCall(2);
        try
        {
            Assert.Throws<OutOfMemoryException>(() => bits.EnsureHeadroom(Arena));
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal(1, bits.ArenaCount);
        bits.EnsureHeadroom(Arena);
        Assert.Equal(5, bits.ArenaCount);
    }

    /// <summary>
    /// GcBits driven as the heap drives it: span setups (alloc and mark bitmaps, then headroom),
    /// spans freed, rotations each followed by a full sweep (one new mark bitmap per span in use).
    /// No rotation and no sweep maps; and after spans are freed and a cycle runs, setups up to the
    /// bitmap bytes in use before it succeed with every mapping refused.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public unsafe void GcBits_RotationsNeverMap_AndACyclesSpansSetUpAgainWithEveryMappingRefused(int seed)
    {
        var rnd = new Random(seed);
        using var bits = new GcBits();
        var spans = new List<int>(); // nelems of each span in use
        long inUse = 0;

        void Setup(bool refuseEveryMapping)
        {
            int nelems = rnd.Next(4) switch { 0 => 1, 1 => rnd.Next(1, 64), 2 => rnd.Next(64, 512), _ => 1024 };
            long b = GcBits.BitmapBytes(nelems);
            if (refuseEveryMapping)
                SysMem.InjectFailureAtCall(1);
            try
            {
                Assert.True(bits.NewMarkBits(nelems) != null);
                Assert.True(bits.NewAllocBits(nelems) != null);
                // A refused mapping ends each of these calls: the setup succeeds only if none was needed.
                bits.EnsureHeadroom(inUse + b);
            }
            finally
            {
                SysMem.InjectFailureAtCall(0);
            }
            spans.Add(nelems);
            inUse += b;
        }

        void Cycle()
        {
            int before = bits.ArenaCount;
            bits.NextEpoch(inUse);
            foreach (int nelems in spans)
                Assert.True(bits.NewSweepMarkBits(nelems) != null);
            Assert.Equal(before, bits.ArenaCount);
        }

        void FreeSome()
        {
            int n = rnd.Next(spans.Count + 1);
            for (int i = 0; i < n; i++)
            {
                int at = rnd.Next(spans.Count);
                inUse -= GcBits.BitmapBytes(spans[at]);
                spans.RemoveAt(at);
            }
        }

        for (int round = 0; round < 6; round++)
        {
            int grow = rnd.Next(1, 3000);
            for (int i = 0; i < grow; i++)
                Setup(refuseEveryMapping: false);
            for (int c = rnd.Next(3); c > 0; c--)
                Cycle();
            // The address space runs out here: free some, a cycle, then set up as many bitmap
            // bytes as were in use again, every mapping refused.
            long peak = inUse;
            FreeSome();
            Cycle();
            while (inUse + 128 <= peak)
                Setup(refuseEveryMapping: true);
            for (int c = rnd.Next(3); c > 0; c--)
                Cycle();
        }
    }
}
