// Helpers for the ported Go page allocator tests (the checkPallocBits / makePallocBits /
// checkPageAlloc / checkPallocSum helpers of Go's mpallocbits_test.go and mpagealloc_test.go).
// Bit ranges are (start, npages) tuples, Go's BitRange{I, N}.
using System.Text;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

internal static class PageAllocTestUtil
{
    public const int ChunkPages = MallocConstants.PallocChunkPages;
    public const long PageSize = MallocConstants.PageSize;
    public const long BaseChunkIdx = PageAllocTestApi.BaseChunkIdx;
    /// <summary>Chunks per L2 block of the chunk map: an absent block means all of them are absent.</summary>
    private const long L2Chunks = 1L << GoAlloc.Optimized.PageAlloc.PallocChunksL2Bits;

    public static nint PageBase(long ci, int page) => PageAllocTestApi.PageBase(ci, page);

    /// <summary>makePallocBits: the given ranges set, everything else clear.</summary>
    public static PallocBits MakePallocBits(params (int Start, int N)[] ranges)
    {
        PallocBits b = default;
        foreach ((int start, int n) in ranges)
            b.AllocRange(start, n);
        return b;
    }

    public static PallocBits Invert(PallocBits b)
    {
        for (int w = 0; w < PageBits.Words; w++)
            b[w] = ~b[w];
        return b;
    }

    /// <summary>The bit ranges where two 512-bit maps differ, as "start+len: got ... want ..." lines.</summary>
    public static string? Diff(Func<int, bool> got, Func<int, bool> want)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < ChunkPages)
        {
            if (got(i) == want(i))
            {
                i++;
                continue;
            }
            int start = i;
            while (i < ChunkPages && got(i) != want(i))
                i++;
            sb.Append($"@ bit {start}: got ");
            for (int k = start; k < i; k++)
                sb.Append(got(k) ? '1' : '0');
            sb.Append(", want ");
            for (int k = start; k < i; k++)
                sb.Append(want(k) ? '1' : '0');
            sb.Append("; ");
        }
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>checkPallocBits.</summary>
    public static void CheckPallocBits(PallocBits got, PallocBits want, string what = "bits")
    {
        string? d = Diff(got.Get, want.Get);
        Assert.True(d == null, $"{what} differ: {d}");
    }

    /// <summary>checkPallocSum.</summary>
    public static void CheckPallocSum(PallocSum got, PallocSum want)
    {
        Assert.True(got == want, $"summary: got {got}, want {want}");
    }

    /// <summary>
    /// checkPageAlloc: same bounds, and for every chunk index in them the same in-use and scavenged
    /// bitmaps (chunks without an L2 block in both are skipped). Also validates got's summaries.
    /// </summary>
    public static void CheckPageAlloc(PageAlloc want, PageAlloc got)
    {
        (long wantStart, long wantEnd) = PageAllocTestApi.Bounds(want);
        (long gotStart, long gotEnd) = PageAllocTestApi.Bounds(got);
        Assert.True(gotStart == wantStart, $"start values not equal: got {gotStart}, want {wantStart}");
        Assert.True(gotEnd == wantEnd, $"end values not equal: got {gotEnd}, want {wantEnd}");
        for (long ci = gotStart; ci < gotEnd; ci++)
        {
            PallocBits? gb = PageAllocTestApi.AllocBits(got, ci), wb = PageAllocTestApi.AllocBits(want, ci);
            if (gb == null && wb == null)
            {
                // No L2 block in either: none of its chunks has one; go on at the next block
                // (Go's loop visits them one by one; the far-apart cases span ~2M chunk indices).
                ci = (ci | (L2Chunks - 1));
                continue;
            }
            Assert.True(gb != null && wb != null, $"chunk {ci} nilness mismatch");
            CheckPallocBits(gb!.Value, wb!.Value, $"chunk {ci} in-use bits");
            PageBits gs = PageAllocTestApi.ScavengedBits(got, ci)!.Value, ws = PageAllocTestApi.ScavengedBits(want, ci)!.Value;
            string? d = Diff(gs.Get, ws.Get);
            Assert.True(d == null, $"chunk {ci} scavenged bits differ: {d}");
        }
        Assert.Null(got.CheckSummaries());
    }

    /// <summary>A description where every listed chunk has no ranges (Go's map[ChunkIdx][]BitRange{c: {}}).</summary>
    public static Dictionary<long, (int, int)[]> Chunks(params long[] chunks) => chunks.ToDictionary(c => c, _ => Array.Empty<(int, int)>());
}
