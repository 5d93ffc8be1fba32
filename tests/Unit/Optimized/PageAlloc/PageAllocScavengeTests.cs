// PageAlloc.Scavenge: the scavenger policy of spec/SPEC.md (not Go's background scavenger):
// release up to ceil(nbytes / page) free, unscavenged pages, highest address first, each step one
// run extended downward inside its chunk. These pin the exact runs released (in order), the pages
// count, and the scavenged bitmaps afterwards, at word, chunk and request-size boundaries.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;
using Desc = System.Collections.Generic.Dictionary<long, (int, int)[]>;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

public class PageAllocScavengeTests
{
    private const long B = BaseChunkIdx;

    /// <summary>Runs Scavenge(nbytes) and checks the count and the released runs (chunk, first page, pages) in order.</summary>
    private static void Scavenge(PageAlloc p, long nbytes, long wantPages, params (long Chunk, int Page, int N)[] wantRuns)
    {
        var runs = new List<(nint, int)>();
        long got = p.Scavenge(nbytes, (b, n) => runs.Add((b, n)));
        Assert.Equal(wantRuns.Select(r => (PageBase(r.Chunk, r.Page), r.N)).ToArray(), runs.ToArray());
        Assert.Equal(wantPages, got);
        Assert.Equal(wantRuns.Sum(r => (long)r.N), got);
    }

    private static void CheckState(PageAlloc p, Desc alloc, Desc scav)
    {
        using PageAlloc want = PageAllocTestApi.Build(alloc, scav);
        CheckPageAlloc(want, p);
    }

    [Fact]
    public void PageAlloc_Scavenge_RoundsBytesUpToPages()
    {
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [] });
        Scavenge(p, 0, 0);
        Scavenge(p, 1, 1, (B, 511, 1));
        Scavenge(p, PageSize, 1, (B, 510, 1));
        Scavenge(p, PageSize + 1, 2, (B, 508, 2));
        Scavenge(p, 2 * PageSize - 1, 2, (B, 506, 2));
        CheckState(p, new Desc { [B] = [] }, new Desc { [B] = [(506, 6)] });
    }

    [Fact]
    public void PageAlloc_Scavenge_HighestFirstAcrossWords()
    {
        using PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [] });
        // 70 pages: the top word and 6 pages of the one below, one run.
        Scavenge(p, 70 * PageSize, 70, (B, 442, 70));
        // The rest of the chunk in one run, stopping at page 0.
        Scavenge(p, long.MaxValue, 442, (B, 0, 442));
        Scavenge(p, long.MaxValue, 0);
        CheckState(p, new Desc { [B] = [] }, new Desc { [B] = [(0, ChunkPages)] });
    }

    [Fact]
    public void PageAlloc_Scavenge_SkipsInUseAndScavengedPages()
    {
        // Free: 0..9, 500..511; 200..299 free but already scavenged; 100..109 free.
        Desc alloc = new() { [B] = [(10, 90), (110, 90), (300, 200)] };
        using PageAlloc p = PageAllocTestApi.Build(alloc, new Desc { [B] = [(200, 100)] });
        Scavenge(p, 15 * PageSize, 15, (B, 500, 12), (B, 107, 3));
        Scavenge(p, 9 * PageSize, 9, (B, 100, 7), (B, 8, 2));
        Scavenge(p, long.MaxValue, 8, (B, 0, 8));
        CheckState(p, alloc, new Desc { [B] = [(0, 10), (100, 10), (200, 100), (500, 12)] });
    }

    [Fact]
    public void PageAlloc_Scavenge_RunBreaksAtAPartialLowerWord()
    {
        // Free 0..59 and 64..511; pages 60..63 in use: the top run stops at page 64.
        Desc alloc = new() { [B] = [(60, 4)] };
        using PageAlloc p = PageAllocTestApi.Build(alloc);
        Scavenge(p, long.MaxValue, 508, (B, 64, 448), (B, 0, 60));
        CheckState(p, alloc, new Desc { [B] = [(0, 60), (64, 448)] });
        // A run whose top word is partial and whose lower word is full candidates.
        Desc alloc2 = new() { [B] = [(0, 30), (100, 412)] };
        using PageAlloc q = PageAllocTestApi.Build(alloc2);
        Scavenge(q, long.MaxValue, 70, (B, 30, 70));
        CheckState(q, alloc2, new Desc { [B] = [(30, 70)] });
        // A single free page at the bottom of a word with the word below full of candidates.
        Desc alloc3 = new() { [B] = [(65, 447)] };
        using PageAlloc r = PageAllocTestApi.Build(alloc3);
        Scavenge(r, 10 * PageSize, 10, (B, 55, 10));
        Scavenge(r, long.MaxValue, 55, (B, 0, 55));
    }

    [Fact]
    public void PageAlloc_Scavenge_ChunksFromTheTopSkippingFullOnes()
    {
        // B + 1 entirely in use (leaf summary 0), B + 2 with its top page in use.
        Desc alloc = new() { [B] = [], [B + 1] = [(0, ChunkPages)], [B + 2] = [(ChunkPages - 1, 1)] };
        using PageAlloc p = PageAllocTestApi.Build(alloc);
        Scavenge(p, 513 * PageSize, 513, (B + 2, 0, 511), (B, 510, 2));
        Scavenge(p, long.MaxValue, 510, (B, 0, 510));
        CheckState(p, alloc, new Desc { [B] = [(0, ChunkPages)], [B + 2] = [(0, ChunkPages - 1)] });
    }

    [Fact]
    public void PageAlloc_Scavenge_DisjointGrownRanges()
    {
        // Two grown ranges: B and B + 5, a gap between them.
        Desc alloc = new() { [B] = [(0, 100)], [B + 5] = [(1, 511)] };
        using PageAlloc p = PageAllocTestApi.Build(alloc);
        Scavenge(p, 3 * PageSize, 3, (B + 5, 0, 1), (B, 510, 2));
        Scavenge(p, long.MaxValue, 410, (B, 100, 410));
        CheckState(p, alloc, new Desc { [B] = [(100, 412)], [B + 5] = [(0, 1)] });
    }

    [Fact]
    public void PageAlloc_Scavenge_ArgumentsAndDisposed()
    {
        PageAlloc p = PageAllocTestApi.Build(new Desc { [B] = [] });
        Assert.Throws<ArgumentNullException>(() => p.Scavenge(1, null!));
        p.Dispose();
        Assert.Throws<ObjectDisposedException>(() => p.Scavenge(1, (_, _) => { }));
    }
}
