// PersistentAlloc: off-heap memory for allocator metadata that is never freed (mirrors
// persistentalloc in runtime/malloc.go): bump allocation inside 256 KiB chunks, each chunk carved
// from a LinearAlloc region. Regions are reserved lazily: the first of the size the heap asks for,
// each next one twice as large (up to 1 GiB), so a small heap reserves little address space.
// Memory comes back zeroed. Differs from Go (a per-P chunk plus a global lock): not thread-safe,
// its callers hold the heap lock.
namespace GoAlloc.Reference;

internal sealed class PersistentAlloc : IPersistentAlloc, IDisposable
{
    private const long MaxRegionBytes = 1L << 30;
    private readonly List<LinearAlloc> _regions = []; // the last one is current
    private nint _nextRegionBytes;
    private nint _chunk;  // current chunk
    private nint _offset; // bytes used in it

    public PersistentAlloc(nint firstRegionBytes)
    {
        _nextRegionBytes = firstRegionBytes;
        AddRegion();
    }

    /// <summary>Bytes mapped so far (metadata memory that counts as used).</summary>
    public long SysBytes => _regions.Sum(r => r.MappedBytes);

    /// <summary>Address space reserved for metadata so far.</summary>
    public long ReservedBytes => _regions.Sum(r => r.ReservedBytes);

    /// <summary>Reserves the next region (OutOfMemoryException if the OS refuses).</summary>
    private LinearAlloc AddRegion()
    {
        var r = new LinearAlloc(_nextRegionBytes);
        _regions.Add(r);
        _nextRegionBytes = (nint)Math.Min(MaxRegionBytes, 2L * _nextRegionBytes);
        return r;
    }

    /// <summary>Zeroed size bytes aligned to align (a power of two, at most a page).</summary>
    public nint Alloc(nint size, nint align)
    {
        if (size <= 0 || size > MallocConstants.PersistentChunkSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, "persistentalloc size out of range");
        _offset = (_offset + align - 1) & ~(align - 1);
        if (_chunk == 0 || _offset + size > MallocConstants.PersistentChunkSize)
        {
            _chunk = _regions[^1].Alloc(MallocConstants.PersistentChunkSize, SysMem.PhysPageSize);
            if (_chunk == 0)
                _chunk = AddRegion().Alloc(MallocConstants.PersistentChunkSize, SysMem.PhysPageSize);
            _offset = 0;
        }
        nint p = _chunk + _offset;
        _offset += size;
        return p;
    }

    public void Dispose()
    {
        foreach (LinearAlloc r in _regions)
            r.Dispose();
        _regions.Clear();
        _chunk = 0;
    }
}
