// Ported from Go 1.16's runtime/mpagecache_test.go: TestPageCacheAlloc, TestPageCacheFlush,
// TestPageAllocAllocToCache (including DiscontiguousMappedSumBoundary). Each Go sub-test is one
// theory case, named as in Go. Scavenged amounts are pages (Go: bytes).
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;
using Desc = System.Collections.Generic.Dictionary<long, (int, int)[]>;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

public class PageCacheTests
{
    private const long B = BaseChunkIdx;
    private static readonly (int, int)[] None = [];
    private static readonly (int, int)[] Full = [(0, ChunkPages)];

    private static void CheckPageCache(PageCache got, PageCache want)
    {
        Assert.True(got.Base == want.Base, $"bad pageCache base: got 0x{got.Base:x}, want 0x{want.Base:x}");
        Assert.True(got.Cache == want.Cache, $"bad pageCache bits: got {got.Cache:x16}, want {want.Cache:x16}");
        Assert.True(got.Scav == want.Scav, $"bad pageCache scav: got {got.Scav:x16}, want {want.Scav:x16}");
    }

    // ---------------------------------------------------------------- TestPageCacheAlloc

    private static readonly nint s_base = PageBase(B, 0);

    private static nint At(int page) => s_base + (nint)(page * PageSize);

    private static readonly Dictionary<string, (PageCache Cache, (int NPages, nint Base, int Scav)[] Hits)> s_cacheAlloc = new()
    {
        ["Empty"] = (new PageCache(s_base, 0, 0),
            [(1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0), (5, 0, 0), (11, 0, 0), (12, 0, 0), (16, 0, 0), (27, 0, 0), (32, 0, 0), (43, 0, 0), (57, 0, 0), (64, 0, 0), (121, 0, 0)]),
        ["Lo1"] = (new PageCache(s_base, 0x1, 0x1), [(1, At(0), 1), (1, 0, 0), (10, 0, 0)]),
        ["Hi1"] = (new PageCache(s_base, 0x1UL << 63, 0x1), [(1, At(63), 0), (1, 0, 0), (10, 0, 0)]),
        ["Swiss1"] = (new PageCache(s_base, 0x20005555, 0x5505),
        [
            (2, 0, 0), (1, At(0), 1), (1, At(2), 1), (1, At(4), 0), (1, At(6), 0), (1, At(8), 1), (1, At(10), 1), (1, At(12), 1),
            (1, At(14), 1), (1, At(29), 0), (1, 0, 0), (10, 0, 0),
        ]),
        ["Lo2"] = (new PageCache(s_base, 0x3, 0x2UL << 62), [(2, At(0), 0), (2, 0, 0), (1, 0, 0)]),
        ["Hi2"] = (new PageCache(s_base, 0x3UL << 62, 0x3UL << 62), [(2, At(62), 2), (2, 0, 0), (1, 0, 0)]),
        ["Swiss2"] = (new PageCache(s_base, 0x3333UL << 31, 0x3030UL << 31), [(2, At(31), 0), (2, At(35), 2), (2, At(39), 0), (2, At(43), 2), (2, 0, 0)]),
        ["Hi53"] = (new PageCache(s_base, ((1UL << 53) - 1) << 10, ((1UL << 16) - 1) << 10), [(53, At(10), 16), (53, 0, 0), (1, 0, 0)]),
        ["Full53"] = (new PageCache(s_base, ~0UL, ((1UL << 16) - 1) << 10), [(53, At(0), 16), (53, 0, 0), (1, At(53), 0)]),
        ["Full64"] = (new PageCache(s_base, ~0UL, ~0UL), [(64, At(0), 64), (64, 0, 0), (1, 0, 0)]),
        ["FullMixed"] = (new PageCache(s_base, ~0UL, ~0UL),
        [
            (5, At(0), 5), (7, At(5), 7), (1, At(12), 1), (23, At(13), 23), (63, 0, 0), (3, At(36), 3), (3, At(39), 3), (3, At(42), 3),
            (12, At(45), 12), (11, 0, 0), (4, At(57), 4), (4, 0, 0), (6, 0, 0), (36, 0, 0), (2, At(61), 2), (3, 0, 0), (1, At(63), 1),
            (4, 0, 0), (2, 0, 0), (62, 0, 0), (1, 0, 0),
        ]),
    };

    public static TheoryData<string> CacheAllocCases => [.. s_cacheAlloc.Keys];

    [Theory, MemberData(nameof(CacheAllocCases))]
    public void PageCache_Alloc(string name)
    {
        (PageCache c, (int NPages, nint Base, int Scav)[] hits) = s_cacheAlloc[name];
        for (int i = 0; i < hits.Length; i++)
        {
            (int npages, nint wantBase, int wantScav) = hits[i];
            nint b = c.Alloc(npages, out int s);
            Assert.True(b == wantBase, $"bad alloc base #{i}: got 0x{b:x}, want 0x{wantBase:x}");
            Assert.True(s == wantScav, $"bad alloc scav #{i}: got {s}, want {wantScav}");
        }
    }

    // ---------------------------------------------------------------- TestPageCacheFlush

    private static (int, int)[] Bits64ToBitRanges(ulong bits, int @base)
    {
        var ranges = new List<(int, int)>();
        int start = 0, size = 0;
        for (int i = 0; i < 64; i++)
        {
            if ((bits & (1UL << i)) != 0)
            {
                if (size == 0)
                    start = i + @base;
                size++;
            }
            else if (size != 0)
            {
                ranges.Add((start, size));
                size = 0;
            }
        }
        if (size != 0)
            ranges.Add((start, size));
        return [.. ranges];
    }

    private static void RunFlushTest(int @base, ulong cache, ulong scav)
    {
        using PageAlloc b = PageAllocTestApi.Build(new Desc { [B] = [(@base, 64)] }, new Desc { [B] = None });
        var c = new PageCache(PageBase(B, @base), cache, scav);
        c.Flush(b);
        Assert.True(c.Empty, "pageCache flush did not clear cache");
        using PageAlloc want = PageAllocTestApi.Build(
            new Desc { [B] = Bits64ToBitRanges(~cache, @base) },
            new Desc { [B] = Bits64ToBitRanges(scav, @base) });
        CheckPageAlloc(want, b);
        // Flush acts like a free: searchAddr may not stay above the returned pages.
        if (cache != 0)
            Assert.True(PageAllocTestApi.SearchAddr(b) <= PageBase(B, @base));
    }

    [Fact]
    public void PageCache_Flush()
    {
        RunFlushTest(0, 0, 0);            // empty
        RunFlushTest(0, ~0UL, ~0UL);      // full
        var rng = new Random(42);
        for (int i = 0; i < 100; i++)
        {
            int @base = rng.Next(ChunkPages / 64) * 64;
            ulong cache = (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);
            ulong scav = ((ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63)) & cache;
            RunFlushTest(@base, cache, scav);
        }
    }

    // ---------------------------------------------------------------- TestPageAllocAllocToCache

    private sealed record ToCacheCase(Desc BeforeAlloc, Desc? BeforeScav, PageCache[] Hits, Desc AfterAlloc, Desc? AfterScav);

    private static readonly Dictionary<string, ToCacheCase> s_toCache = BuildToCacheCases();

    private static unsafe Dictionary<string, ToCacheCase> BuildToCacheCases()
    {
        const int P = ChunkPages;
        var t = new Dictionary<string, ToCacheCase>
        {
            ["ManyArena"] = new(
                new() { [B] = Full, [B + 1] = Full, [B + 2] = [(0, P - 64)] },
                new() { [B] = Full, [B + 1] = Full, [B + 2] = None },
                [new PageCache(PageBase(B + 2, P - 64), ~0UL, 0)],
                new() { [B] = Full, [B + 1] = Full, [B + 2] = Full },
                null),
            ["Fail"] = new(
                new() { [B] = Full },
                null,
                [default, default, default],
                new() { [B] = Full },
                null),
            ["RetainScavBits"] = new(
                new() { [B] = [(0, 1), (10, 2)] },
                new() { [B] = [(0, 4), (11, 1)] },
                [new PageCache(PageBase(B, 0), ~(0x1UL | (0x3UL << 10)), 0x7UL << 1)],
                new() { [B] = [(0, 64)] },
                new() { [B] = [(0, 1), (11, 1)] }),
            ["AllFree"] = new(
                new() { [B] = None },
                new() { [B] = [(1, 1), (64, 64)] },
                [
                    new PageCache(PageBase(B, 0), ~0UL, 0x2),
                    new PageCache(PageBase(B, 64), ~0UL, ~0UL),
                    new PageCache(PageBase(B, 128), ~0UL, 0),
                    new PageCache(PageBase(B, 192), ~0UL, 0),
                ],
                new() { [B] = [(0, 256)] },
                null),
            ["NotContiguous"] = new(
                new() { [B] = Full, [B + 0xff] = [(0, 0)] },
                new() { [B] = Full, [B + 0xff] = [(31, 67)] },
                [new PageCache(PageBase(B + 0xff, 0), ~0UL, ((1UL << 33) - 1) << 31)],
                new() { [B] = Full, [B + 0xff] = [(0, 64)] },
                new() { [B] = Full, [B + 0xff] = [(64, 34)] }),
            ["First"] = new(
                new() { [B] = [(0, 32), (33, 31), (96, 32)] },
                new() { [B] = [(1, 4), (31, 5), (66, 2)] },
                [new PageCache(PageBase(B, 0), 1UL << 32, 1UL << 32), new PageCache(PageBase(B, 64), (1UL << 32) - 1, 0x3UL << 2)],
                new() { [B] = [(0, 128)] },
                null),
        };
        const long chunkIdxBigJump = 0x100000;
        long sumsPerPhysPage = SysMem.PhysPageSize / sizeof(PallocSum);
        long baseChunkIdx = B & ~(sumsPerPhysPage - 1);
        t["DiscontiguousMappedSumBoundary"] = new(
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = [(0, P - 1)], [baseChunkIdx + chunkIdxBigJump] = [(1, P - 1)] },
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = None, [baseChunkIdx + chunkIdxBigJump] = None },
            [
                new PageCache(PageBase(baseChunkIdx + sumsPerPhysPage - 1, P - 64), 1UL << 63, 0),
                new PageCache(PageBase(baseChunkIdx + chunkIdxBigJump, 0), 1, 0),
                default,
            ],
            new() { [baseChunkIdx + sumsPerPhysPage - 1] = Full, [baseChunkIdx + chunkIdxBigJump] = Full },
            null);
        return t;
    }

    public static TheoryData<string> AllocToCacheCases => [.. s_toCache.Keys.Where(k => k != "DiscontiguousMappedSumBoundary")];

    [Theory, MemberData(nameof(AllocToCacheCases))]
    public void PageAlloc_AllocToCache(string name) => RunToCacheCase(name);

    [Fact]
    public void PageAlloc_AllocToCache_DiscontiguousMappedSumBoundary() => RunToCacheCase("DiscontiguousMappedSumBoundary");

    private static void RunToCacheCase(string name)
    {
        ToCacheCase v = s_toCache[name];
        using PageAlloc b = PageAllocTestApi.Build(v.BeforeAlloc, v.BeforeScav);
        foreach (PageCache expect in v.Hits)
        {
            CheckPageCache(b.AllocToCache(), expect);
            Assert.Null(b.CheckSummaries());
        }
        using PageAlloc want = PageAllocTestApi.Build(v.AfterAlloc, v.AfterScav);
        CheckPageAlloc(want, b);
    }
}
