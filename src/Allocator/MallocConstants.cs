// MallocConstants: the layout constants of Go 1.16 on linux/amd64 (mirrors the constants block of
// runtime/malloc.go, mheap.go, mpagealloc.go and mpagecache.go). Facts shared by both allocators.
namespace GoAlloc;

/// <summary>Go 1.16's layout constants on linux/amd64 (malloc.go, mheap.go, mpagealloc.go, mpagecache.go), shared by both allocators.</summary>
public static class MallocConstants
{
    /// <summary>_PageShift: heap pages are 8 KiB.</summary>
    public const int PageShift = 13;
    /// <summary>_PageSize: 8192 bytes.</summary>
    public const long PageSize = 1L << PageShift;
    /// <summary>_PageMask: the byte offset bits within a page.</summary>
    public const long PageMask = PageSize - 1;

    /// <summary>logHeapArenaBytes: arenas are 64 MiB and aligned to 64 MiB.</summary>
    public const int LogHeapArenaBytes = 26;
    /// <summary>heapArenaBytes: 64 MiB.</summary>
    public const long HeapArenaBytes = 1L << LogHeapArenaBytes;
    /// <summary>pagesPerArena: 8192 pages.</summary>
    public const int PagesPerArena = (int)(HeapArenaBytes / PageSize);

    /// <summary>heapAddrBits: user addresses on linux/amd64 have 48 significant bits.</summary>
    public const int HeapAddrBits = 48;
    /// <summary>Largest single allocation the allocators accept (Go's maxAlloc is 1&lt;&lt;heapAddrBits).</summary>
    public const long MaxAlloc = 1L << 40;

    /// <summary>pallocChunkPages: the page allocator grows and searches in 4 MiB chunks of 512 pages.</summary>
    public const int PallocChunkPages = 512;
    /// <summary>pallocChunkBytes: 4 MiB.</summary>
    public const long PallocChunkBytes = PallocChunkPages * PageSize;

    /// <summary>pageCachePages: a per-P page cache covers 64 aligned pages.</summary>
    public const int PageCachePages = 64;
    /// <summary>Spans of fewer pages than this come from the per-P page cache.</summary>
    public const int PageCacheMaxSpanPages = PageCachePages / 4;

    /// <summary>numSpanClasses: every size class in a scan and a noscan flavour.</summary>
    public const int NumSpanClasses = SizeClasses.NumSizeClasses << 1;
    /// <summary>tinySpanClass: size class 2, noscan.</summary>
    public const int TinySpanClass = (SizeClasses.TinySizeClass << 1) | 1;

    /// <summary>Go's arena hints on linux/amd64: 0x00c0&lt;&lt;32, 0x01c0&lt;&lt;32, ..., 0x7fc0&lt;&lt;32.</summary>
    public const int ArenaHintCount = 0x80;
    /// <summary>The address of arena hint <paramref name="i"/> (0..ArenaHintCount-1), as mallocinit lays them out.</summary>
    public static long ArenaHint(int i) => ((long)i << 40) | (0x00c0L << 32);

    /// <summary>_FixAllocChunk: fixalloc carves 16 KiB chunks.</summary>
    public const int FixAllocChunk = 16 << 10;
    /// <summary>persistentChunkSize: persistentalloc takes 256 KiB chunks.</summary>
    public const int PersistentChunkSize = 256 << 10;

    /// <summary>spanBudget in mcentral.cacheSpan: unswept spans tried before growing.</summary>
    public const int CacheSpanSweepBudget = 100;

    /// <summary>Go's heapminimum: the smallest GC trigger used for sweep pacing.</summary>
    public const long HeapMinimum = 4L << 20;
}

/// <summary>spanClass: size class &lt;&lt; 1 | noscan. Span class 0/1 hold large objects.</summary>
public static class SpanClass
{
    /// <summary>makeSpanClass: the span class of a size class, scan or noscan.</summary>
    public static int Make(int sizeClass, bool noscan) => (sizeClass << 1) | (noscan ? 1 : 0);
    /// <summary>spanClass.sizeclass: the size class, 0 for a large object.</summary>
    public static int SizeClass(int spanClass) => spanClass >> 1;
    /// <summary>spanClass.noscan: true when the span's objects hold no pointers.</summary>
    public static bool NoScan(int spanClass) => (spanClass & 1) != 0;
}
