// Component tests of the Reference page allocator and page cache against the placement policy of
// spec/SPEC.md: lowest-address first fit, 64-page cache blocks, highest-first scavenging.
using GoAlloc.Reference;
using Xunit;

namespace GoAlloc.Tests.Reference;

public class PageAllocTests
{
    private const long Page = MallocConstants.PageSize;
    private static readonly nint Chunk0 = unchecked((nint)0xc000000000L);
    private static nint At(int page) => Chunk0 + (nint)(page * Page);

    private static PageAlloc Grown(int chunks)
    {
        var pa = new PageAlloc();
        pa.Grow(Chunk0, chunks * MallocConstants.PallocChunkBytes);
        return pa;
    }

    [Fact]
    public void PageAlloc_GrowAddsFreeScavengedPages()
    {
        PageAlloc pa = Grown(2);
        Assert.Equal(2, pa.Chunks.Count);
        Assert.False(pa.IsAllocated(At(0)));
        Assert.True(pa.IsScavenged(At(1023)));
        Assert.Throws<HeapInvariantException>(() => pa.Grow(Chunk0, MallocConstants.PallocChunkBytes));
    }

    [Fact]
    public void PageAlloc_AllocIsLowestAddressFirstFit()
    {
        PageAlloc pa = Grown(1);
        Assert.Equal(At(0), pa.Alloc(3, out int scav));
        Assert.Equal(3, scav);
        Assert.Equal(At(3), pa.Alloc(1, out _));
        pa.Free(At(1), 1);
        Assert.Equal(At(1), pa.Alloc(1, out scav));
        Assert.Equal(0, scav); // freed pages are not scavenged
        pa.Free(At(0), 2);
        Assert.Equal(At(4), pa.Alloc(3, out _)); // the 2-page hole is too small
        Assert.Equal(At(0), pa.Alloc(2, out _));
    }

    [Fact]
    public void PageAlloc_RunsCrossContiguousChunksButNotGaps()
    {
        PageAlloc pa = Grown(2);
        Assert.Equal(At(0), pa.Alloc(500, out _));
        Assert.Equal(At(500), pa.Alloc(100, out _)); // crosses the chunk boundary at 512
        var gap = new PageAlloc();
        gap.Grow(Chunk0, MallocConstants.PallocChunkBytes);
        gap.Grow(Chunk0 + (nint)(2 * MallocConstants.PallocChunkBytes), MallocConstants.PallocChunkBytes);
        Assert.Equal(At(0), gap.Alloc(500, out _));
        Assert.Equal(At(1024), gap.Alloc(100, out _)); // skips the 12-page tail: next chunk is not contiguous
        Assert.Equal(0, gap.Alloc(600, out _));
    }

    [Fact]
    public void PageAlloc_FreeOfAFreePageThrows()
    {
        PageAlloc pa = Grown(1);
        Assert.Throws<HeapInvariantException>(() => pa.Free(At(5), 1));
    }

    [Fact]
    public void PageAlloc_AllocToCacheTakesTheBlockOfTheLowestFreePage()
    {
        PageAlloc pa = Grown(1);
        pa.AllocRange(At(0), 70);
        pa.Free(At(66), 1);
        PageCache c = pa.AllocToCache();
        Assert.Equal(At(64), c.Base);
        Assert.False(c.Free[0]);
        Assert.False(c.Free[1]);
        Assert.True(c.Free[2]);   // page 66
        Assert.False(c.Scavenged[2]);
        Assert.True(c.Free[6] && c.Scavenged[6]); // page 70, never used
        for (int i = 64; i < 128; i++)
            Assert.True(pa.IsAllocated(At(i)));
        Assert.Equal(At(128), pa.Alloc(1, out _));
        Assert.True(new PageAlloc().AllocToCache().Empty);
    }

    [Fact]
    public void PageCache_AllocTakesTheLowestRun()
    {
        PageAlloc pa = Grown(1);
        PageCache c = pa.AllocToCache();
        Assert.Equal(At(0), c.Alloc(1, out int scav));
        Assert.Equal(1, scav);
        Assert.Equal(At(1), c.Alloc(4, out _));
        c.Free[2] = true; // pretend a hole
        Assert.Equal(At(5), c.Alloc(3, out _)); // the 1-page hole at 2 is too small
        Assert.Equal(At(2), c.Alloc(1, out _));
        Assert.Equal(0, c.Alloc(60, out _));
        Assert.Equal(At(8), c.Alloc(56, out _));
        Assert.True(c.Empty);
    }

    [Fact]
    public void PageAlloc_ScavengeReleasesHighestFreePagesFirstWithinChunks()
    {
        PageAlloc pa = Grown(2);
        pa.AllocRange(At(0), 1024); // everything used ...
        pa.Free(At(10), 5);         // ... then two holes
        pa.Free(At(600), 3);
        var released = new List<(nint, int)>();
        Assert.Equal(4, pa.Scavenge(4 * Page, (b, n) => released.Add((b, n))));
        Assert.Equal([(At(600), 3), (At(14), 1)], released);
        Assert.True(pa.IsScavenged(At(14)) && !pa.IsScavenged(At(13)));
        released.Clear();
        Assert.Equal(4, pa.Scavenge(long.MaxValue, (b, n) => released.Add((b, n))));
        Assert.Equal([(At(10), 4)], released);
        Assert.Equal(0, pa.Scavenge(long.MaxValue, (_, _) => { }));
        Assert.Equal(0, pa.Scavenge(0, (_, _) => { }));
        Assert.Equal(At(10), pa.Alloc(5, out int scav));
        Assert.Equal(5, scav);
    }
}
