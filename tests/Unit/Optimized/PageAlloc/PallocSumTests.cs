// PallocSum (packPallocSum, pallocSum.start/max/end/unpack, mergeSummaries of Go 1.16's
// runtime/mpagealloc.go): exact packed words, the 21-bit field limits, the bit-63 special value,
// and mergeSummaries' seam rules on hand-computed inputs. Go tests these only through
// TestPallocBitsSummarize and the pageAlloc tables; these pin each rule at its boundary.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.PageAlloc;

public class PallocSumTests
{
    private const int Max = PallocSum.MaxPackedValue;
    private const ulong Field = (1UL << 21) - 1;

    private static (int, int, int) Fields(PallocSum s) => (s.Start, s.Max, s.End);

    private static (int, int, int) Unpacked(PallocSum s)
    {
        s.Unpack(out int a, out int b, out int c);
        return (a, b, c);
    }

    [Fact]
    public void PallocSum_Pack_ExactLayout()
    {
        // start in bits 0-20, max in 21-41, end in 42-62.
        Assert.Equal(3UL | (100UL << 21) | (7UL << 42), PallocSum.Pack(3, 100, 7).Value);
        Assert.Equal(1UL | (1UL << 21), PallocSum.Pack(1, 1, 0).Value);
        Assert.Equal(1UL << 21, PallocSum.Pack(0, 1, 0).Value);
        Assert.Equal(1UL << 42, PallocSum.Pack(0, 1, 1).Value & (1UL << 42));
        Assert.Equal(0UL, PallocSum.Pack(0, 0, 0).Value);
        Assert.Equal(512UL | (512UL << 21) | (512UL << 42), PallocSum.FreeChunk.Value);
    }

    [Fact]
    public void PallocSum_Pack_FieldsAtThe21BitLimit()
    {
        // 2^21 - 1 in every field: all 63 low bits set, bit 63 clear.
        PallocSum s = PallocSum.Pack(Max - 1, Max - 1, Max - 1);
        Assert.Equal(~0UL >> 1, s.Value);
        Assert.Equal((Max - 1, Max - 1, Max - 1), Fields(s));
        Assert.Equal((Max - 1, Max - 1, Max - 1), Unpacked(s));
        // Distinct bit patterns per field: no field leaks into its neighbour.
        const int a = 0x155555, b = 0x1fffff, c = 0x0aaaaa;
        PallocSum p = PallocSum.Pack(a, b, c);
        Assert.Equal((ulong)a | ((ulong)b << 21) | ((ulong)c << 42), p.Value);
        Assert.Equal((a, b, c), Fields(p));
        Assert.Equal((a, b, c), Unpacked(p));
        PallocSum q = PallocSum.Pack(c, b, a);
        Assert.Equal((c, b, a), Fields(q));
        Assert.Equal((c, b, a), Unpacked(q));
    }

    [Fact]
    public void PallocSum_Pack_MaxPackedValueIsBit63Alone()
    {
        PallocSum all = PallocSum.Pack(Max, Max, Max);
        Assert.Equal(1UL << 63, all.Value);
        Assert.Equal((Max, Max, Max), Fields(all));
        Assert.Equal((Max, Max, Max), Unpacked(all));
        // Bit 63 overrides whatever the low bits hold, for every accessor.
        PallocSum noisy = new((1UL << 63) | 5UL | (6UL << 21) | (7UL << 42));
        Assert.Equal((Max, Max, Max), Fields(noisy));
        Assert.Equal((Max, Max, Max), Unpacked(noisy));
        // One below the special value uses the fields.
        PallocSum below = PallocSum.Pack(0, Max - 1, 0);
        Assert.Equal(Field << 21, below.Value);
        Assert.Equal((0, Max - 1, 0), Fields(below));
    }

    [Fact]
    public void PallocSum_Accessors_ReadOnlyTheirOwnField()
    {
        PallocSum s = new(Field);
        Assert.Equal(((int)Field, 0, 0), Fields(s));
        Assert.Equal(((int)Field, 0, 0), Unpacked(s));
        s = new(Field << 21);
        Assert.Equal((0, (int)Field, 0), Fields(s));
        Assert.Equal((0, (int)Field, 0), Unpacked(s));
        s = new(Field << 42);
        Assert.Equal((0, 0, (int)Field), Fields(s));
        Assert.Equal((0, 0, (int)Field), Unpacked(s));
    }

    [Fact]
    public void PallocSum_EqualityHashAndToString()
    {
        PallocSum a = PallocSum.Pack(1, 2, 2), b = PallocSum.Pack(1, 2, 2), c = PallocSum.Pack(1, 2, 1);
        Assert.True(a == b);
        Assert.False(a == c);
        Assert.False(a != b);
        Assert.True(a != c);
        Assert.True(a.Equals(b));
        Assert.False(a.Equals(c));
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals((object)c));
        Assert.False(a.Equals((object)a.Value));
        Assert.False(a.Equals(null));
        Assert.Equal(a.Value.GetHashCode(), a.GetHashCode());
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("(start 1, max 2, end 2)", a.ToString());
        Assert.Equal($"(start {Max}, max {Max}, end {Max})", PallocSum.Pack(Max, Max, Max).ToString());
    }

    // ---------------------------------------------------------------- mergeSummaries

    private static PallocSum Merge(int log, params PallocSum[] sums) => PallocSum.Merge(sums, log);

    private static PallocSum P(int s, int m, int e) => PallocSum.Pack(s, m, e);

    [Fact]
    public void PallocSum_Merge_SingleSummaryIsItself()
    {
        Assert.Equal(P(3, 9, 4), Merge(9, P(3, 9, 4)));
        Assert.Equal(P(0, 0, 0), Merge(9, P(0, 0, 0)));
    }

    [Fact]
    public void PallocSum_Merge_StartGrowsOnlyWhileEverythingLeftIsFree()
    {
        PallocSum free = PallocSum.FreeChunk;
        // Two free chunks then one starting with 10 free pages: start = 512 + 512 + 10.
        Assert.Equal(P(1034, 1034, 5), Merge(9, free, free, P(10, 20, 5)));
        // The second region is not free: the third region's start does not count.
        Assert.Equal(P(519, 519, 3), Merge(9, free, P(7, 7, 0), P(9, 9, 3)));
        // The first region not free: start is its start alone, even if later regions are free.
        Assert.Equal(P(5, 512 + 512 + 0, 1024), Merge(9, P(5, 5, 0), free, free));
        // Start exactly one page short of the whole first region: no extension.
        Assert.Equal(P(511, 511 + 512, 511 + 512), Merge(9, P(511, 511, 511), free));
        Assert.Equal(P(0, 3 + 512 + 7, 0), Merge(9, P(0, 3, 3), free, P(7, 7, 0)));
    }

    [Fact]
    public void PallocSum_Merge_MaxConsidersTheSeamAndEachRegion()
    {
        // The run across the seam (end 4 + start 6) beats both regions' own max (8, 9).
        Assert.Equal(P(1, 10, 2), Merge(9, P(1, 8, 4), P(6, 9, 2)));
        // Equal seam and own max: either gives 9.
        Assert.Equal(P(1, 9, 2), Merge(9, P(1, 8, 4), P(5, 9, 2)));
        // The later region's own max wins.
        Assert.Equal(P(5, 100, 2), Merge(9, P(5, 5, 0), P(0, 100, 0), P(2, 2, 2)));
        // The first region's max survives smaller later ones.
        Assert.Equal(P(0, 50, 1), Merge(9, P(0, 50, 3), P(2, 4, 0), P(0, 1, 1)));
        // A seam that beats max only when end and start are summed (end 30 + start 30 > 40).
        Assert.Equal(P(0, 60, 0), Merge(9, P(0, 40, 30), P(30, 30, 0)));
    }

    [Fact]
    public void PallocSum_Merge_EndExtendsOnlyThroughFreeRegions()
    {
        PallocSum free = PallocSum.FreeChunk;
        // A free last region adds its whole size to the previous end.
        Assert.Equal(P(0, 3 + 512, 3 + 512), Merge(9, P(0, 3, 3), free));
        Assert.Equal(P(0, 3 + 1024, 3 + 1024), Merge(9, P(0, 3, 3), free, free));
        // A last region one page short of free replaces the end.
        Assert.Equal(P(0, 3 + 511, 511), Merge(9, P(0, 3, 3), P(511, 511, 511)));
        // A non-free last region with end 0.
        Assert.Equal(P(0, 512, 0), Merge(9, P(0, 0, 0), free, P(0, 0, 0)));
    }

    [Fact]
    public void PallocSum_Merge_UsesTheLevelsRegionSize()
    {
        // log 12: each region has 4096 pages; a region with 512 free pages is not full.
        PallocSum chunk = PallocSum.FreeChunk;
        Assert.Equal(P(512, 1024, 512), Merge(12, chunk, chunk));
        PallocSum full12 = P(4096, 4096, 4096);
        Assert.Equal(P(8192 + 7, 8192 + 7, 0), Merge(12, full12, full12, P(7, 7, 0)));
        Assert.Equal(P(0, 2 + 4096 + 4096, 2 + 4096 + 4096), Merge(12, P(0, 2, 2), full12, full12));
        // Eight free chunk summaries at log 9 make one free 4096-page block (a level-3 entry).
        PallocSum[] eight = [.. Enumerable.Repeat(chunk, 8)];
        Assert.Equal(P(4096, 4096, 4096), PallocSum.Merge(eight, 9));
        // Seven free and the last with 256 free pages at its start: start = max = 7*512 + 256, end 0.
        eight[7] = P(256, 256, 0);
        Assert.Equal(P(7 * 512 + 256, 7 * 512 + 256, 0), PallocSum.Merge(eight, 9));
        eight[0] = P(0, 1, 1);
        Assert.Equal(P(0, 1 + 6 * 512 + 256, 0), PallocSum.Merge(eight, 9));
    }
}
