// HeapGrowth: the bookkeeping of heap growth (mirrors mheap_.curArena and the arithmetic of
// mheap.grow in runtime/mheap.go), one fact for both heaps, so both grow to the same addresses.
// Growth is asked in whole 4 MiB chunks; it is served from the unused tail of the current arena
// space [Base, End); when that is too small the heap maps new arenas, which extend the space when
// contiguous, else replace it (the old tail then goes to the page allocator as it is). The heap
// does the mapping, the stats and the page allocator's growth; this keeps the space. Not
// thread-safe: the caller holds the heap lock.
// Differs from Go: a class of its own (Go keeps curArena in mheap and the steps in grow).
namespace GoAlloc;

/// <summary>curArena: the mapped arena space not yet handed to the page allocator.</summary>
internal sealed class HeapGrowth
{
    /// <summary>The first byte of the current arena space not yet handed to the page allocator (0 before the first arena).</summary>
    public nint Base { get; private set; }

    /// <summary>The end of the current arena space.</summary>
    public nint End { get; private set; }

    /// <summary>Bytes of mapped arena space not yet handed to the page allocator (counted as released).</summary>
    public long UngrownBytes => End - Base;

    /// <summary>The bytes grow asks for npages: whole palloc chunks (4 MiB).</summary>
    public static long AskBytes(long npages) =>
        ((npages + MallocConstants.PallocChunkPages - 1) & ~(long)(MallocConstants.PallocChunkPages - 1)) * MallocConstants.PageSize;

    /// <summary>Whether the current space holds ask more bytes (never before the first arena).</summary>
    public bool Fits(long ask)
    {
        nint nBase = Base + (nint)ask;
        return Base != 0 && nBase >= Base && nBase <= End;
    }

    /// <summary>
    /// New arena space [av, av+asize) was mapped: contiguous with the current space it extends it;
    /// otherwise it becomes the current space. Returns the old space's unused tail, which the heap
    /// hands to the page allocator (size 0 when there is none).
    /// </summary>
    public (nint Base, nint Size) Add(nint av, nint asize)
    {
        if (av == End && End != 0)
        {
            // Contiguous with the current space: just extend it.
            End = av + asize;
            return (0, 0);
        }
        (nint restBase, nint restSize) = (Base, End - Base);
        Base = av;
        End = av + asize;
        return (restBase, restSize);
    }

    /// <summary>The page allocator took [Base, Base+ask): the space shrinks past it. The caller checked Fits(ask).</summary>
    public void Advance(long ask) => Base += (nint)ask;
}
