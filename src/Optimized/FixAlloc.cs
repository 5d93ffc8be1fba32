// FixAlloc: Go's fixalloc (runtime/mfixalloc.go): fixed-size off-heap records carved from 16 KiB
// persistentalloc chunks, freed records reused LIFO through a free list threaded in their first
// word, each record zeroed when handed out. Not thread-safe, like Go's: the caller holds the heap
// lock (spans, mcaches). The Optimized keeps mspan and mcache records here, never on the GC heap.
namespace GoAlloc.Optimized;

internal unsafe struct FixAlloc
{
    private PersistentAlloc _persistent;
    private nint _size;
    private nint _list;   // free list head
    private nint _chunk;  // next unused byte of the current chunk
    private nint _nchunk; // bytes left in it
    public long InUse;

    public FixAlloc(nint size, PersistentAlloc persistent)
    {
        _size = (size + 15) & ~15;
        _persistent = persistent;
    }

    public nint Alloc()
    {
        nint v;
        if (_list != 0)
        {
            v = _list;
            _list = *(nint*)v;
            new Span<byte>((void*)v, (int)_size).Clear();
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
        *(nint*)p = _list;
        _list = p;
    }
}
