// MemStats: the heap-wide counters behind HeapStats (mirrors the mheap/memstats fields of
// runtime/mstats.go). Per-P allocation counts live in each MCache and are summed by ReadStats.
// Access: the "heap lock" group only under MHeap.Lock; the "atomic" group only via Interlocked /
// Volatile (they are updated by sweepers and markers on any thread).
namespace GoAlloc.Reference;

internal sealed class MemStats
{
    // Under the heap lock.
    public long HeapSys;
    public long HeapInuse;
    public long HeapReleased;
    public long Arenas;

    // Atomic.
    public readonly long[] NSmallFree = new long[SizeClasses.NumSizeClasses];
    public long LargeFrees;
    public long LargeFreeBytes;
    public long HeapLive;
    public long BytesMarked;
    public long HeapMarked;
    public long PagesSwept;
    public long BadMarks;
    public long NumGC;
}
