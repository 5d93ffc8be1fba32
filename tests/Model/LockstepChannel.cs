// LockstepChannel: the channels on which the lock-step comparator (src/Replay LockstepHeap) compares
// two heaps: every answer a caller sees, every side effect it reports through a hook, every stats
// field. A DivergentHeap differs from the heap it wraps on exactly one of them (a Divergence).
namespace GoAlloc.Model;

public enum LockstepChannel
{
    /// <summary>The address Alloc returns (compared as an offset from each heap's first arena).</summary>
    Address,
    /// <summary>The objects a sweep frees, reported through OnFree.</summary>
    FreedList,
    /// <summary>The heap-profile samples, reported through OnSample.</summary>
    Samples,
    /// <summary>Whether a call throws, and the exception's type.</summary>
    ExceptionType,
    /// <summary>FindObject's answer: found, and the ObjectInfo.</summary>
    FindObject,
    /// <summary>Mark's answer.</summary>
    Mark,
    /// <summary>SweepOne's answer (pages, or -1).</summary>
    SweepOne,
    /// <summary>Scavenge's answer (bytes released).</summary>
    Scavenge,
    /// <summary>One field of the HeapStats snapshot.</summary>
    Stats,
    /// <summary>The SweepDone property.</summary>
    SweepDone,
    /// <summary>The Id of the P AcquireP hands out.</summary>
    ProcessorId,
    /// <summary>The Phase property (off / mark).</summary>
    Phase,
}
