// NativeImpl: a C allocator (mimalloc, jemalloc, tcmalloc, glibc) called through unmanaged function
// pointers with SuppressGCTransition (no GC-mode switch per call: the call costs what a C caller
// pays). Zeroed = calloc(1, size), Raw = malloc(size); Free = free.
namespace GoAlloc.Peers;

public readonly unsafe struct NativeImpl<TZero> : IImpl
    where TZero : struct, IZeroTag
{
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, nint> _malloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<nuint, nuint, nint> _calloc;
    private readonly delegate* unmanaged[SuppressGCTransition]<nint, void> _free;
    private readonly string _lib;

    public NativeImpl(NativeLib lib)
    {
        _lib = lib.Name;
        _malloc = (delegate* unmanaged[SuppressGCTransition]<nuint, nint>)lib.Malloc;
        _calloc = (delegate* unmanaged[SuppressGCTransition]<nuint, nuint, nint>)lib.Calloc;
        _free = (delegate* unmanaged[SuppressGCTransition]<nint, void>)lib.Free;
    }

    public string Name => _lib + (TZero.Zero ? " calloc" : " malloc");
    public bool Collects => false;

    public void BeginThread(int id)
    {
    }

    public void EndThread(int id)
    {
    }

    public nint Alloc(int id, long size)
    {
        nint p = TZero.Zero ? _calloc(1, (nuint)size) : _malloc((nuint)size);
        if (p == 0)
            throw new OutOfMemoryException($"{_lib}: allocation of {size} bytes failed");
        return p;
    }

    public void Free(nint p) => _free(p);

    public void Collect(ReadOnlySpan<nint> live)
    {
    }

    public void MarkTermination(ReadOnlySpan<nint> live)
    {
    }

    public void FinishSweep()
    {
    }

    public (long Sys, long InUse) HeapBytes() => (0, 0);
}
