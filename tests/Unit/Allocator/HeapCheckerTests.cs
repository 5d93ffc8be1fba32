// HeapChecker on hand-built snapshots: a small consistent heap (a cached tiny span, a large span in
// its full swept set, two Ps) passes, and each corruption of one field is named by exactly the INV
// id its check reports. Cheap (no heap is built), so every check of the checker is reached here.
using System.Globalization;
using Xunit;
using static GoAlloc.HeapSnapshot;

namespace GoAlloc.Tests.Allocator;

public sealed class HeapCheckerTests
{
    private const uint Sg = 10;
    private static readonly nint A = 0x4000_0000; // the arena (64 MiB-aligned)
    private static readonly nint Pg = (nint)MallocConstants.PageSize;
    private static readonly int Tiny = MallocConstants.TinySpanClass; // size class 2: 16 B, 512 per page

    /// <summary>
    /// Span 0: a one-page tiny-class span cached by P0, object 0 allocated (freeindex 1), P0's tiny
    /// block. Span 1: a one-page large span at page 1, in mcentral[0].fullSwept. Span 2: an unmapped
    /// copy of span 1 (a dead record no page maps to). Pages 0-1 allocated; zeroedBase at page 2.
    /// </summary>
    private static HeapSnapshot Consistent()
    {
        int[] pages = new int[MallocConstants.PagesPerArena];
        Array.Fill(pages, -1);
        pages[0] = 0;
        pages[1] = 1;
        bool[] alloc = new bool[MallocConstants.PallocChunkPages];
        alloc[0] = alloc[1] = true;
        int[] slots0 = new int[MallocConstants.NumSpanClasses], slots1 = new int[MallocConstants.NumSpanClasses];
        Array.Fill(slots0, -1);
        Array.Fill(slots1, -1);
        slots0[Tiny] = 0;
        var bySize = new SizeClassStats[SizeClasses.NumSizeClasses];
        bySize[2] = new SizeClassStats(16, 1, 0);
        Span large = new(A + Pg, 1, 0, Pg, 1, A + Pg + 100, 1, 1, Sg, State.InUse) { AllocBits = new bool[1024], MarkBits = new bool[1024] };
        return new HeapSnapshot
        {
            SweepGen = Sg,
            SweepDone = true,
            SweepCursor = NumSweepClasses,
            Arenas = [new Arena(A, true, 2 * Pg, pages, new bool[MallocConstants.PagesPerArena])],
            Spans =
            [
                new Span(A, 1, Tiny, 16, 512, A + Pg, 1, 1, Sg + 3, State.InUse) { Mapped = true, AllocBits = new bool[1024], MarkBits = new bool[1024] },
                large with { Mapped = true },
                large with { AllocBits = [], MarkBits = [] },
            ],
            Chunks = [new Chunk(A, alloc, new bool[MallocConstants.PallocChunkPages])],
            Ps = [new Cache(0, Sg, slots0, A, 8, 0, 0, 0), new Cache(1, Sg, slots1, 0, 0, 0, 0, 0)],
            Sets = [new SpanSet(0, Full: false, Swept: false, []), new SpanSet(0, Full: true, Swept: true, [1])],
            HeapSys = MallocConstants.HeapArenaBytes,
            ArenaCount = 1,
            HeapInuse = 2 * Pg,
            Stats = new HeapStats { HeapAlloc = 16 + Pg, BySize = bySize, LargeAllocs = 1 },
        };
    }

    private static void AssertBroken(string id, Action check)
    {
        var e = Assert.Throws<HeapInvariantException>(check);
        Assert.Equal(id, e.InvariantId);
    }

    [Fact]
    public void Check_AcceptsAConsistentSnapshot()
    {
        HeapChecker.Check(Consistent());
        HeapChecker.CheckSweepDone(Consistent());
    }

    private static Arena EmptyArena(nint @base, long zeroedBase)
    {
        int[] pages = new int[MallocConstants.PagesPerArena];
        Array.Fill(pages, -1);
        return new Arena(@base, true, zeroedBase, pages, new bool[MallocConstants.PagesPerArena]);
    }

    /// <summary>One legal edit of the consistent snapshot, at the boundary of the rule it touches.</summary>
    private static HeapSnapshot Legal(HeapSnapshot s, string edit)
    {
        Span[] sp = s.Spans;
        Cache[] ps = s.Ps;
        switch (edit)
        {
            case "marks while marking": sp[0].MarkBits[0] = true; return s with { Marking = true };
            case "marks on a stale cached span":
                sp[0].MarkBits[0] = true;
                sp[0] = sp[0] with { SweepGen = Sg + 1 };
                ps[0] = ps[0] with { FlushGen = Sg - 2 };
                return s with { SweepDone = false };
            case "a full tiny block": ps[0] = ps[0] with { TinyOffset = SizeClasses.MaxTinySize }; break;
            case "a large limit at the span end": sp[1] = sp[1] with { Limit = A + 2 * Pg }; break;
            case "the class's division magic": sp[0] = sp[0] with { Div = SizeClasses.ClassToDivMagic[2] }; break;
            case "stale unswept entries":
                // A dead record, a swept span and a cached span, in the unswept set at the cursor.
                s.Sets[0] = s.Sets[0] with { Members = [2, 1, 0] };
                return s with { SweepCursor = 1, SweepDone = false };
            case "adjacent arenas":
                return s with { Arenas = [s.Arenas[0], EmptyArena(A + (nint)MallocConstants.HeapArenaBytes, 0)], HeapSys = 2 * MallocConstants.HeapArenaBytes, ArenaCount = 2 };
            case "zeroedBase at the arena end": s.Arenas[0] = s.Arenas[0] with { ZeroedBase = MallocConstants.HeapArenaBytes }; break;
            case "released pages":
                // A scavenged free page, a scavenged page-cache page and a page of ungrown arena.
                s.Chunks[0].Scavenged[100] = true;
                s.Chunks[0].Alloc[64] = s.Chunks[0].Alloc[65] = true;
                ps[1] = ps[1] with { PageCacheBase = A + 64 * Pg, PageCacheFree = 3, PageCacheScav = 2 };
                return s with { UngrownBytes = Pg, HeapReleased = 3 * Pg };
            case "sweepers counting an unflushed P":
                ps[1] = ps[1] with { FlushGen = Sg - 2 };
                return s with { Sweepers = 1, SweepDone = false };
            case "an overflow span waiting for the sweep":
                sp[1] = sp[1] with { SweepGen = Sg - 2, InOverflow = true };
                return s with { Sets = [], Overflow = [1], SweepDone = false, SweepCursor = 0 };
            case "an overflow span swept":
                sp[1] = sp[1] with { InOverflow = true };
                return s with { Sets = [], Overflow = [1] };
            case "a free large object":
                return s with { Stats = new HeapStats { HeapAlloc = s.Stats.HeapAlloc, BySize = s.Stats.BySize, LargeAllocs = 2, LargeFrees = 1 } };
            default: throw new ArgumentException(edit);
        }
        return s;
    }

    [Theory]
    [InlineData("marks while marking")]
    [InlineData("marks on a stale cached span")]
    [InlineData("a full tiny block")]
    [InlineData("a large limit at the span end")]
    [InlineData("the class's division magic")]
    [InlineData("stale unswept entries")]
    [InlineData("adjacent arenas")]
    [InlineData("zeroedBase at the arena end")]
    [InlineData("released pages")]
    [InlineData("sweepers counting an unflushed P")]
    [InlineData("an overflow span waiting for the sweep")]
    [InlineData("an overflow span swept")]
    [InlineData("a free large object")]
    public void Check_AcceptsALegalEdit(string edit) => HeapChecker.Check(Legal(Consistent(), edit));

    [Theory]
    [InlineData("misaligned arena", "INV-ARENA-1")]
    [InlineData("arena not indexed", "INV-ARENA-1")]
    [InlineData("overlapping arenas", "INV-ARENA-1")]
    [InlineData("heap_sys", "INV-ARENA-1")]
    [InlineData("arena count", "INV-ARENA-1")]
    [InlineData("page maps to a dead span", "INV-SPAN-1")]
    [InlineData("page maps to a span not containing it", "INV-SPAN-1")]
    [InlineData("page below the span maps to it", "INV-SPAN-1")]
    [InlineData("span page unmapped", "INV-SPAN-1")]
    [InlineData("sweepgen sg-1", "INV-SWEEP-1")]
    [InlineData("sweepgen sg+2", "INV-SWEEP-1")]
    [InlineData("page in two page caches", "INV-PAGE-1")]
    [InlineData("page in a span and a page cache", "INV-PAGE-1")]
    [InlineData("leaked page", "INV-PAGE-1")]
    [InlineData("span page free in the bitmap", "INV-PAGE-1")]
    [InlineData("page cache outside the chunks", "INV-PAGE-1")]
    [InlineData("scavenged allocated page", "INV-PAGE-2")]
    [InlineData("heap_released", "INV-PAGE-2")]
    [InlineData("scavenged page uncounted", "INV-PAGE-2")]
    [InlineData("cached page's scav bit uncounted", "INV-PAGE-2")]
    [InlineData("flushGen", "INV-CACHE-1")]
    [InlineData("slot of another class", "INV-CACHE-1")]
    [InlineData("slot holds a dead span", "INV-CACHE-1")]
    [InlineData("cached span swept", "INV-SWEEP-2")]
    [InlineData("stale P's span at sg+3", "INV-SWEEP-2")]
    [InlineData("cached by two Ps", "INV-SWEEP-2")]
    [InlineData("tinyoffset 17", "INV-CACHE-1")]
    [InlineData("tinyoffset -1", "INV-CACHE-1")]
    [InlineData("tiny block outside the heap", "INV-CACHE-1")]
    [InlineData("tiny block in another class", "INV-CACHE-1")]
    [InlineData("tiny block misaligned", "INV-CACHE-1")]
    [InlineData("tiny block free", "INV-CACHE-1")]
    [InlineData("dead record in a swept set", "INV-SWEEP-2")]
    [InlineData("unmapped in-use record in a swept set", "INV-SWEEP-2")]
    [InlineData("stale unswept entry at sg+1", "INV-SWEEP-2")]
    [InlineData("set of another class", "INV-SWEEP-2")]
    [InlineData("swept set entry at sg+3", "INV-SWEEP-2")]
    [InlineData("unswept entry in a swept set", "INV-SWEEP-2")]
    [InlineData("full span in a partial set", "INV-SWEEP-2")]
    [InlineData("twice in a set", "INV-SWEEP-2")]
    [InlineData("lost span", "INV-SWEEP-2")]
    [InlineData("overflow entry not flagged", "INV-SWEEP-2")]
    [InlineData("overflow entry dead", "INV-SWEEP-2")]
    [InlineData("overflow entry unswept after sweep done", "INV-SWEEP-2")]
    [InlineData("overflow entry also in a set", "INV-SWEEP-2")]
    [InlineData("unswept span after sweep done", "INV-SWEEP-3")]
    [InlineData("stale cached span after sweep done", "INV-SWEEP-3")]
    [InlineData("small npages", "INV-SPAN-2")]
    [InlineData("small elemsize", "INV-SPAN-2")]
    [InlineData("small nelems", "INV-SPAN-2")]
    [InlineData("small limit", "INV-SPAN-2")]
    [InlineData("division magic", "INV-SPAN-2")]
    [InlineData("large nelems", "INV-SPAN-2")]
    [InlineData("large elemsize", "INV-SPAN-2")]
    [InlineData("large limit at start", "INV-SPAN-2")]
    [InlineData("large limit past end", "INV-SPAN-2")]
    [InlineData("freeindex past nelems", "INV-SPAN-4")]
    [InlineData("negative freeindex", "INV-SPAN-4")]
    [InlineData("alloc bit beyond nelems", "INV-SPAN-4")]
    [InlineData("mark bit beyond nelems", "INV-SPAN-4")]
    [InlineData("mark on a free object", "INV-SPAN-4")]
    [InlineData("allocCount", "INV-SPAN-3")]
    [InlineData("empty uncached swept span", "INV-SPAN-3")]
    [InlineData("marks outside the mark phase", "INV-MARK-1")]
    [InlineData("sweeper count", "INV-SWEEP-4")]
    [InlineData("sweep cursor negative", "INV-SWEEP-4")]
    [InlineData("sweep cursor past the end", "INV-SWEEP-4")]
    [InlineData("drained with an unswept entry", "INV-SWEEP-4")]
    [InlineData("unswept entry below the cursor", "INV-SWEEP-4")]
    [InlineData("heap_inuse", "INV-STATS-2")]
    [InlineData("heap_alloc", "INV-STATS-1")]
    [InlineData("by_size", "INV-STATS-3")]
    [InlineData("large count", "INV-STATS-3")]
    [InlineData("zeroedBase negative", "INV-ZERO-1")]
    [InlineData("zeroedBase past the arena", "INV-ZERO-1")]
    [InlineData("zeroedBase unaligned", "INV-ZERO-1")]
    [InlineData("span past zeroedBase", "INV-ZERO-1")]
    [InlineData("dirty page past zeroedBase", "INV-ZERO-1")]
    public void Check_NamesTheBrokenInvariant(string corruption, string id)
    {
        HeapSnapshot s = Corrupt(Consistent(), corruption);
        AssertBroken(id, () => HeapChecker.Check(s));
    }

    private static HeapSnapshot Corrupt(HeapSnapshot s, string corruption)
    {
        Span[] sp = s.Spans;
        Arena a = s.Arenas[0];
        Cache[] ps = s.Ps;
        switch (corruption)
        {
            case "misaligned arena": return s with { Arenas = [a with { Base = A + Pg }] };
            case "arena not indexed": return s with { Arenas = [a with { Indexed = false }] };
            case "overlapping arenas": return s with { Arenas = [a, a], HeapSys = 2 * MallocConstants.HeapArenaBytes, ArenaCount = 2 };
            case "heap_sys": return s with { HeapSys = 2 * MallocConstants.HeapArenaBytes };
            case "arena count": return s with { ArenaCount = 2 };
            case "page maps to a dead span": sp[1] = sp[1] with { State = State.Dead }; break;
            case "page maps to a span not containing it": a.PageSpans[2] = 1; break;
            case "page below the span maps to it": a.PageSpans[0] = 1; break;
            case "span page unmapped": a.PageSpans[1] = -1; break;
            case "sweepgen sg-1": sp[1] = sp[1] with { SweepGen = Sg - 1 }; break;
            case "sweepgen sg+2": sp[1] = sp[1] with { SweepGen = Sg + 2 }; break;
            case "page in two page caches":
                ps[0] = ps[0] with { PageCacheBase = A + 64 * Pg, PageCacheFree = 1 };
                ps[1] = ps[1] with { PageCacheBase = A + 64 * Pg, PageCacheFree = 1 };
                s.Chunks[0].Alloc[64] = true;
                break;
            case "page in a span and a page cache": ps[1] = ps[1] with { PageCacheBase = A, PageCacheFree = 2 }; break;
            case "leaked page": s.Chunks[0].Alloc[5] = true; break;
            case "span page free in the bitmap": s.Chunks[0].Alloc[1] = false; break;
            case "page cache outside the chunks": ps[1] = ps[1] with { PageCacheBase = A + 512 * Pg, PageCacheFree = 1 }; break;
            case "scavenged allocated page": s.Chunks[0].Scavenged[1] = true; break;
            case "heap_released": return s with { HeapReleased = Pg };
            case "scavenged page uncounted": s.Chunks[0].Scavenged[5] = true; break;
            case "cached page's scav bit uncounted":
                ps[1] = ps[1] with { PageCacheBase = A + 64 * Pg, PageCacheFree = 1, PageCacheScav = 1 };
                s.Chunks[0].Alloc[64] = true;
                break;
            case "flushGen": ps[1] = ps[1] with { FlushGen = Sg - 1 }; break;
            case "slot of another class": ps[1].Slots[Tiny + 2] = 1; break;
            case "slot holds a dead span": ps[1].Slots[0] = 2; sp[2] = sp[2] with { State = State.Dead, SweepGen = Sg + 3 }; break;
            case "cached span swept": sp[0] = sp[0] with { SweepGen = Sg }; break;
            case "stale P's span at sg+3": ps[0] = ps[0] with { FlushGen = Sg - 2 }; break;
            case "cached by two Ps": ps[1].Slots[Tiny] = 0; break;
            case "tinyoffset 17": ps[0] = ps[0] with { TinyOffset = 17 }; break;
            case "tinyoffset -1": ps[0] = ps[0] with { TinyOffset = -1 }; break;
            case "tiny block outside the heap": ps[0] = ps[0] with { Tiny = A + 10 * Pg }; break;
            case "tiny block in another class": ps[0] = ps[0] with { Tiny = A + Pg }; break;
            case "tiny block misaligned": ps[0] = ps[0] with { Tiny = A + 8 }; break;
            case "tiny block free": ps[0] = ps[0] with { Tiny = A + 16 }; break;
            case "dead record in a swept set": sp[2] = sp[2] with { State = State.Dead }; s.Sets[1].Members[0] = 2; break;
            case "unmapped in-use record in a swept set": s.Sets[1].Members[0] = 2; break;
            case "stale unswept entry at sg+1": sp[1] = sp[1] with { SweepGen = Sg + 1 }; s.Sets[0] = s.Sets[0] with { Members = [1] }; break;
            case "set of another class": s.Sets[1] = s.Sets[1] with { SpanClass = 1 }; break;
            case "swept set entry at sg+3": sp[1] = sp[1] with { SweepGen = Sg + 3 }; break;
            case "unswept entry in a swept set": sp[1] = sp[1] with { SweepGen = Sg - 2 }; return s with { SweepDone = false };
            case "full span in a partial set": s.Sets[1] = s.Sets[1] with { Full = false }; break;
            case "twice in a set": s.Sets[1] = s.Sets[1] with { Members = [1, 1] }; break;
            case "lost span": s.Sets[1] = s.Sets[1] with { Members = [] }; break;
            case "overflow entry not flagged": return s with { Sets = [], Overflow = [1] };
            case "overflow entry dead": sp[2] = sp[2] with { InOverflow = true }; return s with { Overflow = [2] };
            case "overflow entry unswept after sweep done":
                sp[1] = sp[1] with { SweepGen = Sg - 2, InOverflow = true };
                return s with { Sets = [], Overflow = [1] };
            case "overflow entry also in a set": sp[1] = sp[1] with { InOverflow = true }; return s with { Overflow = [1] };
            case "unswept span after sweep done":
                sp[1] = sp[1] with { SweepGen = Sg - 2 };
                return s with { Sets = [new SpanSet(0, Full: true, Swept: false, [1])] };
            case "stale cached span after sweep done":
                ps[0] = ps[0] with { FlushGen = Sg - 2 };
                sp[0] = sp[0] with { SweepGen = Sg + 1 };
                break;
            case "small npages":
                // Two pages, mapped and allocated, with the geometry of two pages: only npages is off.
                sp[0] = sp[0] with { NPages = 2, NElems = 1024, Limit = A + 2 * Pg };
                sp[1] = sp[1] with { Base = A + 2 * Pg, Limit = A + 2 * Pg + 100 };
                a.PageSpans[1] = 0;
                a.PageSpans[2] = 1;
                s.Chunks[0].Alloc[2] = true;
                break;
            case "small elemsize": sp[0] = sp[0] with { ElemSize = 32 }; break;
            case "small nelems": sp[0] = sp[0] with { NElems = 511 }; break;
            case "small limit": sp[0] = sp[0] with { Limit = A + Pg - 16 }; break;
            case "division magic": sp[0] = sp[0] with { Div = SizeClasses.ClassToDivMagic[3] }; break;
            case "large nelems": sp[1] = sp[1] with { NElems = 2, AllocCount = 2, FreeIndex = 2 }; break;
            case "large elemsize": sp[1] = sp[1] with { ElemSize = Pg - 8 }; break;
            case "large limit at start": sp[1] = sp[1] with { Limit = A + Pg }; break;
            case "large limit past end": sp[1] = sp[1] with { Limit = A + 2 * Pg + 1 }; break;
            case "freeindex past nelems": sp[0] = sp[0] with { FreeIndex = 513 }; break;
            case "negative freeindex": sp[1] = sp[1] with { FreeIndex = -1 }; break;
            case "alloc bit beyond nelems": sp[0].AllocBits[512] = true; break;
            case "mark bit beyond nelems": sp[0].MarkBits[512] = true; break;
            case "mark on a free object": sp[0].MarkBits[5] = true; break;
            case "allocCount": sp[0] = sp[0] with { AllocCount = 2 }; break;
            case "empty uncached swept span":
                sp[1] = sp[1] with { AllocCount = 0, FreeIndex = 0 };
                s.Sets[1] = s.Sets[1] with { Full = false };
                break;
            case "marks outside the mark phase": sp[0].MarkBits[0] = true; break;
            case "sweeper count": return s with { Sweepers = 1 };
            case "sweep cursor negative": return s with { SweepCursor = -1 };
            case "sweep cursor past the end": return s with { SweepCursor = NumSweepClasses + 1 };
            case "drained with an unswept entry": s.Sets[0] = s.Sets[0] with { Members = [1] }; break;
            case "unswept entry below the cursor": s.Sets[0] = s.Sets[0] with { Members = [1] }; return s with { SweepCursor = 2, SweepDone = false };
            case "heap_inuse": return s with { HeapInuse = Pg };
            case "heap_alloc": return s with { Stats = new HeapStats { HeapAlloc = 1, BySize = s.Stats.BySize, LargeAllocs = 1 } };
            case "by_size": return s with { Stats = Stats(s, 2) };
            case "large count": return s with { Stats = new HeapStats { HeapAlloc = s.Stats.HeapAlloc, BySize = s.Stats.BySize, LargeAllocs = 1, LargeFrees = 1 } };
            case "zeroedBase negative": s.Arenas[0] = a with { ZeroedBase = -Pg }; break;
            case "zeroedBase past the arena": s.Arenas[0] = a with { ZeroedBase = MallocConstants.HeapArenaBytes + Pg }; break;
            case "zeroedBase unaligned": s.Arenas[0] = a with { ZeroedBase = 2 * Pg + 8 }; break;
            case "span past zeroedBase": s.Arenas[0] = a with { ZeroedBase = Pg }; break;
            case "dirty page past zeroedBase": a.Dirty[^1] = true; break;
            default: throw new ArgumentException(corruption);
        }
        return s;
    }

    /// <summary>The consistent stats with n objects of the tiny class counted.</summary>
    private static HeapStats Stats(HeapSnapshot s, long n)
    {
        SizeClassStats[] bySize = [.. s.Stats.BySize];
        bySize[2] = new SizeClassStats(16, n, 0);
        return new HeapStats { HeapAlloc = s.Stats.HeapAlloc, BySize = bySize, LargeAllocs = 1 };
    }

    // CheckSpans reads the bitmaps a 64-bit word at a time; span 0 has 512 objects and 1024 bits
    // (16 words), object 0 allocated by freeindex. Whatever the word, the failure names the lowest
    // bad bit, and for one bit both beyond nelems and marked-but-free, the nelems check comes first.
    [Theory]
    [InlineData(300, 520, "object 300 of")]
    [InlineData(530, 515, "bit 515 beyond nelems")]
    [InlineData(513, -1, "bit 513 beyond nelems")]
    [InlineData(64, -1, "object 64 of")]
    [InlineData(-1, 1023, "bit 1023 beyond nelems")]
    public void INV_SPAN_4_CheckSpans_NamesTheLowestBadBitInAnyWord(int markBit, int allocBit, string detail)
    {
        HeapSnapshot s = Consistent();
        if (markBit >= 0)
            s.Spans[0].MarkBits[markBit] = true;
        if (allocBit >= 0)
            s.Spans[0].AllocBits[allocBit] = true;
        var e = Assert.Throws<HeapInvariantException>(() => HeapChecker.CheckSpans(s, HeapChecker.CheckCaches(s), HeapChecker.CheckSpanSets(s)));
        Assert.Equal("INV-SPAN-4", e.InvariantId);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }

    // allocated = the objects below nelems that freeindex or an alloc bit allocates, counted across
    // words: object 0 (freeindex), bits 0 (counted once), 63, 64 and 511.
    [Theory]
    [InlineData(4, true)]
    [InlineData(3, false)]
    [InlineData(5, false)]
    public void INV_SPAN_3_CheckSpans_CountsAllocatedObjectsAcrossWords(int allocCount, bool consistent)
    {
        HeapSnapshot s = Consistent();
        foreach (int b in new[] { 0, 63, 64, 511 })
            s.Spans[0].AllocBits[b] = true;
        s.Spans[0] = s.Spans[0] with { AllocCount = allocCount };
        void CheckSpans() => HeapChecker.CheckSpans(s, HeapChecker.CheckCaches(s), HeapChecker.CheckSpanSets(s));
        if (consistent)
        {
            CheckSpans();
            return;
        }
        var e = Assert.Throws<HeapInvariantException>(CheckSpans);
        Assert.Equal("INV-SPAN-3", e.InvariantId);
        Assert.Contains("4 objects allocated by the bitmap", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sweep cursor", "not done")]
    [InlineData("sweepers", "not done")]
    [InlineData("unflushed P", "P1 is not flushed")]
    [InlineData("sg-2", "has sweepgen")]
    [InlineData("sg-1", "has sweepgen")]
    [InlineData("sg+1", "has sweepgen")]
    public void CheckSweepDone_NamesWhatIsNotDone(string corruption, string detail)
    {
        HeapSnapshot s = Consistent();
        s = corruption switch
        {
            "sweep cursor" => s with { SweepCursor = NumSweepClasses - 1 },
            "sweepers" => s with { Sweepers = 1 },
            "unflushed P" => s with { Ps = [s.Ps[0], s.Ps[1] with { FlushGen = Sg - 2 }] },
            _ => s with { Spans = [s.Spans[0], s.Spans[1] with { SweepGen = (uint)(Sg + int.Parse(corruption[2..], CultureInfo.InvariantCulture)) }, s.Spans[2]] },
        };
        var e = Assert.Throws<HeapInvariantException>(() => HeapChecker.CheckSweepDone(s));
        Assert.Equal("INV-SWEEP-3", e.InvariantId);
        Assert.Contains(detail, e.Message, StringComparison.Ordinal);
    }
}
