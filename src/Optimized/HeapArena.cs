// HeapArena and the arena index (mirrors heapArena and mheap.arenas in runtime/mheap.go). Each
// 64 MiB arena has a native metadata record: the span of every one of its 8192 pages and its
// zeroedBase. The index is Go's L2 map for linux/amd64 (arenaL1Bits = 0): one flat array of
// record pointers indexed by address >> 26, covering the 47-bit user address space. It is mapped
// once (16 MiB of address space, committed only where written), so spanOf is two loads.
// Access: index entries and spans entries are written under the heap lock with Volatile.Write
// and read lock-free; zeroedBase only grows, by CAS (INV-ZERO-1).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct HeapArena
{
    public nint Base;
    /// <summary>Bytes [ZeroedBase, 64 MiB) were never handed out and are zero. Atomic, monotonic.</summary>
    public long ZeroedBase;
    /// <summary>spans[i]: the MSpan* owning page i, or 0.</summary>
    public fixed long Spans[MallocConstants.PagesPerArena];

    public readonly nint End => Base + (nint)MallocConstants.HeapArenaBytes;
}

internal sealed unsafe class ArenaIndex : IDisposable
{
    public const int UserAddrBits = 47;
    private const int Entries = 1 << (UserAddrBits - MallocConstants.LogHeapArenaBytes);
    private readonly HeapArena** _l2;

    /// <summary>The bytes the index maps (16 MiB; committed only where written).</summary>
    public const long MappedBytes = (long)Entries * 8;

    public ArenaIndex() => _l2 = (HeapArena**)SysMem.SysAlloc(Entries * sizeof(nint));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public HeapArena* ArenaOf(nint p)
    {
        ulong i = (ulong)p >> MallocConstants.LogHeapArenaBytes;
        return i < Entries ? (HeapArena*)Volatile.Read(ref *(nint*)(_l2 + i)) : null;
    }

    /// <summary>Registers an arena's record (under the heap lock); publishes it to lock-free readers.</summary>
    public void Set(nint arenaBase, HeapArena* arena) =>
        Volatile.Write(ref *(nint*)(_l2 + ((ulong)arenaBase >> MallocConstants.LogHeapArenaBytes)), (nint)arena);

    /// <summary>spanOf: the span recorded for p's page, or null outside the heap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public MSpan* SpanOf(nint p)
    {
        HeapArena* a = ArenaOf(p);
        if (a == null)
            return null;
        int page = (int)((p - a->Base) >> MallocConstants.PageShift);
        return (MSpan*)Volatile.Read(ref a->Spans[page]);
    }

    public void Dispose() => SysMem.SysFree((nint)_l2, Entries * sizeof(nint));
}
