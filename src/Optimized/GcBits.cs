// GcBits: the arenas that hold every span's alloc and mark bitmaps (mirrors gcBitsArenas,
// newMarkBits and nextMarkBitArenaEpoch in runtime/mheap.go). Bitmaps are bump-allocated from
// 64 KiB arenas on the "next" list, lock-free while the head arena has room. Nothing is freed per
// span: at each FinishMark (world stopped, previous sweep complete) the epoch rotates:
// previous -> free list, current -> previous, next -> current. That is safe because after a full
// sweep every span's alloc bits live in current or next, and its mark bits in next.
// Bitmaps are multiples of 8 bytes so allocCache can load 8 bytes at any 64-object boundary.
namespace GoAlloc.Optimized;

internal sealed unsafe class GcBits : IDisposable
{
    private const int ChunkBytes = 64 << 10;
    private const int HeaderBytes = 16; // free offset, next pointer

    // An arena: [0] = free offset (atomic), [1] = next arena; bits follow the header.
    private static ref long FreeOf(nint arena) => ref *(long*)arena;
    private static ref nint NextOf(nint arena) => ref *(nint*)(arena + 8);

    private readonly object _lock = new();
    private nint _free, _next, _current, _previous; // lists; _next read lock-free (Volatile)
    private readonly List<nint> _all = [];          // every arena ever mapped, under _lock

    public int ArenaCount
    {
        get
        {
            lock (_lock)
                return _all.Count;
        }
    }

    private static byte* TryAlloc(nint arena, long bytes)
    {
        if (arena == 0 || Volatile.Read(ref FreeOf(arena)) + bytes > ChunkBytes - HeaderBytes)
            return null;
        // Reserves [end-bytes, end) of this arena; racing allocators each get a disjoint range.
        long end = Interlocked.Add(ref FreeOf(arena), bytes);
        if (end > ChunkBytes - HeaderBytes)
            return null;
        return (byte*)(arena + HeaderBytes + (nint)(end - bytes));
    }

    /// <summary>newMarkBits: a cleared bitmap for nelems objects (8-byte granules).</summary>
    public byte* NewMarkBits(int nelems)
    {
        long bytes = ((nelems + 63) / 64) * 8;
        byte* p = TryAlloc(Volatile.Read(ref _next), bytes);
        if (p != null)
            return p;
        lock (_lock)
        {
            p = TryAlloc(_next, bytes);
            if (p != null)
                return p;
            nint fresh;
            if (_free != 0)
            {
                fresh = _free;
                _free = NextOf(fresh);
                new Span<byte>((void*)fresh, ChunkBytes).Clear();
            }
            else
            {
                fresh = SysMem.SysAlloc(ChunkBytes);
                _all.Add(fresh);
            }
            p = TryAlloc(fresh, bytes);
            NextOf(fresh) = _next;
            // Publishes the fresh arena (header and list link written) to lock-free allocators.
            Volatile.Write(ref _next, fresh);
            return p;
        }
    }

    /// <summary>newAllocBits: the same as mark bits (fresh spans start all free).</summary>
    public byte* NewAllocBits(int nelems) => NewMarkBits(nelems);

    /// <summary>nextMarkBitArenaEpoch: rotate the lists. Only with the world stopped and sweeping complete.</summary>
    public void NextEpoch()
    {
        lock (_lock)
        {
            if (_previous != 0)
            {
                nint last = _previous;
                while (NextOf(last) != 0)
                    last = NextOf(last);
                NextOf(last) = _free;
                _free = _previous;
            }
            _previous = _current;
            _current = _next;
            Volatile.Write(ref _next, 0);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (nint a in _all)
                SysMem.SysFree(a, ChunkBytes);
            _all.Clear();
            _free = _next = _current = _previous = 0;
        }
    }
}
