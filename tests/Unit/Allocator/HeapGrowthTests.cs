// HeapGrowth (src/Allocator/HeapGrowth.cs, mheap.curArena and mheap.grow's arithmetic in Go's
// mheap.go), shared by both heaps: growth asked in whole 4 MiB chunks, served from the current
// arena space while it fits, new arena space extending it when contiguous and replacing it (its
// tail handed back) when not. Pure bookkeeping: no memory is mapped here.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class HeapGrowthTests
{
    private const long Chunk = MallocConstants.PallocChunkPages * MallocConstants.PageSize; // 4 MiB
    private const long Arena = MallocConstants.HeapArenaBytes;
    private static readonly nint A = (nint)MallocConstants.ArenaHint(0), B = (nint)MallocConstants.ArenaHint(1);

    [Theory]
    [InlineData(1L, Chunk)]
    [InlineData(MallocConstants.PallocChunkPages, Chunk)]
    [InlineData(MallocConstants.PallocChunkPages + 1L, 2 * Chunk)]
    [InlineData(0L, 0L)]
    public void HeapGrowth_AsksWholeChunks(long npages, long bytes) =>
        Assert.Equal(bytes, HeapGrowth.AskBytes(npages));

    [Fact]
    public void HeapGrowth_NothingFitsBeforeTheFirstArena()
    {
        var g = new HeapGrowth();
        Assert.Equal(0, g.Base);
        Assert.Equal(0, g.End);
        Assert.Equal(0, g.UngrownBytes);
        Assert.False(g.Fits(0));
        Assert.False(g.Fits(Chunk));
    }

    [Fact]
    public void HeapGrowth_ServesFromTheCurrentSpaceWhileItFits()
    {
        var g = new HeapGrowth();
        nint a = A;
        Assert.Equal(((nint)0, (nint)0), g.Add(a, (nint)Arena)); // the first space: no tail to hand back
        Assert.Equal(a, g.Base);
        Assert.Equal(a + (nint)Arena, g.End);
        Assert.True(g.Fits(Arena)); // exactly all of it
        Assert.False(g.Fits(Arena + Chunk));
        Assert.False(g.Fits(-Chunk)); // never backwards
        g.Advance(Chunk);
        Assert.Equal(a + (nint)Chunk, g.Base);
        Assert.Equal(Arena - Chunk, g.UngrownBytes);
        Assert.True(g.Fits(Arena - Chunk));
        Assert.False(g.Fits(Arena));
    }

    [Fact]
    public void HeapGrowth_ContiguousSpaceExtendsTheCurrentOne()
    {
        var g = new HeapGrowth();
        nint a = A;
        g.Add(a, (nint)Arena);
        g.Advance(Arena - Chunk);
        Assert.False(g.Fits(2 * Chunk));
        Assert.Equal(((nint)0, (nint)0), g.Add(a + (nint)Arena, (nint)Arena));
        Assert.Equal(a + (nint)(Arena - Chunk), g.Base);
        Assert.Equal(a + (nint)(2 * Arena), g.End);
        Assert.True(g.Fits(2 * Chunk));
    }

    [Fact]
    public void HeapGrowth_DiscontiguousSpaceReplacesTheCurrentOneAndHandsBackItsTail()
    {
        var g = new HeapGrowth();
        nint a = A, b = B;
        g.Add(a, (nint)Arena);
        g.Advance(Arena - Chunk);
        (nint restBase, nint restSize) = g.Add(b, (nint)(2 * Arena));
        Assert.Equal(a + (nint)(Arena - Chunk), restBase);
        Assert.Equal((nint)Chunk, restSize);
        Assert.Equal(b, g.Base);
        Assert.Equal(b + (nint)(2 * Arena), g.End);
        // A new space right below the current one is not contiguous with it either.
        g.Advance(2 * Arena);
        (restBase, restSize) = g.Add(b - (nint)Arena, (nint)Arena);
        Assert.Equal(b + (nint)(2 * Arena), restBase);
        Assert.Equal(0, restSize);
        Assert.Equal(b - (nint)Arena, g.Base);
    }
}
