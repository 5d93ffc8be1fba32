// PersistentAlloc: off-heap memory for allocator metadata that is never freed (mirrors
// persistentalloc in runtime/malloc.go): bump allocation inside 256 KiB chunks, each chunk carved
// from the heap's LinearAlloc. Memory comes back zeroed. Thread-safe: one lock (Go uses a per-P
// chunk plus a global lock; the Reference keeps just the global one).
namespace GoAlloc.Reference;

internal sealed class PersistentAlloc : IDisposable
{
    private readonly object _lock = new();
    private readonly LinearAlloc _region;
    private nint _chunk;  // current chunk, under _lock
    private nint _offset; // bytes used in it, under _lock

    public PersistentAlloc(nint reserveBytes) => _region = new LinearAlloc(reserveBytes);

    public long SysBytes
    {
        get
        {
            lock (_lock)
                return _region.MappedBytes;
        }
    }

    /// <summary>Zeroed size bytes aligned to align (a power of two, at most a page).</summary>
    public nint Alloc(nint size, nint align)
    {
        if (size <= 0 || size > MallocConstants.PersistentChunkSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, "persistentalloc size out of range");
        lock (_lock)
        {
            _offset = (_offset + align - 1) & ~(align - 1);
            if (_chunk == 0 || _offset + size > MallocConstants.PersistentChunkSize)
            {
                _chunk = _region.Alloc(MallocConstants.PersistentChunkSize, SysMem.PhysPageSize);
                if (_chunk == 0)
                    throw new OutOfMemoryException("persistentalloc: metadata region exhausted");
                _offset = 0;
            }
            nint p = _chunk + _offset;
            _offset += size;
            return p;
        }
    }

    public void Dispose() => _region.Dispose();
}
