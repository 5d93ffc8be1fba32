// FixAlloc: a free-list allocator for fixed-size off-heap records (mirrors runtime/mfixalloc.go).
// Blocks are carved from 16 KiB chunks taken from PersistentAlloc; freed blocks go on a singly
// linked free list threaded through their first word and are handed out again first (LIFO).
// Every block handed out is zeroed. Not thread-safe: callers hold the heap lock (as Go's do).
// The Reference uses it for span alloc/mark bitmaps (Go's gcBits); the Optimized also for mspans.
using System.Runtime.CompilerServices;

namespace GoAlloc.Reference;

internal sealed unsafe class FixAlloc
{
    private readonly PersistentAlloc _persistent;
    private readonly int _size;
    private nint _list;    // free list head
    private nint _chunk;   // next unused byte of the current chunk
    private int _nchunk;   // bytes left in the current chunk

    public FixAlloc(int size, PersistentAlloc persistent)
    {
        if (size < sizeof(nint) || size > MallocConstants.FixAllocChunk)
            throw new ArgumentOutOfRangeException(nameof(size), size, "fixalloc record size out of range");
        _size = (size + 7) & ~7;
        _persistent = persistent;
    }

    /// <summary>Bytes handed out and not freed (Go's fixalloc.inuse).</summary>
    public long InUse { get; private set; }

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

    public void Free(nint p)
    {
        InUse -= _size;
        Unsafe.Write((void*)p, _list);
        _list = p;
    }
}
