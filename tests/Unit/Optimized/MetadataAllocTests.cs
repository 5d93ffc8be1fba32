// Component tests of the Optimized's off-heap metadata allocators: persistentalloc (zeroed,
// aligned, big records mapped alone) and the gcBits arenas (bump allocation, epoch rotation,
// recycled arenas handed out cleared). The shared fixalloc: Allocator/FixAllocTests.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class MetadataAllocTests
{
    private static bool AllZero(nint p, int bytes) => new ReadOnlySpan<byte>((void*)p, bytes).IndexOfAnyExcept((byte)0) < 0;

    [Fact]
    public void PersistentAlloc_ZeroedAlignedAndRefusesNonPositiveSizes()
    {
        using var pa = new PersistentAlloc();
        var seen = new HashSet<nint>();
        for (int i = 0; i < 600; i++)
        {
            nint p = pa.Alloc(1000, 64);
            Assert.Equal(0, p % 64);
            Assert.True(AllZero(p, 1000));
            new Span<byte>((void*)p, 1000).Fill(0xFF);
            Assert.True(seen.Add(p));
        }
        Assert.True(pa.SysBytes >= 600 * 1000);
        // A record over a quarter chunk is mapped on its own and still zeroed.
        nint big = pa.Alloc(MallocConstants.PersistentChunkSize / 2, 8);
        Assert.True(AllZero(big, (int)(MallocConstants.PersistentChunkSize / 2)));
        long before = pa.SysBytes;
        Assert.Throws<ArgumentOutOfRangeException>(() => pa.Alloc(0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => pa.Alloc(-8, 8));
        Assert.Equal(before, pa.SysBytes);
    }

    [Fact]
    public void GcBits_BitmapsAreDisjointEightByteMultiples()
    {
        using var bits = new GcBits();
        byte* a = bits.NewMarkBits(1);
        byte* b = bits.NewAllocBits(65);
        byte* c = bits.NewMarkBits(64);
        // Each bitmap is a whole number of 8-byte words, packed one after another in the arena.
        Assert.Equal(8, b - a);
        Assert.Equal(16, c - b);
        Assert.Equal(1, bits.ArenaCount);
    }

    [Fact]
    public void GcBits_RecycledArenaIsHandedOutCleared()
    {
        using var bits = new GcBits();
        const int nelems = 1024; // 128 bytes
        byte* first = bits.NewMarkBits(nelems);
        new Span<byte>(first, 128).Fill(0xFF);
        // next -> current -> previous -> free: the arena is recycled at the third rotation.
        bits.NextEpoch();
        bits.NextEpoch();
        bits.NextEpoch();
        byte* again = bits.NewMarkBits(nelems);
        Assert.Equal((nint)first, (nint)again); // the same arena, from its start
        Assert.True(AllZero((nint)again, 128));
        Assert.Equal(1, bits.ArenaCount);
        // A second bitmap follows it in the recycled arena, also clear.
        byte* next = bits.NewMarkBits(nelems);
        Assert.Equal(128, next - again);
        Assert.True(AllZero((nint)next, 128));
    }

    [Fact]
    public void GcBits_CurrentAndPreviousArenasAreNotReused()
    {
        using var bits = new GcBits();
        byte* first = bits.NewMarkBits(64);
        *first = 0xAB;
        bits.NextEpoch(); // first's arena is current: still live
        byte* second = bits.NewMarkBits(64);
        Assert.NotEqual((nint)first, (nint)second);
        bits.NextEpoch(); // first's arena is previous: still live
        byte* third = bits.NewMarkBits(64);
        Assert.NotEqual((nint)first, (nint)third);
        Assert.NotEqual((nint)second, (nint)third);
        Assert.Equal(0xAB, *first);
        Assert.Equal(3, bits.ArenaCount);
    }
}
