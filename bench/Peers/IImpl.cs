// IImpl: one allocator under test, as the peer harness drives it. Each implementation is a struct,
// and every workload is generic over it, so the JIT compiles one body (and one PGO profile) per
// implementation: no shared call site whose guarded devirtualization favours one allocator.
// GoAlloc's allocators free by a GC cycle (Collect marks the live set and sweeps); the native
// peers free each object (Free) and their Collect does nothing.
namespace GoAlloc.Peers;

public interface IImpl
{
    /// <summary>Row label, e.g. "optimized" or "mimalloc calloc".</summary>
    string Name { get; }

    /// <summary>True when objects are freed by Collect (a GC cycle), not by Free.</summary>
    bool Collects { get; }

    /// <summary>Binds the implementation to the calling thread (GoAlloc: acquires P <paramref name="id"/>).</summary>
    void BeginThread(int id);

    /// <summary>Unbinds it (GoAlloc: releases the P).</summary>
    void EndThread(int id);

    /// <summary>Allocates size bytes on the thread bound as <paramref name="id"/>.</summary>
    nint Alloc(int id, long size);

    /// <summary>Frees one object (native peers); GoAlloc does nothing here.</summary>
    void Free(nint p);

    /// <summary>A GC cycle that keeps exactly <paramref name="live"/> (GoAlloc); nothing for the peers.</summary>
    void Collect(ReadOnlySpan<nint> live);

    /// <summary>The stop-the-world part of a cycle: StartMark, Mark each live object, FinishMark (GoAlloc).</summary>
    void MarkTermination(ReadOnlySpan<nint> live);

    /// <summary>finishsweep_m: completes the cycle's sweep (GoAlloc).</summary>
    void FinishSweep();

    /// <summary>Bytes the allocator holds from the OS and in use, if it reports them (GoAlloc's heap_sys / heap_inuse).</summary>
    (long Sys, long InUse) HeapBytes();
}
