// HeapLie: the ways a LyingHeap departs from the heap it wraps, one per identity family of the
// heap model. Each is a bug a real developer or porter could write and both allocators could
// share (so the lock-step comparison alone cannot see it); the model must catch every one.
namespace GoAlloc.Model;

public enum HeapLie
{
    /// <summary>Stats: heap_alloc reported one 8-byte slot too high once anything was allocated.</summary>
    HeapAllocOffByOneSlot,
    /// <summary>Sweep set: the first object each cycle's sweep frees is kept (not reported, still counted live).</summary>
    KeepsOneUnmarkedObject,
    /// <summary>Zeroing: after the first GC cycle, an Alloc(needzero: true) object of 16 bytes or more comes back with its last byte dirty.</summary>
    SkipsZeroingAfterACycle,
    /// <summary>FindObject: a free slot of an in-use span is reported allocated.</summary>
    FindObjectReportsFreeSlotsAllocated,
    /// <summary>Mark: a pointer outside every object is accepted (and not counted as a bad mark).</summary>
    MarkAcceptsEveryPointer,
    /// <summary>Stats: Frees reported one short once anything was freed, so heap_objects is one too many.</summary>
    HeapObjectsOneTooMany,
    /// <summary>Stats: by_size[c].nmalloc one too high for the first class with an allocation.</summary>
    BySizeNmallocOffByOne,
    /// <summary>Stats: Mallocs and Frees both one too high (heap_objects still right).</summary>
    MallocsAndFreesOneTooHigh,
    /// <summary>Stats: tiny_allocs one too high once a tiny object was combined into a block.</summary>
    TinyAllocsOffByOne,
    /// <summary>Stats: LargeAllocs one too high once a large object was allocated.</summary>
    LargeAllocsOffByOne,
    /// <summary>Stats: heap_inuse one page short of PagesInUse x 8192 once a page is in use.</summary>
    HeapInuseOnePageShort,
    /// <summary>Stats: heap_released one page above heap_sys - heap_inuse once anything was allocated.</summary>
    HeapReleasedAboveIdle,
    /// <summary>Stats: heap_marked one 8-byte slot too high after the first GC cycle.</summary>
    HeapMarkedOffByOneSlot,
    /// <summary>Stats: NumGC one too high after the first GC cycle.</summary>
    NumGcOffByOne,
}
