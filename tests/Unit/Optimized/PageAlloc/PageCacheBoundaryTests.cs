// Boundary cases of Go 1.16's runtime/mpagecache.go not pinned by the ported tables
// (PageCacheTests): the cache's own bits after each alloc, the empty cache's flush being a no-op,
// flush touching only the 64 pages of its block, and allocToCache's searchAddr and fast/slow paths.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;
using Desc = System.Collections.Generic.Dictionary<long, (int, int)[]>;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

public class PageCacheBoundaryTests
{
    private const long B = BaseChunkIdx;

    [Fact]
    public void PageCache_Alloc_UpdatesCacheAndScavBits()
    {
        nint b = PageBase(B, 64);
        var c = new PageCache(b, 0xf6, 0x34);
        // One page: the lowest free (bit 1, not scavenged).
        Assert.Equal(b + (nint)PageSize, c.Alloc(1, out int s));
        Assert.Equal(0, s);
        Assert.Equal(0xf4UL, c.Cache);
        Assert.Equal(0x34UL, c.Scav);
        // One page, scavenged (bit 2).
        Assert.Equal(b + 2 * (nint)PageSize, c.Alloc(1, out s));
        Assert.Equal(1, s);
        Assert.Equal(0xf0UL, c.Cache);
        Assert.Equal(0x30UL, c.Scav);
        // Two pages at bits 4-5, both scavenged.
        Assert.Equal(b + 4 * (nint)PageSize, c.Alloc(2, out s));
        Assert.Equal(2, s);
        Assert.Equal(0xc0UL, c.Cache);
        Assert.Equal(0UL, c.Scav);
        Assert.False(c.Empty);
        // Three pages do not fit in bits 6-7: nothing changes.
        Assert.Equal(0, c.Alloc(3, out s));
        Assert.Equal(0, s);
        Assert.Equal(0xc0UL, c.Cache);
        Assert.Equal(b, c.Base);
        Assert.Equal(b + 6 * (nint)PageSize, c.Alloc(2, out s));
        Assert.True(c.Empty);
        Assert.Equal(0UL, c.Cache);
    }

    [Fact]
    public void PageCache_Alloc_ZeroPagesTakesNothing()
    {
        nint b = PageBase(B, 0);
        var c = new PageCache(b, ~0UL, 0xff);
        Assert.Equal(0, c.Alloc(0, out int s));
        Assert.Equal(0, s);
        Assert.Equal(~0UL, c.Cache);
        Assert.Equal(0xffUL, c.Scav);
    }

    [Fact]
    public void PageCache_Alloc_HighestPage()
    {
        nint b = PageBase(B, 448);
        var c = new PageCache(b, 0x3UL << 62, 0x1UL << 63);
        Assert.Equal(b + 62 * (nint)PageSize, c.Alloc(2, out int s));
        Assert.Equal(1, s);
        Assert.True(c.Empty);
        Assert.Equal(0UL, c.Scav);
        c = new PageCache(b, 0x1UL << 63, 0x1UL << 63);
        Assert.Equal(b + 63 * (nint)PageSize, c.Alloc(1, out s));
        Assert.Equal(1, s);
        Assert.Equal(0UL, c.Cache);
        Assert.Equal(0UL, c.Scav);
    }

    [Fact]
    public void PageCache_Empty()
    {
        Assert.True(default(PageCache).Empty);
        Assert.True(new PageCache(PageBase(B, 0), 0, 0).Empty);
        Assert.False(new PageCache(PageBase(B, 0), 1UL << 63, 0).Empty);
    }

    [Fact]
    public void PageCache_ToString()
    {
        var c = new PageCache(0x1000, 0xff, 0x1);
        Assert.Equal("pageCache(base 0x1000, cache 00000000000000ff, scav 0000000000000001)", c.ToString());
    }

    [Fact]
    public void PageCache_FlushEmpty_IsANoOp()
    {
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [] });
        PageCache taken = p.AllocToCache();
        Assert.Equal(PageBase(B, 0), taken.Base);
        nint search = PageAllocTestApi.SearchAddr(p);
        Assert.Equal(PageBase(B, 63), search);
        // An empty cache naming the block: flushing it frees nothing and leaves searchAddr alone.
        var empty = new PageCache(PageBase(B, 0), 0, 0);
        empty.Flush(p);
        Assert.Equal(search, PageAllocTestApi.SearchAddr(p));
        using PageAlloc want = PageAllocTestApi.Build(new Desc { [B] = [(0, 64)] });
        CheckPageAlloc(want, p);
        Assert.Equal(PallocSum.Pack(0, ChunkPages - 64, ChunkPages - 64), PageAllocTestApi.LeafSummary(p, B));
    }

    [Fact]
    public void PageCache_Flush_LowersSearchAddrToItsBase()
    {
        // allocToCache moves searchAddr past the block; flushing the untouched cache brings it back.
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [] });
        PageCache c = p.AllocToCache();
        Assert.NotEqual(PageBase(B, 0), PageAllocTestApi.SearchAddr(p));
        c.Flush(p);
        Assert.Equal(PageBase(B, 0), PageAllocTestApi.SearchAddr(p));
        Assert.Equal(PageBase(B, 0), p.Alloc(1, out _)); // the next allocation starts at the block again
    }

    [Fact]
    public void PageCache_Flush_TouchesOnlyItsBlock()
    {
        // The whole chunk in use; a cache over block 0 holding pages 0 and 63, page 0 scavenged.
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [(0, ChunkPages)] });
        var c = new PageCache(PageBase(B, 0), 1UL | (1UL << 63), 1UL);
        c.Flush(p);
        Assert.Equal(default, c);
        using PageAlloc want = PageAllocTestApi.Build(new Desc { [B] = [(1, 62), (64, ChunkPages - 64)] }, new Desc { [B] = [(0, 1)] });
        CheckPageAlloc(want, p);
        Assert.Equal(PageBase(B, 0), PageAllocTestApi.SearchAddr(p));
        Assert.Equal(PallocSum.Pack(1, 1, 0), PageAllocTestApi.LeafSummary(p, B));
        // The last block of the chunk.
        using PageAlloc q = PageAllocTestApi.Build(new Desc { [B] = [(0, ChunkPages)], [B + 1] = [(0, ChunkPages)] });
        var d = new PageCache(PageBase(B, 448), 1UL << 63, 1UL << 63);
        d.Flush(q);
        using PageAlloc wantQ = PageAllocTestApi.Build(
            new Desc { [B] = [(0, ChunkPages - 1)], [B + 1] = [(0, ChunkPages)] },
            new Desc { [B] = [(ChunkPages - 1, 1)] });
        CheckPageAlloc(wantQ, q);
        Assert.Equal(PallocSum.Pack(0, 1, 1), PageAllocTestApi.LeafSummary(q, B));
        Assert.Equal(PallocSum.Pack(0, 0, 0), PageAllocTestApi.LeafSummary(q, B + 1));
    }

    [Fact]
    public void PageAlloc_AllocToCache_SearchAddrAndPaths()
    {
        // Fast path: searchAddr's chunk has a free page after it.
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [(0, 100)], [B + 1] = [] });
        PageCache c = p.AllocToCache();
        Assert.Equal(new PageCache(PageBase(B, 64), ~((1UL << 36) - 1), 0), c);
        Assert.Equal(PageBase(B, 127), PageAllocTestApi.SearchAddr(p));
        c = p.AllocToCache();
        Assert.Equal(new PageCache(PageBase(B, 128), ~0UL, 0), c);
        Assert.Equal(PageBase(B, 191), PageAllocTestApi.SearchAddr(p));
        // Slow path: chunk B is full from here, so the tree search moves to chunk B + 1.
        using PageAlloc q = PageAllocTestApi.Build(new Desc { [B] = [(0, ChunkPages)], [B + 1] = [(0, 70)] });
        c = q.AllocToCache();
        Assert.Equal(new PageCache(PageBase(B + 1, 64), ~((1UL << 6) - 1), 0), c);
        Assert.Equal(PageBase(B + 1, 127), PageAllocTestApi.SearchAddr(q));
        // Full: the empty cache, and searchAddr at its maximum.
        using PageAlloc f = PageAllocTestApi.Build(new Desc { [B] = [(0, ChunkPages)] });
        Assert.Equal(default, f.AllocToCache());
        Assert.Equal(PageAlloc.MaxSearchAddr, PageAllocTestApi.SearchAddr(f));
        Assert.Equal(default, f.AllocToCache());
    }
}
