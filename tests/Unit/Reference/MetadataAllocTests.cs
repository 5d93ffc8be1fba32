// Component tests of the Reference's off-heap metadata allocators (linearAlloc, persistentalloc;
// the shared fixalloc: Allocator/FixAllocTests), the span set, the sweep-state word and the span bitmaps.
using System.Runtime.CompilerServices;
using GoAlloc.Reference;
using Xunit;

namespace GoAlloc.Tests.Reference;

public unsafe class MetadataAllocTests
{
    [Fact]
    public void LinearAlloc_BumpsAlignsAndMapsOnDemand()
    {
        using var la = new LinearAlloc(1 << 20);
        nint a = la.Alloc(10, 8);
        nint b = la.Alloc(100, 64);
        Assert.Equal(0, b % 64);
        Assert.True(b >= a + 10);
        Assert.Equal(4096, la.MappedBytes);
        *(long*)b = 42; // mapped read/write
        nint c = la.Alloc(8192, 8);
        Assert.True(la.MappedBytes >= c + 8192 - a);
        Assert.Equal(0, la.Alloc(1 << 20, 8)); // exhausted
    }

    [Fact]
    public void PersistentAlloc_ReturnsZeroedAlignedMemoryAcrossChunks()
    {
        using var pa = new PersistentAlloc(8 << 20);
        var seen = new HashSet<nint>();
        for (int i = 0; i < 1000; i++)
        {
            nint p = pa.Alloc(1000, 16);
            Assert.Equal(0, p % 16);
            Assert.True(new ReadOnlySpan<byte>((void*)p, 1000).IndexOfAnyExcept((byte)0) < 0);
            new Span<byte>((void*)p, 1000).Fill(0xFF);
            Assert.True(seen.Add(p));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => pa.Alloc(0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => pa.Alloc(MallocConstants.PersistentChunkSize + 1, 8));
    }

    [Fact]
    public void PersistentAlloc_FullRegionReservesTheNextTwiceAsLarge()
    {
        using var pa = new PersistentAlloc(MallocConstants.PersistentChunkSize);
        Assert.Equal(MallocConstants.PersistentChunkSize, pa.ReservedBytes);
        nint a = pa.Alloc(MallocConstants.PersistentChunkSize, 8);
        nint b = pa.Alloc(8, 8);
        Assert.Equal(3L * MallocConstants.PersistentChunkSize, pa.ReservedBytes);
        Assert.True(b < a || b >= a + MallocConstants.PersistentChunkSize, "the new chunk overlaps the first");
        *(long*)b = 42; // mapped and writable
        Assert.Equal(2L * MallocConstants.PersistentChunkSize, pa.SysBytes);
    }

    [Fact]
    public void SpanSet_IsFifo()
    {
        var set = new SpanSet();
        var spans = Enumerable.Range(0, 5).Select(i => new MSpan { StartAddr = i }).ToList();
        foreach (MSpan s in spans)
            set.Push(s);
        Assert.Equal(spans, set.Snapshot());
        foreach (MSpan s in spans)
            Assert.Same(s, set.Pop());
        Assert.Null(set.Pop());
    }

    [Fact]
    public void MSpan_NextFreeIndexSkipsAllocBitsAndMarksAreSetOnce()
    {
        using var pa = new PersistentAlloc(1 << 20);
        var fa = new FixAlloc(MSpan.GcBitsBytes, pa);
        var s = new MSpan { NElems = 70, ElemSize = 16, AllocBits = (byte*)fa.Alloc(), GcMarkBits = (byte*)fa.Alloc() };
        s.AllocBits[0] = 0b0000_0101; // objects 0 and 2 allocated
        s.AllocBits[8] = 0b0000_0010; // object 65
        Assert.Equal(1, s.NextFreeIndex());
        Assert.Equal(3, s.NextFreeIndex());
        Assert.True(s.IsAllocated(2));
        Assert.True(s.IsAllocated(1)); // below freeindex
        Assert.False(s.IsAllocated(4));
        s.FreeIndex = 64;
        Assert.Equal(64, s.NextFreeIndex());
        Assert.Equal(66, s.NextFreeIndex());
        s.FreeIndex = 69;
        Assert.Equal(69, s.NextFreeIndex());
        Assert.Equal(70, s.NextFreeIndex());
        Assert.Equal(70, s.FreeIndex);
        Assert.True(s.SetMarked(33));
        Assert.False(s.SetMarked(33));
        Assert.True(s.IsMarked(33));
        Assert.Equal(1, s.CountMarked());
        Assert.Equal(2u, Unsafe.Read<uint>(s.GcMarkBits + 4)); // bit 33 is word 1, bit 1: Go's byte/bit layout
    }
}
