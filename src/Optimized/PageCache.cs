// PageCache: a per-P cache of free pages inside one 64-page aligned block (mirrors
// runtime/mpagecache.go). Base is the block's first page; bit i of Cache says page i is free in the
// cache, bit i of Scav that it is also scavenged (Scav is a subset of Cache). Small spans (< 16
// pages) are carved from it without the heap lock: Alloc is a trailing-zero count for one page and
// findBitRange64 for more. The PageAlloc bitmap marks all 64 pages of the block in use while a
// cache holds them (INV-PAGE-1), with their scavenged bits moved into Scav. Owned by its P: touched
// only by the thread holding the P; AllocToCache and Flush run under the heap lock.
// The zero value is the empty cache. Scavenged amounts are pages (Go returns bytes).
// C# differs from Go: Alloc returns the scavenged page count through an out parameter, and
// allocToCache (a pageAlloc method in Go's mpagecache.go) is the partial PageAlloc below.
using System.Numerics;

namespace GoAlloc.Optimized;

internal struct PageCache
{
    /// <summary>Base address of the 64-page block; 0 for the empty cache. Owner P only.</summary>
    public nint Base;
    /// <summary>Free pages of the block held by the cache (1 = free). Owner P only.</summary>
    public ulong Cache;
    /// <summary>Which of those free pages are scavenged (1 = scavenged). Owner P only.</summary>
    public ulong Scav;

    public PageCache(nint @base, ulong cache, ulong scav)
    {
        Base = @base;
        Cache = cache;
        Scav = scav;
    }

    /// <summary>empty: no free page left.</summary>
    public readonly bool Empty => Cache == 0;

    /// <summary>
    /// alloc: the lowest run of <paramref name="npages"/> free pages in the cache, now taken;
    /// <paramref name="scav"/> = how many were scavenged. Returns 0 (scav 0) if no run fits.
    /// </summary>
    public nint Alloc(int npages, out int scav)
    {
        if (Cache == 0)
        {
            scav = 0;
            return 0;
        }
        if (npages == 1)
        {
            int i = BitOperations.TrailingZeroCount(Cache);
            scav = (int)((Scav >> i) & 1);
            Cache &= ~(1UL << i);
            Scav &= ~(1UL << i);
            return Base + (nint)i * (nint)MallocConstants.PageSize;
        }
        return AllocN(npages, out scav);
    }

    /// <summary>allocN: the general case, npages &gt;= 2.</summary>
    private nint AllocN(int npages, out int scav)
    {
        int i = PallocBits.FindBitRange64(Cache, npages);
        if (i >= 64 || npages <= 0)
        {
            scav = 0;
            return 0;
        }
        ulong mask = PageBits.RangeMask(i, npages);
        scav = BitOperations.PopCount(Scav & mask);
        Cache &= ~mask;
        Scav &= ~mask;
        return Base + (nint)i * (nint)MallocConstants.PageSize;
    }

    /// <summary>
    /// flush: returns the cache's free pages to <paramref name="p"/> (marking them free and
    /// restoring their scavenged bits), lowers p's searchAddr as a free does, and empties the
    /// cache. Under the heap lock.
    /// </summary>
    public unsafe void Flush(PageAlloc p)
    {
        if (Empty)
            return;
        long ci = PageAlloc.ChunkIndex(Base);
        int pi = PageAlloc.ChunkPageIndex(Base);
        PallocData* chunk = p.ChunkOf(ci);
        // Rare operation: bit by bit is plenty fast.
        for (int i = 0; i < MallocConstants.PageCachePages; i++)
        {
            if ((Cache & (1UL << i)) != 0)
                chunk->Alloc.Free1(pi + i);
            if ((Scav & (1UL << i)) != 0)
                chunk->Scavenged.Set(pi + i);
        }
        p.LowerSearchAddr(Base);
        p.Update(Base, MallocConstants.PageCachePages, contig: false, alloc: false);
        this = default;
    }

    public override readonly string ToString() => $"pageCache(base 0x{Base:x}, cache {Cache:x16}, scav {Scav:x16})";
}

internal sealed unsafe partial class PageAlloc
{
    /// <summary>
    /// allocToCache: the 64-page aligned block holding the lowest free page becomes a page cache:
    /// its free pages (with their scavenged bits) go to the cache and all 64 pages are marked in
    /// use. Returns the empty cache if no page is free. searchAddr moves to the block's last page.
    /// </summary>
    public PageCache AllocToCache()
    {
        // searchAddr beyond every grown chunk: the heap is known to be full.
        if (ChunkIndex(_searchAddr) >= _end)
            return default;
        PageCache c;
        long ci = ChunkIndex(_searchAddr);
        if (LeafSummary[ci].Value != 0)
        {
            // Fast path: searchAddr's chunk has a free page, at or after searchAddr.
            PallocData* chunk = ChunkOf(ci);
            int j = chunk->Alloc.Find1(ChunkPageIndex(_searchAddr));
            if (j == PallocBits.NotFound)
                ThrowBadSummaryInChunk(ci, 1, ChunkPageIndex(_searchAddr));
            c = new PageCache(
                ChunkBase(ci) + (nint)(j & ~(MallocConstants.PageCachePages - 1)) * (nint)MallocConstants.PageSize,
                ~chunk->Alloc.Pages64(j),
                chunk->Scavenged.Block64(j));
        }
        else
        {
            // Slow path: the first free page is further on; the tree search finds it.
            (nint addr, _) = Find(1);
            if (addr == 0)
            {
                _searchAddr = MaxSearchAddr;
                return default;
            }
            PallocData* chunk = ChunkOf(ChunkIndex(addr));
            int pi = ChunkPageIndex(addr);
            c = new PageCache(
                addr & ~((nint)MallocConstants.PageCachePages * (nint)MallocConstants.PageSize - 1),
                ~chunk->Alloc.Pages64(pi),
                chunk->Scavenged.Block64(pi));
        }

        // The whole block is now owned by the cache: in use, scavenged bits moved into c.Scav.
        // (Go follows this with a second, non-contiguous update over the block; AllocRangeCore has
        // already brought the summaries up to date, so that one changes nothing and is omitted.)
        AllocRangeCore(c.Base, MallocConstants.PageCachePages);

        // Every page below the block's end is in use now. searchAddr must stay inside grown
        // memory, so it names the block's last page rather than the page after it.
        _searchAddr = c.Base + (nint)(MallocConstants.PageCachePages - 1) * (nint)MallocConstants.PageSize;
        return c;
    }
}
