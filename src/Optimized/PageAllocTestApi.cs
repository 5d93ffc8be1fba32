// PageAllocTestApi: builds and inspects page allocators for table tests (mirrors the page
// allocator part of runtime/export_test.go: NewPageAlloc, PallocData, Bounds, InUse, PageBase,
// BaseChunkIdx). A description maps chunk indices to bit ranges (start page, page count): Build
// grows every listed chunk, clears the scavenged bits grow set, sets the listed scavenged ranges,
// then the listed in-use ranges (which clear any scavenged bit under them, keeping INV-PAGE-2), and
// updates the summaries. With no scavenged description every scavenged bit is clear.
// Test address space: BaseChunkIdx is the chunk at 0xc000000000, where Go's linux/amd64 heap starts
// (Go computes it through its offset address space; with arenaBaseOffset 0 it is 0xc000000000 >> 22
// = 0x30000, a multiple of 512 = the summaries in one 4 KiB page, as Go's tests assume).
// Owns nothing: the caller disposes the PageAlloc it gets. Not for production paths.
// C# differs from Go: the maps are dictionaries of (start, npages) tuples instead of BitRange slices.
namespace GoAlloc.Optimized;

internal static unsafe class PageAllocTestApi
{
    /// <summary>BaseChunkIdx: the chunk index of 0xc000000000.</summary>
    public const long BaseChunkIdx = 0xc000000000L >> PageAlloc.LogPallocChunkBytes;

    /// <summary>PageBase: the address of page <paramref name="pageIdx"/> of chunk <paramref name="chunkIdx"/>.</summary>
    public static nint PageBase(long chunkIdx, int pageIdx) =>
        PageAlloc.ChunkBase(chunkIdx) + (nint)pageIdx * (nint)MallocConstants.PageSize;

    /// <summary>NewPageAlloc: a page allocator in the described state (see the file comment).</summary>
    public static PageAlloc Build(
        IReadOnlyDictionary<long, (int Start, int NPages)[]> alloc,
        IReadOnlyDictionary<long, (int Start, int NPages)[]>? scav = null)
    {
        var p = new PageAlloc();
        try
        {
            foreach (long ci in alloc.Keys.Order())
            {
                nint addr = PageAlloc.ChunkBase(ci);
                p.Grow(addr, MallocConstants.PallocChunkBytes);
                PallocData* chunk = p.ChunkOf(ci);
                chunk->Scavenged.ClearAll();
                if (scav != null && scav.TryGetValue(ci, out (int Start, int NPages)[]? s))
                {
                    foreach ((int start, int npages) in s)
                        chunk->Scavenged.SetRange(start, npages);
                }
                foreach ((int start, int npages) in alloc[ci])
                    chunk->AllocRange(start, npages);
                p.Update(addr, MallocConstants.PallocChunkPages, contig: false, alloc: false);
            }
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    /// <summary>A copy of chunk ci's in-use bitmap, or null if its L2 block does not exist.</summary>
    public static PallocBits? AllocBits(PageAlloc p, long ci)
    {
        PallocData* d = p.TryChunkOf(ci);
        return d == null ? null : d->Alloc;
    }

    /// <summary>A copy of chunk ci's scavenged bitmap, or null if its L2 block does not exist.</summary>
    public static PageBits? ScavengedBits(PageAlloc p, long ci)
    {
        PallocData* d = p.TryChunkOf(ci);
        return d == null ? null : d->Scavenged;
    }

    /// <summary>Bounds: the [start, end) chunk indices the allocator knows about.</summary>
    public static (long Start, long End) Bounds(PageAlloc p) => (p.Start, p.End);

    /// <summary>InUse: the grown address ranges in address order.</summary>
    public static AddrRange[] InUse(PageAlloc p) => p.InUse.ToArray();

    /// <summary>The allocator's searchAddr.</summary>
    public static nint SearchAddr(PageAlloc p) => p.SearchAddr;

    /// <summary>The leaf summary of chunk ci (whose summary block must be mapped).</summary>
    public static PallocSum LeafSummary(PageAlloc p, long ci) => p.Summary(PageAlloc.SummaryLevels - 1)[ci];
}
