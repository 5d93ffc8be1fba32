// MSpan: a run of pages in use as objects of one span class (mirrors mspan in runtime/mheap.go and
// the bitmap helpers of mbitmap.go). The mcentral does not hold free objects: the span does, in its
// allocBits. Object i is allocated iff i < FreeIndex or allocBits[i]; allocation scans allocBits
// forward from FreeIndex (plain loop; the Optimized uses Go's allocCache). Marking sets gcmarkBits;
// sweeping makes gcmarkBits the new allocBits and takes a fresh cleared gcmarkBits.
// Bitmaps are 128-byte off-heap records from FixAlloc (Go's gcBits), bit i at byte i/8, bit i%8.
// Invariants: INV-SPAN-2 (geometry), INV-SPAN-3 (allocCount), INV-SPAN-4 (bits), INV-SWEEP-1.
// Field access: SweepGen and State atomically; FreeIndex/AllocCount/AllocBits by the span's owner
// (the P caching it, or the sweeper that won the sweepgen CAS, or the heap lock holder);
// GcMarkBits words by Interlocked.Or during the mark phase.
using System.Runtime.CompilerServices;

namespace GoAlloc.Reference;

/// <summary>mSpanState: a span record is dead (free pages / unused record), in use by the heap, or manual.</summary>
public enum SpanState
{
    /// <summary>mSpanDead: free pages or an unused span record.</summary>
    Dead = 0,
    /// <summary>mSpanInUse: a span of heap objects.</summary>
    InUse = 1,
    /// <summary>mSpanManual: pages taken out of the heap for manual use (stacks in Go).</summary>
    Manual = 2,
}

internal sealed unsafe class MSpan
{
    /// <summary>Bytes of one gcBits record: room for the 1024 objects of the 8-byte class.</summary>
    public const int GcBitsBytes = 128;

    public nint StartAddr;
    public int NPages;
    public int SpanClass;
    public long ElemSize;
    public int NElems;
    /// <summary>End of the last object (StartAddr + NElems * ElemSize, or the requested size for large objects).</summary>
    public nint Limit;
    public int FreeIndex;
    public int AllocCount;
    public byte* AllocBits;
    public byte* GcMarkBits;
    /// <summary>Memory of free slots may be dirty: zero on allocation.</summary>
    public bool NeedZero;
    /// <summary>Relative to mheap.sweepgen: sg-2 unswept, sg-1 being swept, sg swept, sg+1 stale cached, sg+3 cached. Atomic.</summary>
    public uint SweepGen;
    private int _state;

    public SpanState State
    {
        get => (SpanState)Volatile.Read(ref _state);
        // Publishes every field initialised before it (Go's s.state.set is the publication barrier).
        set => Volatile.Write(ref _state, (int)value);
    }

    /// <summary>The state without a barrier: for Verify, which runs with the world quiescent.</summary>
    public SpanState StatePlain => (SpanState)_state;

    public int SizeClass => GoAlloc.SpanClass.SizeClass(SpanClass);
    public nint Base => StartAddr;
    public nint End => StartAddr + NPages * (nint)MallocConstants.PageSize;

    public bool IsAllocBitSet(int i) => (AllocBits[i >> 3] & (1 << (i & 7))) != 0;
    public bool IsMarked(int i) => (GcMarkBits[i >> 3] & (1 << (i & 7))) != 0;

    /// <summary>Object i is allocated iff it lies below FreeIndex or its alloc bit is set.</summary>
    public bool IsAllocated(int i) => i < FreeIndex || IsAllocBitSet(i);

    /// <summary>Sets the mark bit of object i; true if this call set it (it was clear before).</summary>
    public bool SetMarked(int i)
    {
        ref uint word = ref Unsafe.AsRef<uint>(GcMarkBits + (i >> 5) * 4);
        uint bit = 1u << (i & 31);
        // Publishes the mark to the sweeper; concurrent markers of the same object race benignly:
        // exactly one sees the bit clear.
        uint old = Interlocked.Or(ref word, bit);
        return (old & bit) == 0;
    }

    /// <summary>nextFreeIndex: the first free object at or after FreeIndex (NElems if none); advances FreeIndex past it.</summary>
    public int NextFreeIndex()
    {
        int i = FreeIndex;
        while (i < NElems && IsAllocBitSet(i))
            i++;
        if (i >= NElems)
        {
            FreeIndex = NElems;
            return NElems;
        }
        FreeIndex = i + 1;
        return i;
    }

    /// <summary>countAlloc: the number of mark bits set among the NElems objects.</summary>
    public int CountMarked()
    {
        int n = 0;
        for (int i = 0; i < NElems; i++)
        {
            if (IsMarked(i))
                n++;
        }
        return n;
    }

    /// <summary>objIndex: which object p points into (plain division).</summary>
    public int ObjIndex(nint p) => (int)((p - StartAddr) / ElemSize);

    public nint ObjectAddress(int i) => StartAddr + (nint)(i * ElemSize);

    public override string ToString() =>
        $"span[0x{StartAddr:x}+{NPages}p class={SpanClass} elem={ElemSize} n={NElems} alloc={AllocCount} free={FreeIndex} sg={SweepGen} {State}]";
}
