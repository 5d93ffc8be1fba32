// TinyAlloc: the tiny allocator's alignment rule (mirrors the tiny block code of mallocgc in
// runtime/malloc.go): a tiny object of size bytes starts at the block's next offset rounded up to
// 8, 4 or 2 bytes when size is a multiple of 8, 4 or 2. The rule decides placement, so both heaps
// take it from here; the tiny block itself lives in each heap's mcache.
// Differs from Go: a function (inlined), where Go writes it inline in mallocgc.
using System.Runtime.CompilerServices;

namespace GoAlloc;

/// <summary>mallocgc's tiny-block alignment.</summary>
internal static class TinyAlloc
{
    /// <summary>The offset in the tiny block where an object of size bytes starts, given the block's next free offset off.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long AlignOffset(long off, long size)
    {
        if ((size & 7) == 0)
            return (off + 7) & ~7L;
        if ((size & 3) == 0)
            return (off + 3) & ~3L;
        if ((size & 1) == 0)
            return (off + 1) & ~1L;
        return off;
    }
}
