// TinyAlloc (src/Allocator/TinyAlloc.cs, the tiny block alignment of mallocgc in Go's malloc.go),
// shared by both heaps: an object whose size is a multiple of 8, 4 or 2 starts at the next offset
// aligned to 8, 4 or 2; an odd-sized one at the offset as it is.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class TinyAllocTests
{
    [Theory]
    [InlineData(0L, 8L, 0L)]
    [InlineData(1L, 8L, 8L)]
    [InlineData(8L, 8L, 8L)]
    [InlineData(9L, 8L, 16L)]
    [InlineData(1L, 4L, 4L)]
    [InlineData(5L, 12L, 8L)]
    [InlineData(4L, 4L, 4L)]
    [InlineData(1L, 2L, 2L)]
    [InlineData(3L, 6L, 4L)]
    [InlineData(2L, 2L, 2L)]
    [InlineData(3L, 1L, 3L)]
    [InlineData(7L, 5L, 7L)]
    [InlineData(5L, 15L, 5L)]
    public void TinyAlloc_AlignsToTheLargestOf8_4_2DividingTheSize(long off, long size, long aligned) =>
        Assert.Equal(aligned, TinyAlloc.AlignOffset(off, size));
}
