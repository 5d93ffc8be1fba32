// IHeap / IProcessor: the public surface both allocators implement (the shape of Go's mallocgc,
// acquirep/releasep, gcStart/gcMarkTermination, sweepone/finishsweep_m, scavenge, ReadMemStats).
// The caller drives the GC cycle: StartMark, Mark(ptr) for every live object, FinishMark; unmarked
// objects are then freed by sweeping (SweepOne, the background sweeper, lazy sweeping in refills,
// FinishSweep). Equivalence contract: for the same single-threaded call sequence, Reference and
// Optimized return the same addresses (as offsets from ArenaBase) and equal HeapStats.
namespace GoAlloc;

/// <summary>Go's gcphase as the allocator sees it (_GCmarktermination happens inside FinishMark).</summary>
public enum GcPhase
{
    /// <summary>_GCoff: no marking; allocations are white.</summary>
    Off,
    /// <summary>_GCmark: Mark() is accepted and new objects are allocated black.</summary>
    Mark,
}

/// <summary>A Go heap: the surface both allocators implement. Allocation goes through a P (IProcessor.Alloc); the caller drives the GC cycle (StartMark, Mark, FinishMark) and sweeping frees what was not marked.</summary>
public interface IHeap : IDisposable
{
    /// <summary>The options the heap was created with.</summary>
    HeapOptions Options { get; }

    /// <summary>Base address of the heap's first arena (0 before the first allocation grows the heap).</summary>
    nint ArenaBase { get; }

    /// <summary>The address every zero-byte allocation returns (Go's zerobase); not inside any arena.</summary>
    nint ZeroBase { get; }

    /// <summary>Number of Ps (GOMAXPROCS).</summary>
    int ProcCount { get; }

    /// <summary>Mark between StartMark and FinishMark, Off otherwise.</summary>
    GcPhase Phase { get; }

    /// <summary>Acquires the lowest-numbered idle P for the calling thread and runs prepareForSweep.</summary>
    IProcessor AcquireP();

    /// <summary>
    /// Acquires P <paramref name="id"/>; InvalidOperationException if another live thread holds it
    /// (a P held by a thread that has exited is reclaimed here, at StartMark/FinishMark, FinishSweep and Dispose).
    /// </summary>
    IProcessor AcquireP(int id);

    /// <summary>Stop-the-world: finishes the previous sweep, then starts marking (allocate-black on).</summary>
    void StartMark();

    /// <summary>
    /// Marks the object containing <paramref name="ptr"/> (interior pointers resolve to the object).
    /// Returns false (and counts a bad mark) when ptr is not inside an allocated object; in strict mode
    /// that throws ArgumentOutOfRangeException instead.
    /// </summary>
    bool Mark(nint ptr);

    /// <summary>Stop-the-world: ends marking; sweepgen += 2; every span now needs sweeping.</summary>
    void FinishMark();

    /// <summary>Sweeps one span (Go's sweepone): pages returned to the heap, or -1 if nothing was left.</summary>
    long SweepOne();

    /// <summary>Sweeps everything still unswept, flushes idle Ps of the previous cycle, waits for other sweepers.</summary>
    void FinishSweep();

    /// <summary>True when every span of this cycle is swept and no sweeper is in progress.</summary>
    bool SweepDone { get; }

    /// <summary>Starts the background sweeper thread (Go's bgsweep).</summary>
    void StartBackgroundSweeper();

    /// <summary>Stops the background sweeper and waits for it to exit.</summary>
    void StopBackgroundSweeper();

    /// <summary>
    /// debug.SetGCPercent: changes GOGC and re-paces the current sweep at once, concurrently with
    /// allocation (as Go 1.19 does without stopping the world). Negative turns proportional sweeping off.
    /// </summary>
    void SetGcPercent(int percent);

    /// <summary>Returns free pages to the OS, highest address first; the bytes released.</summary>
    long Scavenge(long bytes);

    /// <summary>A consistent snapshot of memstats (exact when no P is allocating concurrently).</summary>
    HeapStats ReadStats();

    /// <summary>
    /// Resolves an address (interior pointers too) to its object, if it lies in an in-use span.
    /// Needs no P and may run concurrently with sweeps, flushes and cycle boundaries: it always
    /// returns, and an object live throughout the call is reported allocated (spec/SPEC.md 4.12).
    /// </summary>
    bool FindObject(nint ptr, out ObjectInfo info);

    /// <summary>Checks every invariant of spec/SPEC.md; throws HeapInvariantException naming the broken INV id.</summary>
    void Verify();
}

/// <summary>A P: owned by one thread between AcquireP and Release; its mcache needs no lock.</summary>
public interface IProcessor
{
    /// <summary>p.id: this P's number, 0..ProcCount-1.</summary>
    int Id { get; }

    /// <summary>
    /// mallocgc: allocates size bytes. Size 0 returns ZeroBase; noscan objects under 16 bytes use the
    /// tiny allocator; sizes up to 32 KiB use size classes; larger ones get their own span. With
    /// needzero the returned memory is zero.
    /// </summary>
    nint Alloc(long size, bool noscan = false, bool needzero = true);

    /// <summary>Forces the mcache back to the mcentrals (releaseAll), as Go does when a P is destroyed.</summary>
    void Flush();

    /// <summary>Gives the P back (releasep); its mcache stays with it.</summary>
    void Release();
}

/// <summary>What FindObject reports: the object base, its slot size, its span class, and whether it is allocated.</summary>
public readonly record struct ObjectInfo(nint Base, long Size, int SpanClass, bool Allocated);

/// <summary>A heap-profile sample: the allocation's address, its (rounded) size, and the P that made it.</summary>
public readonly record struct SampledAllocation(nint Address, long Size, int P);
