// MemStats: heap-wide counters behind HeapStats (mirrors runtime/mstats.go's consistent heap
// stats). Per-P allocation counts live in each MCache; small-object counts are taken in bulk at
// refill (the whole span's free slots) and given back at releaseAll, as Go 1.16 does, so the fast
// path counts nothing: ReadStats subtracts what cached spans have not handed out yet.
// Access: the "heap lock" group under MHeap.Lock; the rest via Interlocked / Volatile.
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

internal sealed class MemStats
{
    // Under the heap lock.
    public long HeapSys;
    public long Arenas;

    // Atomic.
    /// <summary>heap_inuse and heap_released: added with Interlocked, as in Go 1.16, since allocSpan's page-cache path commits a span without the heap lock.</summary>
    public long HeapInuse;
    public long HeapReleased;
    public readonly long[] NSmallFree = new long[SizeClasses.NumSizeClasses];
    public long LargeFrees;
    public long LargeFreeBytes;
    public long BytesMarked;
    public long HeapMarked;
    public long BadMarks;
    public long NumGC;
    public PaddedCounter HeapLive;
    public PaddedCounter PagesSwept;
}

/// <summary>A contended 64-bit counter alone on its cache line (updated by every refill / sweep).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedCounter
{
    [FieldOffset(64)]
    public long Value;
}
