// ArenaHints: where the heap reserves its next arenas (mirrors mheap_.arenaHints and the
// reservation loop of sysAlloc in runtime/malloc.go), one fact for both heaps, so both place their
// arenas at the same addresses. The hints start at Go's 0x00c0<<32 + i<<40 (UseArenaHints); a
// reservation tries them in order, moving the hint that worked past the reserved space and dropping
// each one that failed; when none works it takes any arena-aligned address and hints to grow up
// from it (and down below it). Not thread-safe: the caller holds the heap lock.
// Differs from Go: the heap memory limit is checked here (Go has none), and a failed growth
// leaves the hints as they were (Undo), where Go's throw ends the process.
namespace GoAlloc;

/// <summary>arenaHints: the addresses to try for the next arena reservation.</summary>
internal sealed class ArenaHints
{
    /// <summary>Arenas must end below 1 &lt;&lt; UserAddrBits (x86-64's user half of 48-bit addresses).</summary>
    public const int UserAddrBits = MallocConstants.HeapAddrBits - 1;

    private List<(long Addr, bool Down)> _hints;
    /// <summary>The hints before the last Reserve, for Undo.</summary>
    private List<(long Addr, bool Down)> _saved = [];

    /// <summary>Go's default hints when useHints (HeapOptions.UseArenaHints), else none: the first reservation takes any address.</summary>
    public ArenaHints(bool useHints)
        : this(useHints ? DefaultHints() : [])
    {
    }

    /// <summary>The given hints, tried in order.</summary>
    public ArenaHints(IEnumerable<(long Addr, bool Down)> hints) => _hints = [.. hints];

    /// <summary>Go's hints for amd64: 0x00c0&lt;&lt;32 + i&lt;&lt;40 for i in 0..0x7f, each growing up.</summary>
    private static List<(long Addr, bool Down)> DefaultHints()
    {
        var hints = new List<(long Addr, bool Down)>(MallocConstants.ArenaHintCount);
        for (int i = 0; i < MallocConstants.ArenaHintCount; i++)
            hints.Add((MallocConstants.ArenaHint(i), false));
        return hints;
    }

    /// <summary>The hints in the order they are tried.</summary>
    public IReadOnlyList<(long Addr, bool Down)> Hints => _hints;

    /// <summary>
    /// sysAlloc's reservation: at least n bytes of whole arenas, at the first hint that works, else
    /// any arena-aligned address. Returns the reserved (not mapped) base and size. Throws
    /// OutOfMemoryException, the hints unchanged, past memoryLimit (counting heapSys, the heap's
    /// mapped arena bytes) or when the OS refuses.
    /// </summary>
    public (nint Base, long Size) Reserve(long n, long heapSys, long memoryLimit)
    {
        n = (n + MallocConstants.HeapArenaBytes - 1) & ~(MallocConstants.HeapArenaBytes - 1);
        if (n <= 0 || heapSys + n > memoryLimit || heapSys + n < 0)
            throw new OutOfMemoryException($"heap memory limit: heap_sys {heapSys} + {n} bytes exceeds MemoryLimit {memoryLimit}");
        _saved = [.. _hints];
        try
        {
            return (ReserveAtHints(n), n);
        }
        catch (OutOfMemoryException)
        {
            Undo();
            throw;
        }
    }

    /// <summary>The step after the last Reserve failed (the heap gave the reservation back): the hints are put back as they were before it.</summary>
    public void Undo() => _hints = [.. _saved];

    private nint ReserveAtHints(long n)
    {
        while (_hints.Count > 0)
        {
            (long addr, bool down) = _hints[0];
            long p = down ? addr - n : addr;
            nint got = 0;
            if (p > 0 && p + n > p && p + n <= 1L << UserAddrBits)
            {
                try
                {
                    got = SysMem.SysReserve((nint)p, (nint)n);
                }
                catch (OutOfMemoryException)
                {
                    got = 0;
                }
            }
            if (got == (nint)p && got != 0)
            {
                _hints[0] = (down ? p : p + n, down);
                return got;
            }
            // The hint failed: drop it and try the next one.
            if (got != 0)
                SysMem.SysFree(got, (nint)n);
            _hints.RemoveAt(0);
        }
        // Every hint failed: take any suitably aligned address, and hint to grow around it.
        nint v = SysMem.SysReserveAligned(0, (nint)n, (nint)MallocConstants.HeapArenaBytes);
        if (v + n > 1L << UserAddrBits)
        {
            SysMem.SysFree(v, (nint)n);
            throw new OutOfMemoryException("sysAlloc: arena outside the indexable address space");
        }
        _hints.Insert(0, (v, true));
        _hints.Insert(0, (v + (nint)n, false));
        return v;
    }
}
