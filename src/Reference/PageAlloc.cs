// PageAlloc: the page allocator (mirrors runtime/mpagealloc.go, read the plain way). The heap's
// address space is tracked in 4 MiB chunks of 512 pages; each page has an alloc bit and a
// scavenged bit. Allocation is address-ordered first fit: the lowest-addressed run of n free pages
// over all grown chunks, a run may cross chunk boundaries only where chunks are contiguous.
// The Optimized version finds the same run through Go's radix tree of summaries; this one scans.
// Invariants: INV-PAGE-1 (bitmap, page caches and spans agree), INV-PAGE-2 (scavenged => free).
// All methods run under the heap lock.
namespace GoAlloc.Reference;

internal sealed class PageAlloc
{
    private const int ChunkPages = MallocConstants.PallocChunkPages;

    /// <summary>One 4 MiB chunk: per-page alloc and scavenged flags.</summary>
    internal sealed class Chunk(long index)
    {
        public readonly long Index = index;
        public readonly bool[] Alloc = new bool[ChunkPages];
        public readonly bool[] Scavenged = new bool[ChunkPages];
        public nint Base => (nint)(Index * MallocConstants.PallocChunkBytes);
    }

    // Grown chunks in increasing address order.
    private readonly List<Chunk> _chunks = [];

    public IReadOnlyList<Chunk> Chunks => _chunks;

    public static long ChunkIndex(nint addr) => addr / MallocConstants.PallocChunkBytes;

    private Chunk? ChunkOf(nint addr)
    {
        long ci = ChunkIndex(addr);
        foreach (Chunk c in _chunks)
        {
            if (c.Index == ci)
                return c;
        }
        return null;
    }

    private static int PageIndex(nint addr) => (int)((addr % MallocConstants.PallocChunkBytes) / MallocConstants.PageSize);

    /// <summary>grow: adds [base, base+size) (whole chunks) as free, scavenged pages.</summary>
    public void Grow(nint @base, long size)
    {
        long first = ChunkIndex(@base), last = ChunkIndex(@base + (nint)size - 1);
        for (long ci = first; ci <= last; ci++)
        {
            if (_chunks.Exists(c => c.Index == ci))
                throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.grow: chunk {ci} grown twice");
            var chunk = new Chunk(ci);
            Array.Fill(chunk.Scavenged, true);
            int at = _chunks.FindIndex(c => c.Index > ci);
            _chunks.Insert(at < 0 ? _chunks.Count : at, chunk);
        }
    }

    public bool IsAllocated(nint addr) => ChunkOf(addr)!.Alloc[PageIndex(addr)];

    public bool IsScavenged(nint addr) => ChunkOf(addr)!.Scavenged[PageIndex(addr)];

    public bool Contains(nint addr) => ChunkOf(addr) != null;

    /// <summary>
    /// alloc: the lowest-addressed run of npages free pages, marked allocated with their scavenged
    /// bits cleared. Returns 0 if there is none; <paramref name="scav"/> = pages that were scavenged.
    /// </summary>
    public nint Alloc(int npages, out int scav)
    {
        scav = 0;
        nint runBase = 0;
        int runLen = 0;
        long prevChunk = -2;
        foreach (Chunk c in _chunks)
        {
            if (c.Index != prevChunk + 1)
                runLen = 0; // a gap in the address space ends any run
            prevChunk = c.Index;
            for (int i = 0; i < ChunkPages; i++)
            {
                if (c.Alloc[i])
                {
                    runLen = 0;
                    continue;
                }
                if (runLen == 0)
                    runBase = c.Base + i * (nint)MallocConstants.PageSize;
                runLen++;
                if (runLen == npages)
                {
                    scav = AllocRange(runBase, npages);
                    return runBase;
                }
            }
        }
        return 0;
    }

    /// <summary>allocRange: marks pages allocated, clears their scavenged bits, returns how many were scavenged.</summary>
    public int AllocRange(nint @base, int npages)
    {
        int scav = 0;
        for (int k = 0; k < npages; k++)
        {
            nint a = @base + k * (nint)MallocConstants.PageSize;
            Chunk c = ChunkOf(a)!;
            int i = PageIndex(a);
            if (c.Scavenged[i])
            {
                scav++;
                c.Scavenged[i] = false;
            }
            c.Alloc[i] = true;
        }
        return scav;
    }

    /// <summary>free: marks pages free (they keep their cleared scavenged bits).</summary>
    public void Free(nint @base, int npages)
    {
        for (int k = 0; k < npages; k++)
        {
            nint a = @base + k * (nint)MallocConstants.PageSize;
            Chunk c = ChunkOf(a)!;
            int i = PageIndex(a);
            if (!c.Alloc[i])
                throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.free: page 0x{a:x} is already free");
            c.Alloc[i] = false;
        }
    }

    /// <summary>
    /// allocToCache: the 64-page aligned block holding the lowest free page becomes a page cache:
    /// its free pages (with their scavenged bits) go to the cache, all 64 pages are marked allocated.
    /// Returns an empty cache if no page is free.
    /// </summary>
    public PageCache AllocToCache()
    {
        foreach (Chunk c in _chunks)
        {
            for (int i = 0; i < ChunkPages; i++)
            {
                if (c.Alloc[i])
                    continue;
                int first = i & ~(MallocConstants.PageCachePages - 1);
                var cache = new PageCache { Base = c.Base + first * (nint)MallocConstants.PageSize };
                for (int k = 0; k < MallocConstants.PageCachePages; k++)
                {
                    cache.Free[k] = !c.Alloc[first + k];
                    cache.Scavenged[k] = cache.Free[k] && c.Scavenged[first + k];
                }
                AllocRange(cache.Base, MallocConstants.PageCachePages);
                return cache;
            }
        }
        return new PageCache();
    }

    /// <summary>
    /// scavenge: releases up to ceil(nbytes / page) free, unscavenged pages, highest address first.
    /// Each step takes the highest such page and extends the run downward within its chunk while
    /// pages are free and unscavenged and the request is not yet met. Returns the pages scavenged;
    /// <paramref name="release"/> is called on each run before its bits are set.
    /// </summary>
    public long Scavenge(long nbytes, Action<nint, int> release)
    {
        long want = nbytes / MallocConstants.PageSize + (nbytes % MallocConstants.PageSize != 0 ? 1 : 0);
        long done = 0;
        for (int ci = _chunks.Count - 1; ci >= 0 && done < want; ci--)
        {
            Chunk c = _chunks[ci];
            int i = ChunkPages - 1;
            while (i >= 0 && done < want)
            {
                if (c.Alloc[i] || c.Scavenged[i])
                {
                    i--;
                    continue;
                }
                int top = i;
                int start = i;
                while (start - 1 >= 0 && !c.Alloc[start - 1] && !c.Scavenged[start - 1] && (top - start + 1) < want - done)
                    start--;
                int n = top - start + 1;
                release(c.Base + start * (nint)MallocConstants.PageSize, n);
                for (int k = start; k <= top; k++)
                    c.Scavenged[k] = true;
                done += n;
                i = start - 1;
            }
        }
        return done;
    }
}
