// Ported from Go 1.16's runtime/mpallocbits_test.go: TestPallocBitsAllocRange,
// TestMallocBitsPopcntRange, TestPallocBitsSummarizeRandom, TestPallocBitsSummarize,
// TestPallocBitsAlloc, TestPallocBitsFree, TestFindBitRange64; plus PallocSum pack/merge checks.
// Each Go sub-test is one theory case, named as in Go.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;

namespace GoAlloc.Tests.Optimized.PageAlloc;

public class PallocBitsTests
{
    private const int NotFound = PallocBits.NotFound;

    // ---------------------------------------------------------------- TestPallocBitsAllocRange

    private static readonly Dictionary<string, (int I, int N, Action<PallocBitsBox> Want)> s_allocRange = new()
    {
        ["OneLow"] = (0, 1, w => w.Bits[0] = 0x1),
        ["OneHigh"] = (ChunkPages - 1, 1, w => w.Bits[ChunkPages / 64 - 1] = 1UL << 63),
        ["Inner"] = (129, 5, w => w.Bits[2] = 0x3e),
        ["Aligned"] = (128, 128, w => { w.Bits[2] = ~0UL; w.Bits[3] = ~0UL; }
        ),
        ["Begin"] = (0, 321, w =>
        {
            for (int i = 0; i < 5; i++)
                w.Bits[i] = ~0UL;
            w.Bits[5] = 0x1;
        }
        ),
        ["End"] = (ChunkPages - (64 * 3 + 1), 64 * 3 + 1, w =>
        {
            w.Bits[ChunkPages / 64 - 1] = ~0UL;
            w.Bits[ChunkPages / 64 - 2] = ~0UL;
            w.Bits[ChunkPages / 64 - 3] = ~0UL;
            w.Bits[ChunkPages / 64 - 4] = 1UL << 63;
        }
        ),
        ["All"] = (0, ChunkPages, w =>
        {
            for (int i = 0; i < PageBits.Words; i++)
                w.Bits[i] = ~0UL;
        }
        ),
    };

    /// <summary>A reference box so the table's lambdas can fill a PallocBits.</summary>
    internal sealed class PallocBitsBox
    {
        public PallocBits Bits;
    }

    public static TheoryData<string> AllocRangeCases => [.. s_allocRange.Keys];

    [Theory, MemberData(nameof(AllocRangeCases))]
    public void PallocBits_AllocRange(string name)
    {
        (int i, int n, Action<PallocBitsBox> fill) = s_allocRange[name];
        var want = new PallocBitsBox();
        fill(want);
        CheckPallocBits(MakePallocBits((i, n)), want.Bits);
    }

    // ---------------------------------------------------------------- TestMallocBitsPopcntRange

    private static readonly Dictionary<string, ((int, int)[] Init, (int I, int N, int Want)[] Tests)> s_popcnt = new()
    {
        ["None"] = ([], [(0, 1, 0), (5, 3, 0), (2, 11, 0), (ChunkPages / 4 + 1, ChunkPages / 2, 0), (0, ChunkPages, 0)]),
        ["All"] = ([(0, ChunkPages)],
            [(0, 1, 1), (5, 3, 3), (2, 11, 11), (ChunkPages / 4 + 1, ChunkPages / 2, ChunkPages / 2), (0, ChunkPages, ChunkPages)]),
        ["Half"] = ([(ChunkPages / 2, ChunkPages / 2)],
        [
            (0, 1, 0), (5, 3, 0), (2, 11, 0), (ChunkPages / 2 - 1, 1, 0), (ChunkPages / 2, 1, 1), (ChunkPages / 2 + 10, 1, 1),
            (ChunkPages / 2 - 1, 2, 1), (ChunkPages / 4, ChunkPages / 4, 0), (ChunkPages / 4, ChunkPages / 4 + 1, 1),
            (ChunkPages / 4 + 1, ChunkPages / 2, ChunkPages / 4 + 1), (0, ChunkPages, ChunkPages / 2),
        ]),
        ["OddBound"] = ([(0, 111)],
        [
            (0, 1, 1), (5, 3, 3), (2, 11, 11), (110, 2, 1), (99, 50, 12), (110, 1, 1), (111, 1, 0), (99, 1, 1), (120, 1, 0),
            (ChunkPages / 2, ChunkPages / 2, 0), (0, ChunkPages, 111),
        ]),
        ["Scattered"] = (
        [
            (1, 3), (5, 1), (7, 1), (10, 2), (13, 1), (15, 4), (21, 1), (23, 1), (26, 2), (30, 5), (36, 2), (40, 3),
            (44, 6), (51, 1), (53, 2), (58, 3), (63, 1), (67, 2), (71, 10), (84, 1), (89, 7), (99, 2), (103, 1), (107, 2),
            (111, 1), (113, 1), (115, 1), (118, 1), (120, 2), (125, 5),
        ],
        [(0, 11, 6), (0, 64, 39), (13, 64, 40), (64, 64, 34), (0, 128, 73), (1, 128, 74), (0, ChunkPages, 75)]),
    };

    public static TheoryData<string> PopcntRangeCases => [.. s_popcnt.Keys];

    [Theory, MemberData(nameof(PopcntRangeCases))]
    public void MallocBits_PopcntRange(string name)
    {
        ((int, int)[] init, (int I, int N, int Want)[] tests) = s_popcnt[name];
        PallocBits b = MakePallocBits(init);
        foreach ((int i, int n, int want) in tests)
            Assert.True(b.PopcntRange(i, n) == want, $"bad popcnt (i={i}, n={n}): got {b.PopcntRange(i, n)}, want {want}");
    }

    // ---------------------------------------------------------------- TestPallocBitsSummarizeRandom

    [Fact]
    public void PallocBits_SummarizeRandom()
    {
        var rng = new Random(1);
        PallocBits b = default;
        for (int iter = 0; iter < 1000; iter++)
        {
            for (int w = 0; w < PageBits.Words; w++)
                b[w] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
            CheckPallocSum(b.Summarize(), b.SummarizeSlow());
        }
    }

    /// <summary>The SummarizeSlow model on sparse and dense patterns (long free runs inside words).</summary>
    [Fact]
    public void PallocBits_SummarizeMatchesSlowModel()
    {
        var rng = new Random(7);
        PallocBits b = default;
        for (int iter = 0; iter < 5000; iter++)
        {
            int density = rng.Next(1, 64);
            for (int w = 0; w < PageBits.Words; w++)
            {
                ulong x = 0;
                for (int k = 0; k < 64; k++)
                {
                    if (rng.Next(64) < density)
                        x |= 1UL << k;
                }
                b[w] = rng.Next(8) == 0 ? 0 : rng.Next(8) == 0 ? ~0UL : x;
            }
            CheckPallocSum(b.Summarize(), b.SummarizeSlow());
        }
        // Go's benchmark patterns.
        ulong[] patterns =
        [
            0, ~0UL, 0xaa, 0xaaaaaaaaaaaaaaaa, 0x80000000aaaaaaaa, 0xaaaaaaaa00000001, 0xbbbbbbbbbbbbbbbb, 0x80000000bbbbbbbb,
            0xbbbbbbbb00000001, 0xcccccccccccccccc, 0x4444444444444444, 0x4040404040404040, 0x4000400040004000, 0x1000404044ccaaff,
        ];
        foreach (ulong p in patterns)
        {
            for (int w = 0; w < PageBits.Words; w++)
                b[w] = p;
            CheckPallocSum(b.Summarize(), b.SummarizeSlow());
        }
    }

    // ---------------------------------------------------------------- TestPallocBitsSummarize

    private static readonly Dictionary<string, ((int, int)[] Free, PallocSum Want)> s_summarize = new()
    {
        ["NoneFree"] = ([], PallocSum.Pack(0, 0, 0)),
        ["OnlyStart"] = ([(0, 10)], PallocSum.Pack(10, 10, 0)),
        ["OnlyEnd"] = ([(ChunkPages - 40, 40)], PallocSum.Pack(0, 40, 40)),
        ["StartAndEnd"] = ([(0, 11), (ChunkPages - 23, 23)], PallocSum.Pack(11, 23, 23)),
        ["StartMaxEnd"] = ([(0, 4), (50, 100), (ChunkPages - 4, 4)], PallocSum.Pack(4, 100, 4)),
        ["OnlyMax"] = ([(1, 20), (35, 241), (ChunkPages - 50, 30)], PallocSum.Pack(0, 241, 0)),
        ["MultiMax"] = ([(35, 2), (40, 5), (100, 5)], PallocSum.Pack(0, 5, 0)),
        ["One"] = ([(2, 1)], PallocSum.Pack(0, 1, 0)),
        ["AllFree"] = ([(0, ChunkPages)], PallocSum.Pack(ChunkPages, ChunkPages, ChunkPages)),
    };

    public static TheoryData<string> SummarizeCases => [.. s_summarize.Keys];

    [Theory, MemberData(nameof(SummarizeCases))]
    public void PallocBits_Summarize(string name)
    {
        ((int, int)[] free, PallocSum want) = s_summarize[name];
        // The ranges are the free pages; in the bitmap 1 means in use, so invert.
        PallocBits b = Invert(MakePallocBits(free));
        CheckPallocSum(b.Summarize(), want);
        CheckPallocSum(b.SummarizeSlow(), want);
    }

    // ---------------------------------------------------------------- TestPallocBitsAlloc

    private static readonly Dictionary<string, ((int, int)[] Before, (int, int)[] After, int NPages, int[] Hits)> s_alloc = new()
    {
        ["AllFree1"] = ([], [(0, 6)], 1, [0, 1, 2, 3, 4, 5]),
        ["AllFree2"] = ([], [(0, 12)], 2, [0, 2, 4, 6, 8, 10]),
        ["AllFree5"] = ([], [(0, 25)], 5, [0, 5, 10, 15, 20]),
        ["AllFree64"] = ([], [(0, 192)], 64, [0, 64, 128]),
        ["AllFree65"] = ([], [(0, 195)], 65, [0, 65, 130]),
        ["SomeFree64"] = ([(0, 32), (64, 32), (100, ChunkPages - 100)], [(0, 32), (64, 32), (100, ChunkPages - 100)], 64, [NotFound]),
        ["NoneFree1"] = ([(0, ChunkPages)], [(0, ChunkPages)], 1, [NotFound, NotFound]),
        ["NoneFree2"] = ([(0, ChunkPages)], [(0, ChunkPages)], 2, [NotFound, NotFound]),
        ["NoneFree5"] = ([(0, ChunkPages)], [(0, ChunkPages)], 5, [NotFound, NotFound]),
        ["NoneFree65"] = ([(0, ChunkPages)], [(0, ChunkPages)], 65, [NotFound, NotFound]),
        ["ExactFit1"] = ([(0, ChunkPages / 2 - 3), (ChunkPages / 2 - 2, ChunkPages / 2 + 2)], [(0, ChunkPages)], 1, [ChunkPages / 2 - 3, NotFound]),
        ["ExactFit2"] = ([(0, ChunkPages / 2 - 3), (ChunkPages / 2 - 1, ChunkPages / 2 + 1)], [(0, ChunkPages)], 2, [ChunkPages / 2 - 3, NotFound]),
        ["ExactFit5"] = ([(0, ChunkPages / 2 - 3), (ChunkPages / 2 + 2, ChunkPages / 2 - 2)], [(0, ChunkPages)], 5, [ChunkPages / 2 - 3, NotFound]),
        ["ExactFit65"] = ([(0, ChunkPages / 2 - 31), (ChunkPages / 2 + 34, ChunkPages / 2 - 34)], [(0, ChunkPages)], 65, [ChunkPages / 2 - 31, NotFound]),
        ["SomeFree161"] = ([(0, 185), (331, 1)], [(0, 185), (331, 162)], 161, [332]),
    };

    public static TheoryData<string> AllocCases => [.. s_alloc.Keys];

    [Theory, MemberData(nameof(AllocCases))]
    public void PallocBits_Alloc(string name)
    {
        ((int, int)[] before, (int, int)[] after, int npages, int[] hits) = s_alloc[name];
        PallocBits b = MakePallocBits(before);
        for (int iter = 0; iter < hits.Length; iter++)
        {
            (int a, _) = b.Find(npages, 0);
            Assert.True(a == hits[iter], $"find #{iter + 1} picked wrong index: want {hits[iter]}, got {a}");
            if (a != NotFound)
                b.AllocRange(a, npages);
        }
        CheckPallocBits(b, MakePallocBits(after));
    }

    // ---------------------------------------------------------------- TestPallocBitsFree

    private static readonly Dictionary<string, ((int, int)[] BeforeInv, (int, int)[] AfterInv, int NPages, int[] Frees)> s_free = new()
    {
        ["SomeFree"] = ([(0, 32), (64, 32), (100, 1)], [(0, 33), (64, 32), (100, 1)], 1, [32]),
        ["NoneFree1"] = ([], [(0, 6)], 1, [0, 1, 2, 3, 4, 5]),
        ["NoneFree2"] = ([], [(0, 12)], 2, [0, 2, 4, 6, 8, 10]),
        ["NoneFree5"] = ([], [(0, 25)], 5, [0, 5, 10, 15, 20]),
        ["NoneFree64"] = ([], [(0, 192)], 64, [0, 64, 128]),
        ["NoneFree65"] = ([], [(0, 195)], 65, [0, 65, 130]),
    };

    public static TheoryData<string> FreeCases => [.. s_free.Keys];

    [Theory, MemberData(nameof(FreeCases))]
    public void PallocBits_Free(string name)
    {
        ((int, int)[] beforeInv, (int, int)[] afterInv, int npages, int[] frees) = s_free[name];
        PallocBits b = Invert(MakePallocBits(beforeInv));
        foreach (int i in frees)
        {
            if (npages == 1)
                b.Free1(i);
            else
                b.Free(i, npages);
        }
        CheckPallocBits(b, Invert(MakePallocBits(afterInv)));
    }

    // ---------------------------------------------------------------- TestFindBitRange64

    [Fact]
    public void FindBitRange64()
    {
        static void Check(ulong x, int n, int result)
        {
            int i = PallocBits.FindBitRange64(x, n);
            if (result == NotFound)
                Assert.True(i >= 64, $"case ({x:x16}, {n}): got {i}, want failure");
            else
                Assert.True(i == result, $"case ({x:x16}, {n}): got {i}, want {result}");
        }
        for (int i = 0; i <= 64; i++)
            Check(~0UL, i, 0);
        Check(0, 0, 0);
        for (int i = 1; i <= 64; i++)
            Check(0, i, NotFound);
        Check(0x8000000000000000, 1, 63);
        Check(0xc000010001010000, 2, 62);
        Check(0xc000010001030000, 2, 16);
        Check(0xe000030001030000, 3, 61);
        Check(0xe000030001070000, 3, 16);
        Check(0xffff03ff01070000, 16, 48);
        Check(0xffff03ff0107ffff, 16, 0);
        Check(0x0fff03ff01079fff, 16, NotFound);
    }

    /// <summary>findBitRange64 against a bit-at-a-time model on random words (not in Go).</summary>
    [Fact]
    public void FindBitRange64_MatchesModel()
    {
        var rng = new Random(3);
        for (int iter = 0; iter < 20000; iter++)
        {
            ulong x = (ulong)rng.NextInt64() | (ulong)rng.NextInt64();
            if (rng.Next(3) == 0)
                x |= (ulong)rng.NextInt64();
            int n = rng.Next(1, 66);
            int want = 64;
            for (int s = 0; s + n <= 64 && want == 64; s++)
            {
                bool all = true;
                for (int k = s; k < s + n && all; k++)
                    all = ((x >> k) & 1) != 0;
                if (all)
                    want = s;
            }
            int got = PallocBits.FindBitRange64(x, n);
            Assert.True(want == 64 ? got >= 64 : got == want, $"findBitRange64({x:x16}, {n}) = {got}, want {want}");
        }
    }

    // ---------------------------------------------------------------- PallocSum (Go covers these through summarize)

    [Fact]
    public void PallocSum_PackUnpackAndTheAllMaxSpecialCase()
    {
        PallocSum s = PallocSum.Pack(3, 100, 7);
        Assert.Equal((3, 100, 7), (s.Start, s.Max, s.End));
        PallocSum big = PallocSum.Pack(PallocSum.MaxPackedValue - 1, PallocSum.MaxPackedValue - 1, PallocSum.MaxPackedValue - 1);
        Assert.Equal(PallocSum.MaxPackedValue - 1, big.End);
        PallocSum all = PallocSum.Pack(PallocSum.MaxPackedValue, PallocSum.MaxPackedValue, PallocSum.MaxPackedValue);
        Assert.Equal(1UL << 63, all.Value);
        all.Unpack(out int a, out int b, out int c);
        Assert.Equal((PallocSum.MaxPackedValue, PallocSum.MaxPackedValue, PallocSum.MaxPackedValue), (a, b, c));
        Assert.Equal(PallocSum.Pack(ChunkPages, ChunkPages, ChunkPages), PallocSum.FreeChunk);
    }

    [Fact]
    public void PallocSum_MergeOfEightFreeChunksIsOneFreeBlock()
    {
        PallocSum[] sums = [.. Enumerable.Repeat(PallocSum.FreeChunk, 8)];
        Assert.Equal(PallocSum.Pack(4096, 4096, 4096), PallocSum.Merge(sums, 9));
        sums[0] = PallocSum.Pack(0, 10, 5);
        sums[7] = PallocSum.Pack(20, 20, 0);
        // start 0; max = 5 + 6*512 + 20 across the seams; end 0.
        Assert.Equal(PallocSum.Pack(0, 5 + 6 * 512 + 20, 0), PallocSum.Merge(sums, 9));
        // Eight free 2^18-page summaries make the one value that needs the special bit.
        PallocSum[] roots = [.. Enumerable.Repeat(PallocSum.Pack(1 << 18, 1 << 18, 1 << 18), 8)];
        Assert.Equal(1UL << 63, PallocSum.Merge(roots, 18).Value);
    }
}
