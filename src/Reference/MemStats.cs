// MemStats: the heap-wide counters behind HeapStats (mirrors the mheap/memstats fields of
// runtime/mstats.go). Per-P allocation counts live in each MCache and are summed by ReadStats.
// Differs from Go (some counters atomic, some under mheap.lock): all are under the heap lock.
namespace GoAlloc.Reference;

internal sealed class MemStats
{
    public long HeapSys;
    public long HeapInuse;
    public long HeapReleased;
    public long Arenas;

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
