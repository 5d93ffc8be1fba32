// ModelIdentity: the names of the rules HeapModel checks, grouped by family. A violation's message
// starts with one of these in brackets. Each names the spec rule it comes from (spec/SPEC.md).
namespace GoAlloc.Model;

public static class ModelIdentity
{
    // ---- stats (INV-STATS-1..3, section 4.14)
    /// <summary>heap_alloc = the sum of the slot sizes of the live objects (INV-STATS-1).</summary>
    public const string HeapAlloc = "heap_alloc";
    /// <summary>heap_objects = Mallocs - Frees = the number of live objects (INV-STATS-3).</summary>
    public const string HeapObjects = "heap_objects";
    /// <summary>Mallocs / Frees: every small slot, tiny block and large object handed out / swept.</summary>
    public const string MallocsFrees = "mallocs/frees";
    /// <summary>by_size[c].nmalloc / nfree per size class; a tiny block is one class-2 slot (INV-STATS-3).</summary>
    public const string BySize = "by_size";
    /// <summary>tiny_allocs: tiny objects combined into an existing block (4.9).</summary>
    public const string TinyAllocs = "tiny_allocs";
    /// <summary>LargeAllocs / LargeFrees (4.7).</summary>
    public const string LargeObjects = "large_allocs/large_frees";
    /// <summary>heap_inuse >= heap_alloc, heap_inuse = 8192 x PagesInUse (INV-STATS-2).</summary>
    public const string HeapInuse = "heap_inuse";
    /// <summary>heap_released &lt;= heap_sys - heap_inuse; heap_sys = 64 MiB x arenas (INV-STATS-2, INV-ARENA-1).</summary>
    public const string HeapReleased = "heap_released";
    /// <summary>heap_marked = the slot bytes marked in the last mark phase, allocate-black and tiny blocks included (4.14).</summary>
    public const string HeapMarked = "heap_marked";
    /// <summary>NumGC = FinishMark calls; BadMarks = refused Marks; ProfileSamples = OnSample calls.</summary>
    public const string Counters = "counters";

    // ---- sweep pacing (INV-PACE-1..3, section 4.8)
    /// <summary>heap_live reached the next trigger before every page of the cycle was swept (INV-PACE-1).</summary>
    public const string PaceTrigger = "INV-PACE-1 swept by the trigger";
    /// <summary>A span taken before its sweep credit was paid: pages swept behind the pacing line (INV-PACE-2).</summary>
    public const string PaceCredit = "INV-PACE-2 credit before the span";
    /// <summary>pagesSwept outside 0..the cycle's pages, or heap_live below heap_marked (INV-PACE-3).</summary>
    public const string PaceCounters = "INV-PACE-3 counters";

    // ---- sweep set (INV-MARK-1)
    /// <summary>A sweep freed an object that was marked (or allocated black), or something that is not a live object.</summary>
    public const string SweepFreedLive = "sweep-set: freed a live object";
    /// <summary>Sweep done, yet an object left unmarked by the last mark phase was not freed.</summary>
    public const string SweepKeptDead = "sweep-set: kept an unmarked object";

    // ---- zeroing (INV-ZERO-1, 4.11)
    /// <summary>An Alloc(needzero: true) object or a new tiny block did not read zero.</summary>
    public const string Zeroing = "zeroing";

    // ---- objects and addresses (INV-OBJ-1, 4.5, 4.9, 4.12)
    /// <summary>An allocation overlaps a live object, is misaligned, or is not where the tiny rules put it.</summary>
    public const string Placement = "placement";
    /// <summary>FindObject's answer for an interior, boundary or dead address.</summary>
    public const string FindObject = "find-object";
    /// <summary>Mark's answer: true exactly for an address inside a live object (below a large object's limit).</summary>
    public const string Mark = "mark";
}
