// GcBits: the arenas that hold every span's alloc and mark bitmaps (mirrors gcBitsArenas,
// newMarkBits and nextMarkBitArenaEpoch in runtime/mheap.go). Bitmaps are bump-allocated from
// 64 KiB arenas on the "next" list, lock-free while the head arena has room. Nothing is freed per
// span: at each FinishMark (world stopped, previous sweep complete) the epoch rotates:
// previous -> free list, current -> previous, next -> current. That is safe because after a full
// sweep every span's alloc bits live in current or next, and its mark bits in next.
// Bitmaps are multiples of 8 bytes so allocCache can load 8 bytes at any 64-object boundary.
// Differs from Go: the sweep never maps. Go's mspan.sweep throws (fatal) when newMarkBits cannot
// get memory; here a span owned by its sweeper must not be left half swept, so each rotation
// (FinishMark, before it changes anything, so that a refusal leaves the cycle unfinished) sets aside
// enough arenas for one new mark bitmap per span in use, and mspan.sweep takes its bitmap from them
// (NewSweepMarkBits). Invariant: at a rotation, the reserve holds at least the bytes asked for, in
// arenas of PerArenaBytes each (a bitmap never straddles arenas, so each may waste up to 128 B).
// So that no rotation need map after the heap grew (a cycle must run, and free memory, when the
// address space is exhausted), span setup pays ahead for its bitmaps (EnsureHeadroom) or is
// refused (OutOfMemoryException, before the span is published). With N = the arenas a reserve for
// the spans in use takes and C = the current list's arenas, setup keeps at least
//   free + previous >= max(N, 2N - C) + 1 + N/256          (the floor; else the span is refused)
// The next rotation takes its N out of free + previous; the one after draws on what is left plus
// the current list, which by then is previous (hence 2N - C). Later rotations, with no setup in
// between, find a previous that holds the mark bitmap of every span in use (it was current at a
// rotation where they all were), up to denser packing than N counts (128 B per arena: N/256); the
// 1 is the first arena of the next cycle's next list. Beyond the floor, setup maps up to 3N + 2 +
// N/256 when the system allows (best effort), so that after a cycle as many spans as were in use
// can be set up again without mapping (allocation resumes when the address space is exhausted).
// Fresh arenas cost address space, not resident memory. Go has no such rule (its sweep maps, and
// dies when it cannot).
namespace GoAlloc.Optimized;

internal sealed unsafe class GcBits : IDisposable
{
    private const int ChunkBytes = 64 << 10;
    private const int HeaderBytes = 16; // free offset, next pointer

    // An arena: [0] = free offset (atomic), [1] = next arena; bits follow the header.
    private static ref long FreeOf(nint arena) => ref *(long*)arena;
    private static ref nint NextOf(nint arena) => ref *(nint*)(arena + 8);

    /// <summary>The largest bitmap: 1,024 objects (the 8-byte class in one page).</summary>
    private const int MaxBitmapBytes = 128;

    /// <summary>Bytes of bitmaps an arena certainly holds, whatever their sizes and order.</summary>
    public const long PerArenaBytes = ChunkBytes - HeaderBytes - MaxBitmapBytes;

    private readonly object _lock = new();
    private nint _free, _next, _current, _previous; // lists; _next read lock-free (Volatile)
    private nint _sweep;    // the sweep's arenas in use this epoch, head first; the head is read lock-free (Volatile)
    private nint _reserve;  // arenas set aside for the sweep, none used yet; under _lock
    private int _freeCount, _previousCount; // list lengths; written under _lock, read lock-free as a hint
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

    /// <summary>The bytes of one bitmap for nelems objects (whole 8-byte words).</summary>
    public static long BitmapBytes(int nelems) => ((nelems + 63) / 64) * 8;

    /// <summary>Arenas in the sweep's reserve (tests).</summary>
    public int ReservedArenaCount
    {
        get
        {
            lock (_lock)
                return Length(_reserve);
        }
    }

    /// <summary>newMarkBits: a cleared bitmap for nelems objects (8-byte granules). May map (OutOfMemoryException).</summary>
    public byte* NewMarkBits(int nelems)
    {
        long bytes = BitmapBytes(nelems);
        byte* p = TryAlloc(Volatile.Read(ref _next), bytes);
        if (p != null)
            return p;
        lock (_lock)
        {
            p = TryAlloc(_next, bytes);
            if (p != null)
                return p;
            return Install(ref _next, _free != 0 ? TakeFree() : MapArena(), bytes);
        }
    }

    /// <summary>Arenas that certainly hold bytes of bitmaps, whatever their sizes and order.</summary>
    public static long ArenasFor(long bytes) => (bytes + PerArenaBytes - 1) / PerArenaBytes;

    /// <summary>
    /// The free and previous arenas span setup must keep (see the header) when the spans in use
    /// hold inUseBytes of bitmaps and the current list has currentArenas.
    /// </summary>
    public static long HeadroomFloor(long inUseBytes, long currentArenas)
    {
        long need = ArenasFor(inUseBytes);
        return Math.Max(need, 2 * need - currentArenas) + 1 + need / 256;
    }

    /// <summary>The free and previous arenas span setup maps up to when it can (see the header).</summary>
    public static long HeadroomTarget(long inUseBytes)
    {
        long need = ArenasFor(inUseBytes);
        return 3 * need + 2 + need / 256;
    }

    /// <summary>
    /// Pays ahead for a span's bitmaps: maps fresh arenas onto the free list until the free and
    /// previous lists hold HeadroomTarget(inUseBytes), inUseBytes including the new span's. A
    /// refused mapping is ignored once they hold HeadroomFloor(inUseBytes, current); below it,
    /// OutOfMemoryException (the arenas mapped before it stay on the free list) and the span must
    /// not be used.
    /// </summary>
    public void EnsureHeadroom(long inUseBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inUseBytes);
        long want = HeadroomTarget(inUseBytes);
        // Reads the counts without the lock: free and previous only shrink under it, by a setup
        // that then calls this itself (a stale read maps nothing extra; the locked loop decides).
        if (Volatile.Read(ref _freeCount) + Volatile.Read(ref _previousCount) >= want)
            return;
        lock (_lock)
        {
            try
            {
                while (_freeCount + _previousCount < want)
                {
                    nint a = MapArena();
                    NextOf(a) = _free;
                    _free = a;
                    // Published for the lock-free check above (a count only this lock raises).
                    Volatile.Write(ref _freeCount, _freeCount + 1);
                }
            }
            catch (OutOfMemoryException) when (_freeCount + _previousCount >= HeadroomFloor(inUseBytes, Length(_current)))
            {
                // Past the floor: the next rotations are paid for; the rest was best effort.
            }
        }
    }

    /// <summary>
    /// newMarkBits for mspan.sweep: the same bitmap, taken from the arenas the last rotation set
    /// aside, so it never maps. Falls back to mapping only if more spans are swept than were in
    /// use at the rotation (a caller that broke the stop-the-world contract).
    /// </summary>
    public byte* NewSweepMarkBits(int nelems)
    {
        long bytes = BitmapBytes(nelems);
        byte* p = TryAlloc(Volatile.Read(ref _sweep), bytes);
        if (p != null)
            return p;
        lock (_lock)
        {
            p = TryAlloc(_sweep, bytes);
            if (p != null)
                return p;
            nint fresh = _reserve != 0 ? Take(ref _reserve) : _free != 0 ? TakeFree() : MapArena();
            return Install(ref _sweep, fresh, bytes);
        }
    }

    // Pops an arena off a list, cleared if it was used before. Under _lock.
    private static nint Take(ref nint list)
    {
        nint a = list;
        list = NextOf(a);
        if (FreeOf(a) != 0)
            new Span<byte>((void*)a, ChunkBytes).Clear();
        else
            NextOf(a) = 0;
        return a;
    }

    // Take from the free list, keeping its count. Under _lock.
    private nint TakeFree()
    {
        _freeCount--;
        return Take(ref _free);
    }

    // Maps a fresh (zeroed) arena. Under _lock; OutOfMemoryException if refused, with nothing changed.
    private nint MapArena()
    {
        nint a = SysMem.SysAlloc(ChunkBytes);
        _all.Add(a);
        return a;
    }

    // Makes a cleared arena the head of a list and allocates from it. Under _lock.
    private static byte* Install(ref nint head, nint fresh, long bytes)
    {
        byte* p = TryAlloc(fresh, bytes);
        NextOf(fresh) = head;
        // Publishes the fresh arena (header and list link written) to lock-free allocators.
        Volatile.Write(ref head, fresh);
        return p;
    }

    private static int Length(nint list)
    {
        int n = 0;
        for (; list != 0; list = NextOf(list))
            n++;
        return n;
    }

    private static nint Last(nint list)
    {
        while (NextOf(list) != 0)
            list = NextOf(list);
        return list;
    }

    /// <summary>newAllocBits: the same as mark bits (fresh spans start all free).</summary>
    public byte* NewAllocBits(int nelems) => NewMarkBits(nelems);

    /// <summary>
    /// nextMarkBitArenaEpoch: rotates the lists, and sets aside arenas for sweepBytes of sweep
    /// bitmaps (NewSweepMarkBits). Only with the world stopped and sweeping complete. Throws
    /// OutOfMemoryException before it rotates anything if the reserve cannot be mapped.
    /// </summary>
    public void NextEpoch(long sweepBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sweepBytes);
        lock (_lock)
        {
            long need = ArenasFor(sweepBytes);
            // What the reserve can draw on once rotated: itself, the free list, and the previous
            // epoch (free after this rotation). Map the shortfall first: a refusal leaves only a
            // longer reserve behind.
            for (long have = Length(_reserve) + Length(_free) + Length(_previous); have < need; have++)
            {
                nint a = MapArena();
                NextOf(a) = _reserve;
                _reserve = a;
            }
            // The sweep's arenas hold mark bits for the coming cycle, like next's.
            if (_sweep != 0)
            {
                NextOf(Last(_sweep)) = _next;
                _next = _sweep;
                Volatile.Write(ref _sweep, 0);
            }
            if (_previous != 0)
            {
                NextOf(Last(_previous)) = _free;
                _free = _previous;
            }
            _previous = _current;
            _current = _next;
            Volatile.Write(ref _next, 0);
            for (long have = Length(_reserve); have < need; have++)
            {
                nint a = _free;
                _free = NextOf(a);
                NextOf(a) = _reserve;
                _reserve = a; // cleared when the sweep takes it
            }
            Volatile.Write(ref _freeCount, Length(_free));
            Volatile.Write(ref _previousCount, Length(_previous));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (nint a in _all)
                SysMem.SysFree(a, ChunkBytes);
            _all.Clear();
            _free = _next = _current = _previous = _sweep = _reserve = 0;
            _freeCount = _previousCount = 0;
        }
    }
}
