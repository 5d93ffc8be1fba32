// SweepPacing (src/Allocator/SweepPacing.cs, spec/SPEC.md 4.8): the proportional-sweep arithmetic
// both heaps pace with, against hand-computed values: the trigger (7/8 of GOGC over heap_marked,
// 4 MiB minimum, no wrap), heapDistance's one-page floor, and the ratio off when GOGC < 0 or
// nothing is left to sweep. The heap model checks the heaps' pacing independently (PacingModelTests).
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class SweepPacingTests
{
    private const long MiB = 1 << 20;

    [Theory]
    [InlineData(0L, 100, 4 * MiB)]                      // the 4 MiB minimum
    [InlineData(4 * MiB, 100, 4 * MiB + 4 * MiB * 7 / 8)] // 7/8 of GOGC over heap_marked
    [InlineData(16 * MiB, 50, 16 * MiB + 16 * MiB * 7 / 16)]
    [InlineData(16 * MiB, 0, 16 * MiB)]                 // GOGC 0: the trigger is heap_marked
    [InlineData(3 * MiB, 10, 4 * MiB)]                  // 3 MiB x 1.0875 is still under the minimum
    [InlineData(1000L, 801, 4 * MiB)]
    public void SweepPacing_TriggerIsSevenEighthsOfGogcOverHeapMarkedWithA4MiBMinimum(long marked, int gogc, long trigger) =>
        Assert.Equal(trigger, SweepPacing.Trigger(marked, gogc));

    [Fact]
    public void SweepPacing_TriggerDoesNotWrap_INV_PACE_3()
    {
        // 1 GiB x int.MaxValue x 7 overflows 64 bits (the naive product is negative): exact instead.
        long marked = 1L << 30;
        Assert.True(unchecked(marked * int.MaxValue * 7) < 0);
        Assert.Equal((long)((Int128)marked + (Int128)marked * int.MaxValue * 7 / 800), SweepPacing.Trigger(marked, int.MaxValue));
        Assert.Equal(long.MaxValue, SweepPacing.Trigger(long.MaxValue / 2, int.MaxValue)); // saturates
    }

    [Fact]
    public void SweepPacing_PagesPerByteSpreadsTheUnsweptPagesOverTheGrowthToTheTrigger()
    {
        // 100 pages in use, 20 swept, 1 MiB marked and live, GOGC 100: trigger 4 MiB, heapDistance 2 MiB.
        Assert.Equal(80.0 / (2 * MiB), SweepPacing.PagesPerByte(100, 20, MiB, MiB, 100));
        // heap_live 2.5 MiB: heapDistance 0.5 MiB.
        Assert.Equal(80.0 / (MiB / 2), SweepPacing.PagesPerByte(100, 20, 2 * MiB + MiB / 2, MiB, 100));
    }

    [Theory]
    [InlineData(3 * MiB)]            // heapDistance exactly 0
    [InlineData(3 * MiB - 8191)]     // one byte under a page
    [InlineData(5 * MiB)]            // past the trigger: negative before the floor
    public void SweepPacing_HeapDistanceHasAOnePageFloor(long heapLive) =>
        Assert.Equal(10.0 / 8192, SweepPacing.PagesPerByte(10, 0, heapLive, 0, 100));

    [Fact]
    public void SweepPacing_HeapDistanceOfExactlyOnePageIsKept() =>
        Assert.Equal(10.0 / 8192, SweepPacing.PagesPerByte(10, 0, 3 * MiB - 8192, 0, 100));

    [Theory]
    [InlineData(-1, 100L, 0L)]  // GOGC off
    [InlineData(100, 50L, 50L)] // nothing left to sweep
    [InlineData(100, 50L, 60L)] // more swept than in use (spans freed since)
    public void SweepPacing_OffWhenGogcIsNegativeOrNothingIsLeft(int gogc, long inUse, long swept) =>
        Assert.Equal(0, SweepPacing.PagesPerByte(inUse, swept, MiB, MiB, gogc));

    [Fact]
    public void SweepPacing_OnePageLeftIsStillPaced() =>
        Assert.Equal(1.0 / (2 * MiB), SweepPacing.PagesPerByte(51, 50, MiB, MiB, 100));
}
