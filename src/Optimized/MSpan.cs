// MSpan: a span record in native memory (mirrors mspan in runtime/mheap.go and the allocCache /
// bitmap code of mbitmap.go). Records come from the heap's FixAlloc and are recycled when a span
// dies, so a stale pointer in an unswept set may name a reused record: poppers check State and
// SweepGen (INV-SWEEP-2). allocCache holds the complement of the 64 alloc bits starting at the
// 64-aligned group of FreeIndex, shifted so bit 0 is FreeIndex: nextFreeFast is one TZCNT.
// Object index from an offset uses Go's divmagic (no division).
// Access: SweepGen and State atomically; FreeIndex/AllocCache/AllocCount/AllocBits by the owner
// (the P caching it, the sweeper that won the sweepgen CAS, or the heap lock holder); GcMarkBits
// words by Interlocked.Or while marking.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

internal enum SpanState
{
    Dead = 0,
    InUse = 1,
    Manual = 2,
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MSpan
{
    public nint StartAddr;
    public nint Limit;
    public ulong AllocCache;
    public long ElemSize;
    public byte* AllocBits;
    public byte* GcMarkBits;
    public int NPages;
    public int NElems;
    public int FreeIndex;
    public int AllocCount;
    public int SpanClass;
    public uint SweepGen;
    public int State;
    public byte NeedZero;
    public byte DivShift;
    public byte DivShift2;
    public ushort DivMul;
    public ushort BaseMask;
    public byte InOverflow; // 1 while the span is in MHeap's swept overflow list; under MHeap.Lock

    public readonly int SizeClass => SpanClass >> 1;
    public readonly nint End => StartAddr + NPages * (nint)MallocConstants.PageSize;
    public readonly SpanState LoadState() => (SpanState)Volatile.Read(ref Unsafe.AsRef(in State));

    /// <summary>objIndex: offset / elemsize by Go's divmagic (shift, or multiply and shift).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int ObjIndex(nint p)
    {
        ulong off = (ulong)(p - StartAddr);
        if (BaseMask != 0)
            return (int)(off >> DivShift);
        return (int)(((off >> DivShift) * DivMul) >> DivShift2);
    }

    public readonly nint ObjectAddress(int i) => StartAddr + (nint)(i * ElemSize);

    public readonly bool IsAllocBitSet(int i) => (AllocBits[i >> 3] & (1 << (i & 7))) != 0;
    public readonly bool IsMarked(int i) => (GcMarkBits[i >> 3] & (1 << (i & 7))) != 0;
    public readonly bool IsAllocated(int i) => i < FreeIndex || IsAllocBitSet(i);

    /// <summary>Sets mark bit i; true if this call set it.</summary>
    public readonly bool SetMarked(int i)
    {
        ref uint word = ref Unsafe.AsRef<uint>(GcMarkBits + (i >> 5) * 4);
        uint bit = 1u << (i & 31);
        // Publishes the mark to the sweeper; of racing markers exactly one sees the bit clear.
        uint old = Interlocked.Or(ref word, bit);
        return (old & bit) == 0;
    }

    /// <summary>refillAllocCache: complement of the 8 alloc-bit bytes at whichByte (little-endian).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RefillAllocCache(int whichByte) => AllocCache = ~Unsafe.ReadUnaligned<ulong>(AllocBits + whichByte);

    /// <summary>
    /// nextFreeIndex: the first free object at or after FreeIndex (NElems if none), through
    /// allocCache; moves FreeIndex past it and keeps allocCache aligned with FreeIndex.
    /// </summary>
    public int NextFreeIndex()
    {
        int sfreeindex = FreeIndex;
        int snelems = NElems;
        if (sfreeindex == snelems)
            return sfreeindex;
        ulong aCache = AllocCache;
        int bitIndex = BitOperations.TrailingZeroCount(aCache);
        while (bitIndex == 64)
        {
            // Nothing free in the cached 64 bits: move to the next group.
            sfreeindex = (sfreeindex + 64) & ~63;
            if (sfreeindex >= snelems)
            {
                FreeIndex = snelems;
                return snelems;
            }
            RefillAllocCache(sfreeindex / 8);
            aCache = AllocCache;
            bitIndex = BitOperations.TrailingZeroCount(aCache);
        }
        int result = sfreeindex + bitIndex;
        if (result >= snelems)
        {
            FreeIndex = snelems;
            return snelems;
        }
        AllocCache >>= bitIndex + 1;
        sfreeindex = result + 1;
        if ((sfreeindex & 63) == 0 && sfreeindex != snelems)
            RefillAllocCache(sfreeindex / 8);
        FreeIndex = sfreeindex;
        return result;
    }

    /// <summary>countAlloc: mark bits set (bits past NElems are always clear).</summary>
    public readonly int CountMarked()
    {
        int n = 0;
        int words = (NElems + 63) / 64;
        for (int w = 0; w < words; w++)
            n += BitOperations.PopCount(Unsafe.ReadUnaligned<ulong>(GcMarkBits + w * 8));
        return n;
    }

    public override readonly string ToString() =>
        $"span[0x{StartAddr:x}+{NPages}p class={SpanClass} elem={ElemSize} n={NElems} alloc={AllocCount} free={FreeIndex} sg={SweepGen} {(SpanState)State}]";
}
