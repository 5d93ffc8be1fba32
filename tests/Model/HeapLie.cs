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
}
