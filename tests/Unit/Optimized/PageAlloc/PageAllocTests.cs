// Ported from Go 1.16's runtime/mpagealloc_test.go: TestPageAllocGrow, TestPageAllocAlloc
// (including DiscontiguousMappedSumBoundary and DiscontiguousBadSearchAddr, the regression case of
// golang/go#40191), TestPageAllocExhaust, TestPageAllocFree, TestPageAllocAllocAndFree. Each Go
// sub-test is one theory case, named as in Go. Scavenged amounts are pages (Go: bytes). Go's
// tests guard the far-apart cases with "not on iOS (#46860)"; here they always run.
// Plus checks of what this port adds: double grow / double free / ungrown ranges throw,
// CheckSummaries (INV-PAGE-3) notices corruption, and the hot paths allocate no managed memory.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;
using Desc = System.Collections.Generic.Dictionary<long, (int, int)[]>;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

public unsafe class PageAllocTests
{
    private const long B = BaseChunkIdx;
    private static readonly (int, int)[] None = [];
    private static readonly (int, int)[] Full = [(0, ChunkPages)];

    // ---------------------------------------------------------------- TestPageAllocGrow

    private static readonly Dictionary<string, (long[] Chunks, (nint Base, nint Limit)[] InUse)> s_grow = BuildGrowCases();

    private static Dictionary<string, (long[], (nint, nint)[])> BuildGrowCases()
    {
        static (nint, nint) R(long from, long to) => (PageBase(from, 0), PageBase(to, 0));
        long[] many = [.. Enumerable.Range(0, 33).Select(k => B + 2 * k)];
        return new()
        {
            ["One"] = ([B], [R(B, B + 1)]),
            ["Contiguous2"] = ([B, B + 1], [R(B, B + 2)]),
            ["Contiguous5"] = ([B, B + 1, B + 2, B + 3, B + 4], [R(B, B + 5)]),
            ["Discontiguous"] = ([B, B + 2, B + 4], [R(B, B + 1), R(B + 2, B + 3), R(B + 4, B + 5)]),
            ["Mixed"] = ([B, B + 1, B + 2, B + 4], [R(B, B + 3), R(B + 4, B + 5)]),
            ["WildlyDiscontiguous"] = ([B, B + 1, B + 0x10, B + 0x21], [R(B, B + 2), R(B + 0x10, B + 0x11), R(B + 0x21, B + 0x22)]),
            // The initial capacity of the range list is 16: 33 ranges exercise its growth twice.
            ["ManyDiscontiguous"] = (many, [.. many.Select(c => R(c, c + 1))]),
            // 0x100000 chunks is 4 TiB further: a different chunk-map L2 block and summary pages.
            ["ExtremelyDiscontiguous"] = ([B, B + 0x100000], [R(B, B + 1), R(B + 0x100000, B + 0x100001)]),
        };
    }

    public static TheoryData<string> GrowCases => [.. s_grow.Keys];

    [Theory, MemberData(nameof(GrowCases))]
    public void PageAlloc_Grow(string name)
    {
        (long[] chunks, (nint Base, nint Limit)[] want) = s_grow[name];
        using PageAlloc b = PageAllocTestApi.Build(Chunks(chunks));
        AddrRange[] got = PageAllocTestApi.InUse(b);
        Assert.Equal(want, got.Select(r => (r.Base, r.Limit)).ToArray());
        Assert.Null(b.CheckSummaries());
        Assert.Equal(chunks.Order(), b.GrownChunks());
    }

    // ---------------------------------------------------------------- TestPageAllocAlloc

    private sealed record AllocCase(Desc Before, Desc Scav, (int NPages, nint Base, int Scav)[] Hits, Desc After);

    private static readonly Dictionary<string, AllocCase> s_alloc = BuildAllocCases();

    private static Dictionary<string, AllocCase> BuildAllocCases()
    {
        const int P = ChunkPages;
        var t = new Dictionary<string, AllocCase>
        {
            ["AllFree1"] = new(new() { [B] = None }, new() { [B] = [(0, 1), (2, 2)] },
                [(1, PageBase(B, 0), 1), (1, PageBase(B, 1), 0), (1, PageBase(B, 2), 1), (1, PageBase(B, 3), 1), (1, PageBase(B, 4), 0)],
                new() { [B] = [(0, 5)] }),
            ["ManyArena1"] = new(
                new() { [B] = Full, [B + 1] = Full, [B + 2] = [(0, P - 1)] },
                new() { [B] = Full, [B + 1] = Full, [B + 2] = Full },
                [(1, PageBase(B + 2, P - 1), 1)],
                new() { [B] = Full, [B + 1] = Full, [B + 2] = Full }),
            ["NotContiguous1"] = new(
                new() { [B] = Full, [B + 0xff] = [(0, 0)] },
                new() { [B] = Full, [B + 0xff] = Full },
                [(1, PageBase(B + 0xff, 0), 1)],
                new() { [B] = Full, [B + 0xff] = [(0, 1)] }),
            ["AllFree2"] = new(new() { [B] = None }, new() { [B] = [(0, 3), (7, 1)] },
                [(2, PageBase(B, 0), 2), (2, PageBase(B, 2), 1), (2, PageBase(B, 4), 0), (2, PageBase(B, 6), 1), (2, PageBase(B, 8), 0)],
                new() { [B] = [(0, 10)] }),
            ["Straddle2"] = new(
                new() { [B] = [(0, P - 1)], [B + 1] = [(1, P - 1)] },
                new() { [B] = [(P - 1, 1)], [B + 1] = None },
                [(2, PageBase(B, P - 1), 1)],
                new() { [B] = Full, [B + 1] = Full }),
            ["AllFree5"] = new(new() { [B] = None }, new() { [B] = [(0, 8), (9, 1), (17, 5)] },
                [(5, PageBase(B, 0), 5), (5, PageBase(B, 5), 4), (5, PageBase(B, 10), 0), (5, PageBase(B, 15), 3), (5, PageBase(B, 20), 2)],
                new() { [B] = [(0, 25)] }),
            ["ExhaustPallocChunkPages-3"] = new(new() { [B] = None }, new() { [B] = [(10, 1)] },
                [(P - 3, PageBase(B, 0), 1), (P - 3, 0, 0), (1, PageBase(B, P - 3), 0), (2, PageBase(B, P - 2), 0), (1, 0, 0), (P - 3, 0, 0)],
                new() { [B] = Full }),
            ["AllFreePallocChunkPages"] = new(new() { [B] = None }, new() { [B] = [(0, 1), (P - 1, 1)] },
                [(P, PageBase(B, 0), 2), (P, 0, 0), (1, 0, 0)],
                new() { [B] = Full }),
            ["StraddlePallocChunkPages+1"] = new(
                new() { [B] = [(0, P / 2)], [B + 1] = None },
                new() { [B] = Full, [B + 1] = Full },
                [(P + 1, PageBase(B, P / 2), P + 1), (P, 0, 0), (1, PageBase(B + 1, P / 2 + 1), 1)],
                new() { [B] = Full, [B + 1] = [(0, P / 2 + 2)] }),
            ["AllFreePallocChunkPages*2"] = new(
                new() { [B] = None, [B + 1] = None },
                new() { [B] = None, [B + 1] = None },
                [(P * 2, PageBase(B, 0), 0), (P * 2, 0, 0), (1, 0, 0)],
                new() { [B] = Full, [B + 1] = Full }),
            ["NotContiguousPallocChunkPages*2"] = new(
                new() { [B] = None, [B + 0x40] = None, [B + 0x41] = None },
                new() { [B] = Full, [B + 0x40] = None, [B + 0x41] = None },
                [(P * 2, PageBase(B + 0x40, 0), 0), (21, PageBase(B, 0), 21), (1, PageBase(B, 21), 1)],
                new() { [B] = [(0, 22)], [B + 0x40] = Full, [B + 0x41] = Full }),
            ["StraddlePallocChunkPages*5/4"] = new(
                new() { [B] = Full, [B + 1] = [(0, P * 3 / 4)], [B + 2] = [(0, P * 3 / 4)], [B + 3] = [(0, 0)] },
                new() { [B] = Full, [B + 1] = [(P / 2, P / 4 + 1)], [B + 2] = [(P / 3, 1)], [B + 3] = [(P * 2 / 3, 1)] },
                [(P * 5 / 4, PageBase(B + 2, P * 3 / 4), 1), (P * 5 / 4, 0, 0), (1, PageBase(B + 1, P * 3 / 4), 1)],
                new() { [B] = Full, [B + 1] = [(0, P * 3 / 4 + 1)], [B + 2] = Full, [B + 3] = Full }),
            // Go guards the rest with PallocChunkPages >= 512, which holds here.
            ["AllFree64"] = new(new() { [B] = None }, new() { [B] = [(21, 1), (63, 65)] },
                [(64, PageBase(B, 0), 2), (64, PageBase(B, 64), 64), (64, PageBase(B, 128), 0)],
                new() { [B] = [(0, 192)] }),
            ["AllFree65"] = new(new() { [B] = None }, new() { [B] = [(129, 1)] },
                [(65, PageBase(B, 0), 0), (65, PageBase(B, 65), 1), (65, PageBase(B, 130), 0)],
                new() { [B] = [(0, 195)] }),
            ["StraddlePallocChunkPages"] = new(
                new() { [B] = [(0, P / 2)], [B + 1] = [(P / 2, P / 2)] },
                new() { [B] = None, [B + 1] = [(3, 100)] },
                [(P, PageBase(B, P / 2), 100), (P, 0, 0), (1, 0, 0)],
                new() { [B] = Full, [B + 1] = Full }),
            ["AllFreePallocChunkPages*7+5"] = new(
                Enumerable.Range(0, 8).ToDictionary(k => B + k, _ => None),
                new()
                {
                    [B] = [(50, 1)],
                    [B + 1] = [(31, 1)],
                    [B + 2] = [(7, 1)],
                    [B + 3] = [(200, 1)],
                    [B + 4] = [(3, 1)],
                    [B + 5] = [(51, 1)],
                    [B + 6] = [(20, 1)],
                    [B + 7] = [(1, 1)],
                },
                [(P * 7 + 5, PageBase(B, 0), 8), (P * 7 + 5, 0, 0), (1, PageBase(B + 7, 5), 0)],
                Enumerable.Range(0, 8).ToDictionary(k => B + k, k => k < 7 ? Full : [(0, 6)])),
            ["StraddlePallocChunkPages*2"] = new(
                new() { [B] = [(0, P / 2)], [B + 1] = None, [B + 2] = [(P / 2, P / 2)] },
                new() { [B] = [(0, 7)], [B + 1] = [(3, 5), (121, 10)], [B + 2] = [(P / 2 + 12, 2)] },
                [(P * 2, PageBase(B, P / 2), 15), (P * 2, 0, 0), (1, 0, 0)],
                new() { [B] = Full, [B + 1] = Full, [B + 2] = Full }),
        };

        const long chunkIdxBigJump = 0x100000; // chunks: 4 TiB

        // A chunk whose leaf summary is the last one in a physical page of the leaf array, and a
        // second chunk far away, so exhausting the first must not read unmapped summary memory.
        long sumsPerPhysPage = SysMem.PhysPageSize / sizeof(PallocSum);
        long baseChunkIdx = B & ~(sumsPerPhysPage - 1);
        t["DiscontiguousMappedSumBoundary"] = new(
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = None, [baseChunkIdx + chunkIdxBigJump] = None },
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = None, [baseChunkIdx + chunkIdxBigJump] = None },
            [
                (P - 1, PageBase(baseChunkIdx + sumsPerPhysPage - 1, 0), 0),
                (1, PageBase(baseChunkIdx + sumsPerPhysPage - 1, P - 1), 0),
                (1, PageBase(baseChunkIdx + chunkIdxBigJump, 0), 0),
                (P - 1, PageBase(baseChunkIdx + chunkIdxBigJump, 1), 0),
                (1, 0, 0),
            ],
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = Full, [baseChunkIdx + chunkIdxBigJump] = Full });

        // golang/go#40191: chunks A, B, C far apart; A has one free page, B a few (not at its end),
        // C is free. Allocating A's page moves searchAddr to A's end; a 100-page allocation lands in
        // C, and its search's candidate searchAddr is the start of the summary region holding B,
        // 0x503 chunks below B, which was never grown. Unless find moves it into grown memory, the
        // next allocation's fast path reads that chunk's unmapped leaf summary.
        const long chunkIdxSmallOffset = 0x503;
        long chunkB = B + chunkIdxBigJump + chunkIdxSmallOffset, chunkC = B + chunkIdxBigJump * 2;
        t["DiscontiguousBadSearchAddr"] = new(
            new() { [B] = [(0, P - 1)], [chunkB] = [(0, P - 10), (P - 1, 1)], [chunkC] = None },
            new() { [B] = None, [chunkB] = None, [chunkC] = None },
            [(1, PageBase(B, P - 1), 0), (100, PageBase(chunkC, 0), 0), (9, PageBase(chunkB, P - 10), 0)],
            new() { [B] = Full, [chunkB] = Full, [chunkC] = [(0, 100)] });
        return t;
    }

    // The far-apart regression cases run as their own facts below, under their Go names.
    private static readonly string[] s_allocRegressionCases = ["DiscontiguousMappedSumBoundary", "DiscontiguousBadSearchAddr"];

    public static TheoryData<string> AllocCases => [.. s_alloc.Keys.Except(s_allocRegressionCases)];

    [Theory, MemberData(nameof(AllocCases))]
    public void PageAlloc_Alloc(string name) => RunAllocCase(name);

    [Fact]
    public void PageAlloc_Alloc_DiscontiguousMappedSumBoundary() => RunAllocCase("DiscontiguousMappedSumBoundary");

    /// <summary>golang/go#40191, plus the mechanism: find's candidate searchAddr is moved into grown memory.</summary>
    [Fact]
    public void PageAlloc_Alloc_DiscontiguousBadSearchAddr()
    {
        RunAllocCase("DiscontiguousBadSearchAddr");

        AllocCase v = s_alloc["DiscontiguousBadSearchAddr"];
        using PageAlloc b = PageAllocTestApi.Build(v.Before, v.Scav);
        Assert.Equal(PageBase(B, ChunkPages - 1), b.Alloc(1, out _));
        Assert.Equal(PageBase(B + 0x200000, 0), b.Alloc(100, out _));
        nint searchAddr = PageAllocTestApi.SearchAddr(b);
        Assert.True(b.Contains(searchAddr), $"searchAddr 0x{searchAddr:x} is not in grown memory");
        Assert.Equal(PageBase(B + 0x100503, 0), searchAddr); // chunk B's base, not 0x503 chunks below it
    }

    private static void RunAllocCase(string name)
    {
        AllocCase v = s_alloc[name];
        using PageAlloc b = PageAllocTestApi.Build(v.Before, v.Scav);
        for (int iter = 0; iter < v.Hits.Length; iter++)
        {
            (int npages, nint wantBase, int wantScav) = v.Hits[iter];
            nint a = b.Alloc(npages, out int s);
            Assert.True(a == wantBase, $"bad alloc #{iter + 1}: want base 0x{wantBase:x}, got 0x{a:x}");
            Assert.True(s == wantScav, $"bad alloc #{iter + 1}: want scav {wantScav}, got {s}");
            Assert.Null(b.CheckSummaries());
        }
        using PageAlloc want = PageAllocTestApi.Build(v.After, v.Scav);
        CheckPageAlloc(want, b);
    }

    // ---------------------------------------------------------------- TestPageAllocExhaust

    public static TheoryData<int> ExhaustCases => [1, 2, 3, 4, 5, 8, 16, 64, 1024, 1025, 2048, 2049];

    [Theory, MemberData(nameof(ExhaustCases))]
    public void PageAlloc_Exhaust(int npages)
    {
        Desc bDesc = Enumerable.Range(0, 4).ToDictionary(i => B + i, _ => None);
        using PageAlloc b = PageAllocTestApi.Build(bDesc);

        // Allocate npages at a time until the heap is exhausted.
        int nAlloc = ChunkPages * 4 / npages;
        for (int i = 0; i < nAlloc; i++)
        {
            nint addr = PageBase(B, i * npages);
            nint a = b.Alloc(npages, out _);
            Assert.True(a == addr, $"bad alloc #{i + 1}: want 0x{addr:x}, got 0x{a:x}");
        }
        nint last = b.Alloc(npages, out _);
        Assert.True(last == 0, $"bad alloc #{nAlloc}: want 0, got 0x{last:x}");

        int allocPages = nAlloc * npages;
        var wantDesc = new Desc();
        for (int i = 0; i < 4; i++)
        {
            if (allocPages >= ChunkPages)
            {
                wantDesc[B + i] = Full;
                allocPages -= ChunkPages;
            }
            else if (allocPages > 0)
            {
                wantDesc[B + i] = [(0, allocPages)];
                allocPages = 0;
            }
            else
            {
                wantDesc[B + i] = None;
            }
        }
        using PageAlloc want = PageAllocTestApi.Build(wantDesc);
        CheckPageAlloc(want, b);
    }

    // ---------------------------------------------------------------- TestPageAllocFree

    private static readonly Dictionary<string, (Desc Before, Desc After, int NPages, nint[] Frees)> s_free = BuildFreeCases();

    private static Dictionary<string, (Desc, Desc, int, nint[])> BuildFreeCases()
    {
        const int P = ChunkPages;
        return new()
        {
            ["Free1"] = (new() { [B] = Full }, new() { [B] = [(5, P - 5)] }, 1,
                [PageBase(B, 0), PageBase(B, 1), PageBase(B, 2), PageBase(B, 3), PageBase(B, 4)]),
            ["ManyArena1"] = (new() { [B] = Full, [B + 1] = Full, [B + 2] = Full },
                new() { [B] = [(0, P / 2), (P / 2 + 1, P / 2 - 1)], [B + 1] = [(1, P - 1)], [B + 2] = [(0, P - 1)] }, 1,
                [PageBase(B, P / 2), PageBase(B + 1, 0), PageBase(B + 2, P - 1)]),
            ["Free2"] = (new() { [B] = Full }, new() { [B] = [(10, P - 10)] }, 2,
                [PageBase(B, 0), PageBase(B, 2), PageBase(B, 4), PageBase(B, 6), PageBase(B, 8)]),
            ["Straddle2"] = (new() { [B] = [(P - 1, 1)], [B + 1] = [(0, 1)] }, new() { [B] = None, [B + 1] = None }, 2,
                [PageBase(B, P - 1)]),
            ["Free5"] = (new() { [B] = Full }, new() { [B] = [(25, P - 25)] }, 5,
                [PageBase(B, 0), PageBase(B, 5), PageBase(B, 10), PageBase(B, 15), PageBase(B, 20)]),
            ["FreePallocChunkPages"] = (new() { [B] = Full }, new() { [B] = None }, P, [PageBase(B, 0)]),
            ["StraddlePallocChunkPages"] = (new() { [B] = [(P / 2, P / 2)], [B + 1] = [(0, P / 2)] },
                new() { [B] = None, [B + 1] = None }, P, [PageBase(B, P / 2)]),
            ["StraddlePallocChunkPages+1"] = (new() { [B] = Full, [B + 1] = Full },
                new() { [B] = [(0, P / 2)], [B + 1] = [(P / 2 + 1, P / 2 - 1)] }, P + 1, [PageBase(B, P / 2)]),
            ["FreePallocChunkPages*2"] = (new() { [B] = Full, [B + 1] = Full }, new() { [B] = None, [B + 1] = None }, P * 2,
                [PageBase(B, 0)]),
            ["StraddlePallocChunkPages*2"] = (new() { [B] = Full, [B + 1] = Full, [B + 2] = Full },
                new() { [B] = [(0, P / 2)], [B + 1] = None, [B + 2] = [(P / 2, P / 2)] }, P * 2, [PageBase(B, P / 2)]),
            ["AllFreePallocChunkPages*7+5"] = (Enumerable.Range(0, 8).ToDictionary(k => B + k, _ => Full),
                Enumerable.Range(0, 8).ToDictionary(k => B + k, k => k < 7 ? None : [(5, P - 5)]), P * 7 + 5, [PageBase(B, 0)]),
            ["Free64"] = (new() { [B] = Full }, new() { [B] = [(192, P - 192)] }, 64,
                [PageBase(B, 0), PageBase(B, 64), PageBase(B, 128)]),
            ["Free65"] = (new() { [B] = Full }, new() { [B] = [(195, P - 195)] }, 65,
                [PageBase(B, 0), PageBase(B, 65), PageBase(B, 130)]),
        };
    }

    public static TheoryData<string> FreeCases => [.. s_free.Keys];

    [Theory, MemberData(nameof(FreeCases))]
    public void PageAlloc_Free(string name)
    {
        (Desc before, Desc after, int npages, nint[] frees) = s_free[name];
        using PageAlloc b = PageAllocTestApi.Build(before);
        foreach (nint addr in frees)
            b.Free(addr, npages);
        using PageAlloc want = PageAllocTestApi.Build(after);
        CheckPageAlloc(want, b);
    }

    // ---------------------------------------------------------------- TestPageAllocAllocAndFree

    private static readonly Dictionary<string, (Desc Init, (bool Alloc, int NPages, nint Base)[] Hits)> s_allocAndFree = new()
    {
        ["Chunks8"] = (Enumerable.Range(0, 8).ToDictionary(k => B + k, _ => None),
        [
            (true, ChunkPages * 8, PageBase(B, 0)),
            (false, ChunkPages * 8, PageBase(B, 0)),
            (true, ChunkPages * 8, PageBase(B, 0)),
            (false, ChunkPages * 8, PageBase(B, 0)),
            (true, ChunkPages * 8, PageBase(B, 0)),
            (false, ChunkPages * 8, PageBase(B, 0)),
            (true, 1, PageBase(B, 0)),
            (false, 1, PageBase(B, 0)),
            (true, ChunkPages * 8, PageBase(B, 0)),
        ]),
    };

    public static TheoryData<string> AllocAndFreeCases => [.. s_allocAndFree.Keys];

    [Theory, MemberData(nameof(AllocAndFreeCases))]
    public void PageAlloc_AllocAndFree(string name)
    {
        (Desc init, (bool Alloc, int NPages, nint Base)[] hits) = s_allocAndFree[name];
        using PageAlloc b = PageAllocTestApi.Build(init);
        for (int iter = 0; iter < hits.Length; iter++)
        {
            (bool alloc, int npages, nint @base) = hits[iter];
            if (alloc)
            {
                nint a = b.Alloc(npages, out _);
                Assert.True(a == @base, $"bad alloc #{iter + 1}: want 0x{@base:x}, got 0x{a:x}");
            }
            else
            {
                b.Free(@base, npages);
            }
            Assert.Null(b.CheckSummaries());
        }
    }

    // ---------------------------------------------------------------- what this port adds

    [Fact]
    public void PageAlloc_GrowTwiceThrowsAndChangesNothing()
    {
        using PageAlloc b = PageAllocTestApi.Build(Chunks(B, B + 2));
        Assert.Throws<HeapInvariantException>(() => b.Grow(PageBase(B + 1, 0), 2 * MallocConstants.PallocChunkBytes));
        Assert.Throws<HeapInvariantException>(() => b.Grow(PageBase(B, 100), 1));
        Assert.Equal([B, B + 2], b.GrownChunks());
        b.Grow(PageBase(B + 1, 0), 1); // rounds out to the whole chunk, which joins the two ranges
        Assert.Single(PageAllocTestApi.InUse(b));
        Assert.Equal(PageBase(B, 0), b.Alloc(3 * ChunkPages, out int scav));
        Assert.Equal(ChunkPages, scav); // only the chunk grown by Grow is scavenged; Build clears the rest
        Assert.Null(b.CheckSummaries());
    }

    [Fact]
    public void PageAlloc_FreeOfAFreePageThrowsAndChangesNothing()
    {
        using PageAlloc b = PageAllocTestApi.Build(new Desc { [B] = [(0, 10), (500, 12)], [B + 1] = Full });
        var ex = Assert.Throws<HeapInvariantException>(() => b.Free(PageBase(B, 8), 4));
        Assert.Contains($"0x{PageBase(B, 10):x}", ex.Message);
        Assert.True(b.IsAllocated(PageBase(B, 8)) && b.IsAllocated(PageBase(B, 9)));
        Assert.Throws<HeapInvariantException>(() => b.Free(PageBase(B + 2, 0), 1)); // never grown
        Assert.Throws<HeapInvariantException>(() => b.AllocRange(PageBase(B + 1, 500), 20)); // runs off the grown range
        b.Free(PageBase(B, 500), 22); // straddles into the next chunk
        Assert.False(b.IsAllocated(PageBase(B + 1, 9)));
        Assert.True(b.IsAllocated(PageBase(B + 1, 10)));
        Assert.Null(b.CheckSummaries());
    }

    [Fact]
    public void PageAlloc_FreeAcrossChunksChecksEveryMiddleChunk()
    {
        // Three chunks in use except one page of the middle one: a free of all three is a bad free.
        using PageAlloc b = PageAllocTestApi.Build(new Desc { [B] = Full, [B + 1] = [(0, 100), (101, 411)], [B + 2] = Full });
        var ex = Assert.Throws<HeapInvariantException>(() => b.Free(PageBase(B, 0), 3 * ChunkPages));
        Assert.Contains($"0x{PageBase(B + 1, 100):x}", ex.Message);
        Assert.True(b.IsAllocated(PageBase(B, 0)) && b.IsAllocated(PageBase(B + 1, 101)) && b.IsAllocated(PageBase(B + 2, ChunkPages - 1)));
        Assert.Null(b.CheckSummaries());
        b.Free(PageBase(B + 1, 101), 411 + ChunkPages); // from past the hole to the end: fine
        Assert.False(b.IsAllocated(PageBase(B + 2, 0)));
        Assert.Null(b.CheckSummaries());
    }

    [Fact]
    public void PageAlloc_TryChunkOfIsNullOutsideAllocatedL2Blocks()
    {
        using PageAlloc b = PageAllocTestApi.Build(Chunks(B));
        Assert.True(b.TryChunkOf(B) != null);
        long farBlock = B + (1L << GoAlloc.Optimized.PageAlloc.PallocChunksL2Bits); // the next L2 block: never mapped
        Assert.True(b.TryChunkOf(farBlock) == null);
        Assert.True(b.TryChunkOf(farBlock + 5) == null);
        Assert.True(b.TryChunkOf(-1) == null);
        Assert.True(b.TryChunkOf(1L << (MallocConstants.HeapAddrBits - GoAlloc.Optimized.PageAlloc.LogPallocChunkBytes)) == null);
    }

    [Fact]
    public void PageAlloc_AllocOnAnEmptyAllocatorFails()
    {
        using var b = new PageAlloc();
        Assert.Equal(0, b.Alloc(1, out _));
        Assert.True(b.AllocToCache().Empty);
        Assert.Equal(0, b.Scavenge(long.MaxValue, (_, _) => { }));
        Assert.Null(b.CheckSummaries());
        Assert.Empty(b.GrownChunks());
    }

    /// <summary>
    /// The summary windows (this port's replacement for Go's whole-address-space reservation):
    /// growths far below and far above the first move every lower level's window, the grown
    /// parts' summaries travel with it (the allocations made before still hold, CheckSummaries
    /// agrees), and what is reserved stays a small fraction of Go's 585 MiB.
    /// </summary>
    [Fact]
    public void PageAlloc_SummaryWindowsMoveWithTheirContents()
    {
        using var b = new PageAlloc();
        long root = b.SummaryReservedBytes;
        Assert.Equal(8L << PageAlloc.SummaryL0Bits, root); // the root level only, 128 KiB
        b.Grow(PageBase(B, 0), MallocConstants.PallocChunkBytes);
        Assert.Equal(PageBase(B, 0), b.Alloc(10, out _));
        long one = b.SummaryReservedBytes;
        Assert.Equal(root + 4 * SysMem.PhysPageSize, one); // one page per lower level

        // 16 GiB below (a different root entry) and 4 TiB above: every lower window moves twice.
        b.Grow(PageBase(B - 0x1000, 0), MallocConstants.PallocChunkBytes);
        b.Grow(PageBase(B + 0x100000, 0), MallocConstants.PallocChunkBytes);
        Assert.Null(b.CheckSummaries());
        Assert.Equal(PageBase(B - 0x1000, 0), b.Alloc(ChunkPages, out _)); // the lowest chunk, wholly
        Assert.Equal(PageBase(B, 10), b.Alloc(5, out _)); // the first chunk kept its 10 pages in use
        Assert.Equal(PageBase(B + 0x100000, 0), b.Alloc(ChunkPages, out _));
        Assert.Null(b.CheckSummaries());
        Assert.InRange(b.SummaryReservedBytes, one + 1, PageAlloc.FullSummaryBytes / 8);
        b.Free(PageBase(B, 0), 15);
        Assert.Equal(PageBase(B, 0), b.Alloc(ChunkPages, out _));
        Assert.Null(b.CheckSummaries());
        b.Dispose();
        Assert.Equal(0, b.SummaryReservedBytes);
    }

    /// <summary>
    /// issue #20 item 1: a growth whose mapping is refused at any of its calls (a window's
    /// reservation or mapping, a summary page, a chunk-map block) throws OutOfMemoryException and
    /// leaves the allocator as it was: the same ranges, consistent summaries, the same pages in
    /// use; the same growth then succeeds.
    /// </summary>
    [Fact]
    public void PageAlloc_RefusedGrowthLeavesTheAllocatorAsItWas()
    {
        nint far = PageBase(B + 0x100000 + 0x2000000, 0); // another chunk-map block, every window moves
        int calls;
        using (var probe = new PageAlloc())
        {
            probe.Grow(PageBase(B, 0), MallocConstants.PallocChunkBytes);
            SysMem.InjectFailureAtCall(int.MaxValue);
            probe.Grow(far, MallocConstants.PallocChunkBytes);
            calls = int.MaxValue - SysMem.InjectionCountdown;
            SysMem.InjectFailureAtCall(0);
        }
        Assert.InRange(calls, 5, 100);
        for (int k = 1; k <= calls; k++)
        {
            using var b = new PageAlloc();
            b.Grow(PageBase(B, 0), MallocConstants.PallocChunkBytes);
            Assert.Equal(PageBase(B, 0), b.Alloc(10, out _));
            long reserved = b.SummaryReservedBytes;
            SysMem.InjectFailureAtCall(k);
            try
            {
                Assert.Throws<OutOfMemoryException>(() => b.Grow(far, MallocConstants.PallocChunkBytes));
            }
            finally
            {
                SysMem.InjectFailureAtCall(0);
            }
            Assert.Equal([new AddrRange(PageBase(B, 0), PageBase(B + 1, 0))], PageAllocTestApi.InUse(b));
            Assert.Null(b.CheckSummaries());
            Assert.True(b.SummaryReservedBytes >= reserved, $"call {k}: a window shrank");
            Assert.Equal(PageBase(B, 10), b.Alloc(1, out _));
            b.Grow(far, MallocConstants.PallocChunkBytes);
            Assert.Null(b.CheckSummaries());
            Assert.Equal(far, b.Alloc(ChunkPages, out _));
        }
    }

    /// <summary>A heap growing a chunk at a time (upward, or downward as a down hint does) moves each window only when it doubles.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PageAlloc_SummaryWindowsGrowGeometrically(bool upward)
    {
        using var b = new PageAlloc();
        var sizes = new HashSet<long>();
        for (int k = 0; k < 4096; k++)
        {
            b.Grow(PageBase(upward ? B + k : B + 4095 - k, 0), MallocConstants.PallocChunkBytes);
            sizes.Add(b.SummaryReservedBytes);
        }
        Assert.Null(b.CheckSummaries());
        // 4096 chunks (16 GiB of heap): 8 pages of leaves, reached through windows of 1, 2, 4 and 8
        // pages (a window widened only as far as each growth needs would take 8 sizes); the levels
        // above fit in one page each.
        Assert.InRange(sizes.Count, 2, 4);
        long root = 8L << PageAlloc.SummaryL0Bits;
        Assert.InRange(b.SummaryReservedBytes, root + 8 * SysMem.PhysPageSize, root + 16 * SysMem.PhysPageSize);
        Assert.Equal(PageBase(B, 0), b.Alloc(ChunkPages * 4096, out _)); // the whole grown heap is one run
        Assert.Null(b.CheckSummaries());
    }

    [Fact]
    public void PageAlloc_CheckSummariesReportsCorruption()
    {
        using PageAlloc b = PageAllocTestApi.Build(new Desc { [B] = [(0, 10)], [B + 1] = None });
        Assert.Null(b.CheckSummaries());
        PallocSum* leaf = b.Summary(PageAlloc.SummaryLevels - 1);
        PallocSum saved = leaf[B];
        leaf[B] = PallocSum.Pack(0, 1, 0);
        Assert.Contains("INV-PAGE-3", b.CheckSummaries());
        leaf[B] = saved;
        PallocSum* root = b.Summary(0);
        long ri = PageBase(B, 0) >> PageAlloc.LevelShift[0];
        saved = root[ri];
        root[ri] = default;
        Assert.Contains("summary[0]", b.CheckSummaries());
        root[ri] = saved;
        Assert.Null(b.CheckSummaries());
        // A free that skips the searchAddr update: the bitmap and summaries agree, searchAddr does not.
        Assert.Equal(PageBase(B, 10), b.Alloc(5, out _));
        PallocData* chunk = b.ChunkOf(B);
        chunk->Alloc.Free1(3);
        b.Update(PageBase(B, 3), 1, contig: true, alloc: false);
        Assert.Contains("searchAddr", b.CheckSummaries());
        b.LowerSearchAddr(PageBase(B, 3));
        Assert.Null(b.CheckSummaries());
    }

    /// <summary>Alloc, Free and AllocRange of 1- and 64-page runs allocate no managed memory.</summary>
    [Fact]
    public void PageAlloc_HotPathsDoNotAllocateManagedMemory()
    {
        using var p = new PageAlloc();
        p.Grow(PageBase(BaseChunkIdx, 0), 64 * MallocConstants.PallocChunkBytes);
        // Fill most of the heap so searches walk the tree, then leave scattered holes.
        nint first = p.Alloc(60 * ChunkPages, out _);
        for (int i = 0; i < 60 * ChunkPages; i += 997)
            p.Free(first + (nint)(i * PageSize), 1);

        void Cycle()
        {
            nint a = p.Alloc(1, out _);
            nint b = p.Alloc(64, out _);
            nint c = p.Alloc(65, out _);
            p.Free(b, 64);
            p.Free(a, 1);
            p.Free(c, 65);
            p.AllocRange(b, 64);
            p.Free(b, 64);
        }
        for (int i = 0; i < 1000; i++)
            Cycle(); // warm up (tiering)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10000; i++)
            Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Null(p.CheckSummaries());
    }
}
