// FixAlloc: a free-list allocator for fixed-size off-heap records (mirrors runtime/mfixalloc.go),
// one fact used by both heaps: the Reference keeps its span bitmaps here (Go's gcBits), the
// Optimized its mspan and mcache records. Records are carved from 16 KiB chunks of the heap's
// persistentalloc; freed records go on a singly linked free list threaded through their first
// word and are handed out again first (LIFO). Every record handed out is zeroed. Not thread-safe,
// like Go's: callers hold the heap lock.
// Differs from Go: the record size is rounded up to 16 bytes and checked, and there is no first/stat hook.
using System.Runtime.CompilerServices;

namespace GoAlloc;

/// <summary>fixalloc: fixed-size zeroed off-heap records with LIFO reuse of freed ones.</summary>
internal sealed unsafe class FixAlloc
{
    private readonly IPersistentAlloc _persistent;
    private readonly int _size;
    private nint _list;    // free list head
    private nint _chunk;   // next unused byte of the current chunk
    private int _nchunk;   // bytes left in the current chunk

    /// <summary>Records of size bytes (rounded up to 16), carved from persistent's chunks. Throws ArgumentOutOfRangeException for a size under a word or over a chunk.</summary>
    public FixAlloc(int size, IPersistentAlloc persistent)
    {
        if (size < sizeof(nint) || size > MallocConstants.FixAllocChunk)
            throw new ArgumentOutOfRangeException(nameof(size), size, "fixalloc record size out of range");
        _size = (size + 15) & ~15;
        _persistent = persistent;
    }

    /// <summary>The size of each record (the requested size rounded up to 16 bytes).</summary>
    public int Size => _size;

    /// <summary>Bytes handed out and not freed (Go's fixalloc.inuse).</summary>
    public long InUse { get; private set; }

    /// <summary>A zeroed record: the last one freed, else the next of the current chunk (a new chunk when it is used up).</summary>
    public nint Alloc()
    {
        nint v;
        if (_list != 0)
        {
            v = _list;
            _list = *(nint*)v;
            new Span<byte>((void*)v, _size).Clear();
        }
        else
        {
            if (_nchunk < _size)
            {
                _chunk = _persistent.Alloc(MallocConstants.FixAllocChunk, 64);
                _nchunk = MallocConstants.FixAllocChunk;
            }
            v = _chunk;
            _chunk += _size;
            _nchunk -= _size;
        }
        InUse += _size;
        return v;
    }

    /// <summary>Gives record p back: it is the next one Alloc hands out.</summary>
    public void Free(nint p)
    {
        InUse -= _size;
        Unsafe.Write((void*)p, _list);
        _list = p;
    }
}
