// Boundary cases of Go 1.16's runtime/mpallocbits.go not pinned by the ported tables
// (PallocBitsTests): find / find1 / findSmallN / findLargeN with both results (the index and the
// first free page seen), runs ending exactly at page 511, runs straddling word boundaries, searches
// starting at the word of the hint, the pageBits range operations across words, and pallocData
// keeping the scavenged bits in step.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;

namespace GoAlloc.Tests.Optimized.PageAlloc;

public class PallocBitsBoundaryTests
{
    private const int NotFound = PallocBits.NotFound;

    /// <summary>A bitmap where exactly the given ranges are free.</summary>
    private static PallocBits FreeAt(params (int Start, int N)[] free) => Invert(MakePallocBits(free));

    private static void CheckFind(PallocBits b, int npages, int searchIdx, int wantIndex, int wantSearchIdx)
    {
        (int index, int newSearch) = b.Find(npages, searchIdx);
        Assert.True(index == wantIndex && newSearch == wantSearchIdx,
            $"find({npages}, {searchIdx}) = ({index}, {newSearch}), want ({wantIndex}, {wantSearchIdx})");
    }

    // ---------------------------------------------------------------- find1

    [Fact]
    public void PallocBits_Find1_StartsAtTheHintsWord()
    {
        PallocBits b = FreeAt((3, 1), (100, 1), (511, 1));
        Assert.Equal(3, b.Find1(0));
        Assert.Equal(3, b.Find1(63));     // same word as page 3
        Assert.Equal(100, b.Find1(64));
        Assert.Equal(100, b.Find1(127));
        Assert.Equal(511, b.Find1(128));
        Assert.Equal(511, b.Find1(511));
        CheckFind(b, 1, 70, 100, 100);
        Assert.Equal(NotFound, FreeAt().Find1(0));
        Assert.Equal(NotFound, FreeAt((0, 1)).Find1(64));
        Assert.Equal(0, FreeAt((0, ChunkPages)).Find1(0));
        CheckFind(FreeAt(), 1, 0, NotFound, NotFound);
    }

    // ---------------------------------------------------------------- findSmallN

    [Fact]
    public void PallocBits_FindSmallN_ReportsFirstFreePageSeen()
    {
        // Page 10 alone, then a free word at 64: the run is at 64, the first free page is 10.
        PallocBits b = FreeAt((10, 1), (64, 64));
        CheckFind(b, 2, 0, 64, 10);
        CheckFind(b, 64, 0, 64, 10);
        CheckFind(b, 65, 0, NotFound, 10);
        CheckFind(b, 2, 64, 64, 64);
        // Nothing fits: the first free page is still reported.
        CheckFind(FreeAt((10, 1), (300, 3)), 4, 0, NotFound, 10);
        CheckFind(FreeAt((10, 1), (300, 3)), 3, 0, 300, 10);
        CheckFind(FreeAt(), 2, 0, NotFound, NotFound);
        CheckFind(FreeAt(), 64, 0, NotFound, NotFound);
    }

    [Fact]
    public void PallocBits_FindSmallN_RunStraddlingAWordBoundary()
    {
        // Free 61..65: three at the top of word 0, two at the bottom of word 1.
        PallocBits b = FreeAt((61, 5));
        CheckFind(b, 5, 0, 61, 61);
        CheckFind(b, 6, 0, NotFound, 61);
        CheckFind(b, 2, 0, 61, 61);
        // Exactly 64 straddling: top 32 of word 2 and bottom 32 of word 3.
        PallocBits h = FreeAt((160, 64));
        CheckFind(h, 64, 0, 160, 160);
        CheckFind(h, 33, 0, 160, 160);
        // A full word in between breaks the carried run: top 3 of word 0, word 1 full, bottom 2 of word 2.
        PallocBits g = FreeAt((61, 3), (128, 2));
        CheckFind(g, 5, 0, NotFound, 61);
        CheckFind(g, 3, 0, 61, 61);
        CheckFind(g, 2, 64, 128, 128);
        // A word with an inner run beats nothing lower: lowest wins, straddle before inner.
        PallocBits k = FreeAt((62, 4), (70, 10));
        CheckFind(k, 4, 0, 62, 62);
        CheckFind(k, 5, 0, 70, 62);
        CheckFind(k, 10, 0, 70, 62);
        CheckFind(k, 11, 0, NotFound, 62);
    }

    [Fact]
    public void PallocBits_FindSmallN_RunEndingAtChunkEnd()
    {
        PallocBits b = FreeAt((ChunkPages - 5, 5));
        CheckFind(b, 5, 0, ChunkPages - 5, ChunkPages - 5);
        CheckFind(b, 6, 0, NotFound, ChunkPages - 5);
        CheckFind(b, 5, ChunkPages - 1, ChunkPages - 5, ChunkPages - 5);
        PallocBits w = FreeAt((ChunkPages - 64, 64));
        CheckFind(w, 64, 0, ChunkPages - 64, ChunkPages - 64);
        CheckFind(w, 63, 0, ChunkPages - 64, ChunkPages - 64);
        // The top 63 of the last word plus nothing: 64 does not fit.
        CheckFind(FreeAt((ChunkPages - 63, 63)), 64, 0, NotFound, ChunkPages - 63);
    }

    [Fact]
    public void PallocBits_FindSmallN_AllFree()
    {
        PallocBits b = FreeAt((0, ChunkPages));
        CheckFind(b, 2, 0, 0, 0);
        CheckFind(b, 64, 0, 0, 0);
        CheckFind(b, 64, 200, 192, 192);
    }

    // ---------------------------------------------------------------- findLargeN

    [Fact]
    public void PallocBits_FindLargeN_RunEndingAtChunkEnd()
    {
        PallocBits b = FreeAt((ChunkPages - 65, 65));
        CheckFind(b, 65, 0, ChunkPages - 65, ChunkPages - 65);
        CheckFind(b, 66, 0, NotFound, ChunkPages - 65);
        PallocBits whole = FreeAt((0, ChunkPages));
        CheckFind(whole, ChunkPages, 0, 0, 0);
        CheckFind(whole, 65, 0, 0, 0);
        CheckFind(whole, 65, 130, 128, 128);
        CheckFind(FreeAt((1, ChunkPages - 1)), ChunkPages, 0, NotFound, 1);
        CheckFind(FreeAt((1, ChunkPages - 1)), ChunkPages - 1, 0, 1, 1);
    }

    [Fact]
    public void PallocBits_FindLargeN_WholeWordsAndSeams()
    {
        // Words 1 and 2 free, plus page 5: exactly 128 fits at 64; 129 does not.
        PallocBits b = FreeAt((5, 1), (64, 128));
        CheckFind(b, 128, 0, 64, 5);
        CheckFind(b, 129, 0, NotFound, 5);
        CheckFind(b, 100, 64, 64, 64);
        // A full word resets the run: top 40 of word 0, word 1 full, word 2 free, bottom 10 of word 3.
        PallocBits r = FreeAt((24, 40), (128, 74));
        CheckFind(r, 74, 0, 128, 24);
        CheckFind(r, 75, 0, NotFound, 24);
        CheckFind(r, 70, 0, 128, 24);
        // A run ending inside a word restarts from that word's free top:
        // free 54..73 (20 pages), then 100..191 (92 pages) and 192..199.
        PallocBits s = FreeAt((54, 20), (100, 100));
        CheckFind(s, 100, 0, 100, 54);
        CheckFind(s, 101, 0, NotFound, 54);
        CheckFind(s, 65, 0, 100, 54);
        // A run that starts at a word's free top bits and spans the next word exactly.
        PallocBits t = FreeAt((60, 68));
        CheckFind(t, 68, 0, 60, 60);
        CheckFind(t, 69, 0, NotFound, 60);
        // The first free word starts a run from its top (all 64 pages).
        PallocBits u = FreeAt((64, 65));
        CheckFind(u, 65, 0, 64, 64);
        CheckFind(u, 66, 0, NotFound, 64);
    }

    // ---------------------------------------------------------------- summarize

    [Fact]
    public void PallocBits_Summarize_RunsInsideOneWord()
    {
        // The longest run lies strictly inside a word (62 long: bits 1..62 of word 3).
        PallocBits b = FreeAt((193, 62));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(0, 62, 0));
        b = FreeAt((193, 61));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(0, 61, 0));
        // Several inner runs, the longest in a later word.
        b = FreeAt((1, 5), (65, 3), (130, 40), (200, 39));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(0, 40, 0));
        // An inner run shorter than a seam run.
        b = FreeAt((60, 8), (130, 5));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(0, 8, 0));
        // An inner run longer than start and end.
        b = FreeAt((0, 3), (70, 9), (ChunkPages - 2, 2));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(3, 9, 2));
        // Start and end only.
        b = FreeAt((0, 1), (ChunkPages - 1, 1));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(1, 1, 1));
        // End longest (full last word).
        b = FreeAt((ChunkPages - 64, 64));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(0, 64, 64));
        // Start covering several words.
        b = FreeAt((0, 200));
        CheckPallocSum(b.Summarize(), PallocSum.Pack(200, 200, 0));
        // Whole free but one page at the end, one at the start.
        CheckPallocSum(FreeAt((0, ChunkPages - 1)).Summarize(), PallocSum.Pack(ChunkPages - 1, ChunkPages - 1, 0));
        CheckPallocSum(FreeAt((1, ChunkPages - 1)).Summarize(), PallocSum.Pack(0, ChunkPages - 1, ChunkPages - 1));
        CheckPallocSum(FreeAt((0, ChunkPages)).Summarize(), PallocSum.FreeChunk);
    }

    [Fact]
    public void PallocBits_SummarizeSlow_Boundaries()
    {
        CheckPallocSum(FreeAt().SummarizeSlow(), PallocSum.Pack(0, 0, 0));
        CheckPallocSum(FreeAt((0, ChunkPages)).SummarizeSlow(), PallocSum.FreeChunk);
        CheckPallocSum(FreeAt((0, 1), (5, 7), (ChunkPages - 1, 1)).SummarizeSlow(), PallocSum.Pack(1, 7, 1));
    }

    // ---------------------------------------------------------------- pageBits

    [Fact]
    public void PageBits_SetAndClearRange_AcrossWords()
    {
        PageBits p = default;
        p.SetRange(60, 70); // 60..129: top 4 of word 0, word 1, bottom 2 of word 2
        Assert.Equal(0xfUL << 60, p[0]);
        Assert.Equal(~0UL, p[1]);
        Assert.Equal(0x3UL, p[2]);
        Assert.Equal(70, p.PopcntRange(0, ChunkPages));
        p.SetRange(0, 0);
        Assert.Equal(0UL, p[3]);
        p.SetRange(511, 1);
        Assert.Equal(1UL << 63, p[7]);
        p.ClearRange(62, 67); // 62..128: leaves 60, 61, 129
        Assert.Equal(0x3UL << 60, p[0]);
        Assert.Equal(0UL, p[1]);
        Assert.Equal(0x2UL, p[2]);
        p.ClearRange(0, 0);
        Assert.Equal(0x2UL, p[2]);
        p.ClearRange(61, 1);
        Assert.Equal(0x1UL << 60, p[0]);
        p.SetAll();
        for (int w = 0; w < PageBits.Words; w++)
            Assert.Equal(~0UL, p[w]);
        p.ClearRange(1, ChunkPages - 2);
        Assert.Equal(1UL, p[0]);
        for (int w = 1; w < PageBits.Words - 1; w++)
            Assert.Equal(0UL, p[w]);
        Assert.Equal(1UL << 63, p[7]);
        Assert.Equal(2, p.PopcntRange(0, ChunkPages));
        Assert.Equal(0, p.PopcntRange(5, 0));
        Assert.Equal(1, p.PopcntRange(0, 1));
        Assert.Equal(1, p.PopcntRange(511, 1));
        Assert.Equal(1, p.PopcntRange(400, 112));
        Assert.True(p.Get(0));
        Assert.False(p.Get(1));
        Assert.Equal(1UL << 63, p.Block64(511));
        Assert.Equal(1UL << 63, p.Block64(448));
        Assert.Equal(1UL, p.Block64(63));
        p.Set(64);
        Assert.Equal(1UL, p[1]);
        p.Clear(64);
        p.Clear(0);
        Assert.Equal(0UL, p[0]);
        p.ClearAll();
        Assert.Equal(0, p.PopcntRange(0, ChunkPages));
    }

    [Fact]
    public void PageBits_Masks()
    {
        Assert.Equal(1UL, PageBits.LowMask(1));
        Assert.Equal((1UL << 63) - 1, PageBits.LowMask(63));
        Assert.Equal(~0UL, PageBits.LowMask(64));
        Assert.Equal(0x6UL, PageBits.RangeMask(1, 2));
        Assert.Equal(1UL << 63, PageBits.RangeMask(63, 1));
        Assert.Equal(~0UL, PageBits.RangeMask(0, 64));
    }

    [Fact]
    public void PallocBits_FreeAllAllocAllPages64()
    {
        PallocBits b = default;
        b.AllocAll();
        for (int w = 0; w < PageBits.Words; w++)
            Assert.Equal(~0UL, b[w]);
        b.Free(64, 64);
        Assert.Equal(0UL, b.Pages64(64));
        Assert.Equal(0UL, b.Pages64(127));
        Assert.Equal(~0UL, b.Pages64(128));
        b.Free1(0);
        Assert.Equal(~1UL, b.Pages64(0));
        Assert.False(b.Get(0));
        Assert.True(b.Get(1));
        Assert.Equal(ChunkPages - 65, b.PopcntRange(0, ChunkPages));
        b.FreeAll();
        for (int w = 0; w < PageBits.Words; w++)
            Assert.Equal(0UL, b[w]);
    }

    [Fact]
    public void PallocData_AllocClearsScavenged()
    {
        PallocData d = default;
        d.Scavenged.SetAll();
        d.AllocRange(10, 100);
        Assert.Equal(100, d.Alloc.PopcntRange(0, ChunkPages));
        Assert.Equal(100, d.Alloc.PopcntRange(10, 100));
        Assert.Equal(ChunkPages - 100, d.Scavenged.PopcntRange(0, ChunkPages));
        Assert.Equal(0, d.Scavenged.PopcntRange(10, 100));
        Assert.True(d.Scavenged.Get(9));
        Assert.True(d.Scavenged.Get(110));
        d.AllocAll();
        Assert.Equal(ChunkPages, d.Alloc.PopcntRange(0, ChunkPages));
        Assert.Equal(0, d.Scavenged.PopcntRange(0, ChunkPages));
    }

    // ---------------------------------------------------------------- findBitRange64

    [Fact]
    public void FindBitRange64_Boundaries()
    {
        Assert.Equal(0, PallocBits.FindBitRange64(0, 0));
        Assert.Equal(0, PallocBits.FindBitRange64(0, -1));
        Assert.Equal(64, PallocBits.FindBitRange64(~0UL, 65));
        Assert.Equal(0, PallocBits.FindBitRange64(~0UL, 64));
        Assert.True(PallocBits.FindBitRange64(~0UL >> 1, 64) >= 64);
        Assert.Equal(1, PallocBits.FindBitRange64(~0UL << 1, 63));
        Assert.Equal(5, PallocBits.FindBitRange64(0xe0UL | (0x7fUL << 20), 3));
        Assert.Equal(20, PallocBits.FindBitRange64(0xe0UL | (0x7fUL << 20), 4));
        Assert.Equal(20, PallocBits.FindBitRange64(0xe0UL | (0x7fUL << 20), 7));
        Assert.True(PallocBits.FindBitRange64(0xe0UL | (0x7fUL << 20), 8) >= 64);
        Assert.Equal(64, PallocBits.FindBitRange64(0, 1));
        Assert.Equal(63, PallocBits.FindBitRange64(1UL << 63, 1));
    }
}
