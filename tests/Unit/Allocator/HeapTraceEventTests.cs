// HeapTraceEvent: the relative sweepgen names that `alloc reproduce` prints (spec's sg-2 .. sg+3),
// at the edges of the named window, and HasSpan.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class HeapTraceEventTests
{
    private static HeapTraceEvent At(uint heapSweepGen, int spanClass = 5) =>
        new(HeapTraceKind.SweepDone, 0, 1, 8192, spanClass, 0, 0, heapSweepGen);

    [Theory]
    [InlineData(100u, "sg")]
    [InlineData(96u, "sg-4")]
    [InlineData(98u, "sg-2")]
    [InlineData(99u, "sg-1")]
    [InlineData(101u, "sg+1")]
    [InlineData(103u, "sg+3")]
    [InlineData(104u, "sg+4")]
    [InlineData(95u, "95")]
    [InlineData(105u, "105")]
    public void Relative_NamesSweepgensNearTheHeapsAndNumbersTheRest(uint sweepGen, string expected) =>
        Assert.Equal(expected, At(100).Relative(sweepGen));

    [Fact]
    public void Relative_WrapsAroundLikeTheUint32Sweepgen()
    {
        // sweepgen is a uint32 counter: sg-2 just after wrapping is still sg-2.
        Assert.Equal("sg-2", At(1).Relative(uint.MaxValue));
        Assert.Equal("sg+3", At(uint.MaxValue).Relative(2));
    }

    [Fact]
    public void HasSpan_IsFalseOnlyForSpanlessEvents()
    {
        Assert.True(At(2, spanClass: 0).HasSpan);
        Assert.True(At(2, spanClass: 135).HasSpan);
        Assert.False(At(2, spanClass: -1).HasSpan);
    }
}
