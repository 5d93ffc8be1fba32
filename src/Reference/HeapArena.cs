// HeapArena: per-arena metadata (mirrors heapArena in runtime/mheap.go): the span of every page of
// the 64 MiB arena (Go's spans array: spanOf is two lookups) and zeroedBase, the offset below which
// the arena's memory may be dirty. The Reference keeps arenas in a small sorted array searched by a
// loop (Go: the L1/L2 arena index). Every field is read and written under the heap lock;
// ZeroedBase only grows (INV-ZERO-1).
namespace GoAlloc.Reference;

internal sealed class HeapArena(nint @base)
{
    public readonly nint Base = @base;
    public readonly MSpan?[] Spans = new MSpan?[MallocConstants.PagesPerArena];
    /// <summary>Bytes [ZeroedBase, 64 MiB) of the arena were never handed out and are zero. Monotonic.</summary>
    public long ZeroedBase;

    public nint End => Base + (nint)MallocConstants.HeapArenaBytes;

    public bool Contains(nint p) => p >= Base && p < End;

    public int PageIndex(nint p) => (int)((p - Base) >> MallocConstants.PageShift);
}
