// Boundary tests of the Optimized's off-heap metadata allocators (persistentalloc and the gcBits
// arenas, mirroring runtime/malloc.go persistentalloc and runtime/mheap.go gcBitsArenas): a chunk
// or arena filled to its last byte and not one byte past it, the quarter-chunk line between bump
// allocation and a mapping of its own, the exact bytes mapped, the lists EnsureHeadroom counts,
// and the sweep's bitmap source when the rotation set no reserve aside. Written against the
// survivors of the sweep group's mutation run of 2026-12-08 (mutation/README.md).
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized;

public unsafe class MetadataAllocBoundaryTests
{
    private const int Chunk = MallocConstants.PersistentChunkSize; // 256 KiB
    private const int ArenaBitsBytes = (64 << 10) - 16;             // a gcBits arena less its header

    private static bool AllZero(byte* p, int bytes) => new ReadOnlySpan<byte>(p, bytes).IndexOfAnyExcept((byte)0) < 0;

    [Fact]
    public void PersistentAlloc_BumpsWithinAChunkToItsLastByte()
    {
        using var pa = new PersistentAlloc();
        nint first = pa.Alloc(1024, 8);
        for (int i = 1; i < Chunk / 1024; i++)
            Assert.Equal(first + i * 1024, pa.Alloc(1024, 8)); // the 256th ends at the chunk's end
        Assert.Equal(Chunk, pa.SysBytes);
        nint next = pa.Alloc(1024, 8); // one byte past: a new chunk
        Assert.Equal(2L * Chunk, pa.SysBytes);
        Assert.NotInRange(next, first, first + Chunk - 1);
    }

    [Fact]
    public void PersistentAlloc_AlignsUpToTheNextMultipleOnly()
    {
        using var pa = new PersistentAlloc();
        nint a = pa.Alloc(64, 64);
        nint b = pa.Alloc(64, 64); // already aligned: adjacent
        nint c = pa.Alloc(8, 8);
        nint d = pa.Alloc(8, 64);  // offset 136 rounds up to 192
        Assert.Equal(a + 64, b);
        Assert.Equal(a + 128, c);
        Assert.Equal(a + 192, d);
        Assert.Equal(Chunk, pa.SysBytes);
    }

    [Fact]
    public void PersistentAlloc_AQuarterChunkIsBumpAllocated_MoreIsMappedAlone()
    {
        using var pa = new PersistentAlloc();
        nint q0 = pa.Alloc(Chunk / 4, 8);
        for (int i = 1; i < 4; i++)
            Assert.Equal(q0 + i * (Chunk / 4), pa.Alloc(Chunk / 4, 8));
        Assert.Equal(Chunk, pa.SysBytes);

        nint big = pa.Alloc(Chunk / 4 + 1, 8); // its own mapping, counted at its size
        Assert.Equal(Chunk + Chunk / 4 + 1, pa.SysBytes);
        Assert.Equal(0, big % SysMem.PhysPageSize);
        Assert.True(AllZero((byte*)big, Chunk / 4 + 1));
        Assert.NotInRange(big, q0, q0 + Chunk - 1);

        using var half = new PersistentAlloc();
        half.Alloc(Chunk / 2, 8);
        Assert.Equal(Chunk / 2, half.SysBytes); // no chunk mapped for it
    }

    [Fact]
    public void GcBits_ArenaHoldsBitmapsToItsLastByteAndNoFurther()
    {
        using var bits = new GcBits();
        byte* first = bits.NewMarkBits(64); // 8 bytes each
        for (int i = 1; i < ArenaBitsBytes / 8; i++)
            Assert.Equal((nint)(first + i * 8), (nint)bits.NewMarkBits(64));
        Assert.Equal(1, bits.ArenaCount);
        byte* past = bits.NewMarkBits(64); // the arena is full: a second one
        Assert.Equal(2, bits.ArenaCount);
        Assert.True(past < first || past >= first + ArenaBitsBytes);
        Assert.True(AllZero(past, 8));
    }

    [Fact]
    public void GcBits_NegativeSizesThrowAndMapNothing()
    {
        using var bits = new GcBits();
        bits.EnsureHeadroom(8);
        int arenas = bits.ArenaCount;
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.EnsureHeadroom(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.NextEpoch(-1));
        Assert.Equal(arenas, bits.ArenaCount);
        Assert.Equal(0, bits.ReservedArenaCount);
    }

    [Fact]
    public void GcBits_EnsureHeadroom_CountsThePreviousListAsHeadroom()
    {
        using var bits = new GcBits();
        bits.EnsureHeadroom(8); // N = 1: target 3N + 2 = 5, all on the free list
        Assert.Equal(5, bits.ArenaCount);
        bits.NewMarkBits(64);   // takes a free arena for the next list: free 4
        Assert.Equal(5, bits.ArenaCount);
        bits.NextEpoch();       // next -> current
        bits.NextEpoch();       // current -> previous: free 4 + previous 1 = 5
        bits.EnsureHeadroom(8);
        Assert.Equal(5, bits.ArenaCount); // the previous arena counts: nothing mapped
        bits.EnsureHeadroom(GcBits.PerArenaBytes + 1); // N = 2: target 8, 3 more
        Assert.Equal(8, bits.ArenaCount);
    }

    [Fact]
    public void GcBits_Dispose_ForgetsEveryArena()
    {
        var bits = new GcBits();
        bits.EnsureHeadroom(8);
        bits.NewMarkBits(64);
        Assert.Equal(5, bits.ArenaCount);
        bits.Dispose();
        Assert.Equal(0, bits.ArenaCount);
        bits.Dispose(); // idempotent: nothing left to unmap
        Assert.Equal(0, bits.ArenaCount);
    }

    [Fact]
    public void GcBits_NewSweepMarkBits_WithoutAReserveTakesAFreeArenaThenMaps()
    {
        using (var bits = new GcBits())
        {
            bits.EnsureHeadroom(8); // 5 free arenas, no reserve (no rotation asked for one)
            byte* a = bits.NewSweepMarkBits(64);
            byte* b = bits.NewSweepMarkBits(128);
            Assert.Equal(5, bits.ArenaCount); // a free arena, not a fresh mapping
            Assert.Equal(8, b - a);
            Assert.True(AllZero(a, 24));
        }
        using (var bits = new GcBits())
        {
            byte* a = bits.NewSweepMarkBits(64); // nothing free either: maps one
            Assert.Equal(1, bits.ArenaCount);
            Assert.True(AllZero(a, 8));
        }
    }
}
