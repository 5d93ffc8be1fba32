// PersistentAlloc: off-heap memory for metadata that lives as long as the heap (mirrors
// persistentalloc in runtime/malloc.go): bump allocation in 256 KiB chunks mapped with SysAlloc,
// all of them unmapped at Dispose. Zeroed memory. Thread-safe by one lock.
// C# difference: Go keeps a per-P chunk to avoid the lock; metadata allocation is off the hot path
// here (spans and mcaches come from FixAlloc under the heap lock), so one lock is enough.
namespace GoAlloc.Optimized;

internal sealed class PersistentAlloc : IPersistentAlloc, IDisposable
{
    private readonly object _lock = new();
    private readonly List<(nint Base, nint Size)> _chunks = []; // under _lock
    private nint _chunk;   // under _lock
    private nint _offset;  // under _lock

    public long SysBytes { get; private set; }

    /// <summary>Zeroed size bytes aligned to align (a power of two up to the page size).</summary>
    public nint Alloc(nint size, nint align)
    {
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "persistentalloc size must be positive");
        lock (_lock)
        {
            if (size > MallocConstants.PersistentChunkSize / 4)
            {
                // Big records get their own mapping, as Go does past maxBlock.
                nint big = SysMem.SysAlloc((size + SysMem.PhysPageSize - 1) & ~(nint)(SysMem.PhysPageSize - 1));
                _chunks.Add((big, size));
                SysBytes += size;
                return big;
            }
            _offset = (_offset + align - 1) & ~(align - 1);
            if (_chunk == 0 || _offset + size > MallocConstants.PersistentChunkSize)
            {
                _chunk = SysMem.SysAlloc(MallocConstants.PersistentChunkSize);
                _chunks.Add((_chunk, MallocConstants.PersistentChunkSize));
                SysBytes += MallocConstants.PersistentChunkSize;
                _offset = 0;
            }
            nint p = _chunk + _offset;
            _offset += size;
            return p;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach ((nint b, nint n) in _chunks)
                SysMem.SysFree(b, (n + SysMem.PhysPageSize - 1) & ~(nint)(SysMem.PhysPageSize - 1));
            _chunks.Clear();
            _chunk = 0;
        }
    }
}
