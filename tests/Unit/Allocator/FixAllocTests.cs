// FixAlloc (src/Allocator/FixAlloc.cs, Go's mfixalloc.go), the fixed-size record allocator both
// heaps share: size checks and 16-byte rounding, chunks taken from the persistentalloc only when
// the current one cannot hold a record, LIFO reuse of freed records, zeroing, InUse accounting.
// Most tests run against a recording fake persistentalloc; the last two against each heap's own.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed unsafe class FixAllocTests
{
    /// <summary>A persistentalloc that hands out zeroed native chunks and records each request.</summary>
    private sealed class RecordingPersistentAlloc : IPersistentAlloc, IDisposable
    {
        public readonly List<(nint Size, nint Align, nint Result)> Calls = [];

        public nint Alloc(nint size, nint align)
        {
            nint p = (nint)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)size, (nuint)align);
            new Span<byte>((void*)p, (int)size).Clear();
            Calls.Add((size, align, p));
            return p;
        }

        public void Dispose()
        {
            foreach ((_, _, nint p) in Calls)
                System.Runtime.InteropServices.NativeMemory.AlignedFree((void*)p);
        }
    }

    private static bool AllZero(nint p, int bytes) => new ReadOnlySpan<byte>((void*)p, bytes).IndexOfAnyExcept((byte)0) < 0;

    [Theory]
    [InlineData(8, 16)]
    [InlineData(15, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    [InlineData(120, 128)]
    [InlineData(MallocConstants.FixAllocChunk, MallocConstants.FixAllocChunk)]
    public void FixAlloc_RoundsTheRecordSizeUpTo16(int size, int rounded)
    {
        using var pa = new RecordingPersistentAlloc();
        var fa = new FixAlloc(size, pa);
        Assert.Equal(rounded, fa.Size);
        Assert.Empty(pa.Calls); // no chunk before the first record
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(MallocConstants.FixAllocChunk + 1)]
    public void FixAlloc_RefusesASizeUnderAWordOrOverAChunk(int size)
    {
        using var pa = new RecordingPersistentAlloc();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FixAlloc(size, pa));
        Assert.Equal("size", e.ParamName);
        Assert.Equal(size, e.ActualValue);
    }

    [Fact]
    public void FixAlloc_CarvesRecordsFromOneChunkUntilItIsFull()
    {
        using var pa = new RecordingPersistentAlloc();
        var fa = new FixAlloc(16, pa);
        const int perChunk = MallocConstants.FixAllocChunk / 16;
        nint first = fa.Alloc();
        Assert.Equal([(MallocConstants.FixAllocChunk, 64, first)], pa.Calls);
        for (int i = 1; i < perChunk; i++)
            Assert.Equal(first + i * 16, fa.Alloc()); // the last record fills the chunk exactly
        Assert.Single(pa.Calls);
        nint next = fa.Alloc();
        Assert.Equal(2, pa.Calls.Count);
        Assert.Equal(pa.Calls[1].Result, next);
        Assert.Equal((perChunk + 1) * 16L, fa.InUse);
    }

    [Fact]
    public void FixAlloc_TakesANewChunkWhenTheRestCannotHoldARecord()
    {
        using var pa = new RecordingPersistentAlloc();
        var fa = new FixAlloc(5000, pa); // 5008: three per 16 KiB chunk, 1360 bytes left over
        nint a = fa.Alloc(), b = fa.Alloc(), c = fa.Alloc();
        Assert.Equal(a + 5008, b);
        Assert.Equal(b + 5008, c);
        Assert.Single(pa.Calls);
        nint d = fa.Alloc();
        Assert.Equal(2, pa.Calls.Count);
        Assert.Equal(pa.Calls[1].Result, d);
        Assert.Equal(4 * 5008L, fa.InUse);
    }

    [Fact]
    public void FixAlloc_ReusesFreedRecordsLifoZeroedAndCountsInUse()
    {
        using var pa = new RecordingPersistentAlloc();
        var fa = new FixAlloc(120, pa); // rounded up to 128
        nint a = fa.Alloc(), b = fa.Alloc();
        Assert.Equal(a + 128, b);
        Assert.Equal(256, fa.InUse);
        new Span<byte>((void*)a, 128).Fill(7);
        new Span<byte>((void*)b, 128).Fill(7);
        fa.Free(a);
        Assert.Equal(128, fa.InUse);
        Assert.Equal(0, *(nint*)a); // the free list was empty: a's link is null
        fa.Free(b);
        Assert.Equal(0, fa.InUse);
        Assert.Equal(a, *(nint*)b); // b links to a
        Assert.Equal(b, fa.Alloc()); // LIFO
        Assert.True(AllZero(b, 128)); // the whole record, the free-list link in the first word too
        Assert.Equal(a, fa.Alloc());
        Assert.True(AllZero(a, 128));
        Assert.Equal(256, fa.InUse);
        Assert.Equal(a + 256, fa.Alloc()); // the free list is empty again: back to the chunk
        Assert.Single(pa.Calls);
    }

    [Fact]
    public void FixAlloc_OverTheReferencePersistentAllocRecordsAreDistinctPastAChunk()
    {
        using var pa = new GoAlloc.Reference.PersistentAlloc(8 << 20);
        var fa = new FixAlloc(GoAlloc.Reference.MSpan.GcBitsBytes, pa);
        var all = Enumerable.Range(0, 300).Select(_ => fa.Alloc()).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(all, p => Assert.True(AllZero(p, GoAlloc.Reference.MSpan.GcBitsBytes)));
        Assert.Equal(300L * GoAlloc.Reference.MSpan.GcBitsBytes, fa.InUse);
    }

    [Fact]
    public void FixAlloc_OverTheOptimizedPersistentAllocRecordsAreDistinctPastAChunk()
    {
        using var pa = new GoAlloc.Optimized.PersistentAlloc();
        var fa = new FixAlloc(sizeof(GoAlloc.Optimized.MSpan), pa);
        var all = Enumerable.Range(0, 300).Select(_ => fa.Alloc()).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.All(all, p => Assert.True(AllZero(p, fa.Size)));
        Assert.Equal(300L * fa.Size, fa.InUse);
    }
}
