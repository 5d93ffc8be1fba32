// The Optimized page allocator and page cache against small obviously right models.
// PageAlloc model: a map page -> (free, scavenged) over the grown chunks. Alloc is first fit by
// address over runs of grown, contiguous, free pages; allocToCache takes the 64-page aligned block
// of the lowest free page; scavenge releases the highest free unscavenged pages first. After every
// operation every grown page's in-use and scavenged bits must equal the model's, and the
// allocator's own summary check (INV-PAGE-3) must pass. Only the internal API the heap uses is
// touched (Grow, Alloc, Free, AllocRange, AllocToCache, Scavenge, IsAllocated, IsScavenged,
// CheckSummaries), which the radix-tree PageAlloc keeps: the property holds for the temporary
// stand-in and for the real one.
// PageCache model: a 64-entry bool array; alloc takes the lowest run of n free pages.
// The Reference's PageAlloc and PageCache are internal to GoAlloc.Reference, which this assembly
// cannot see (see tests/Properties/README.md); they are checked through the equivalence property.
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed class PageAllocProperties
{
    private const int ChunkPages = MallocConstants.PallocChunkPages;
    private const long PageSize = MallocConstants.PageSize;

    /// <summary>The first test chunk: 0xc000000000, where Go's linux/amd64 heap starts.</summary>
    private const long BaseChunk = 0xc000000000L / MallocConstants.PallocChunkBytes;

    // ---------------------------------------------------------------- operations

    public abstract record PageOp;
    /// <summary>Grow chunks [Chunk, Chunk + Count) of the test range (skipped if any is grown).</summary>
    public sealed record GrowOp(int Chunk, int Count) : PageOp;
    public sealed record AllocOp(int NPages) : PageOp;
    /// <summary>Free the Index-th live allocation (modulo their number).</summary>
    public sealed record FreeOp(int Index) : PageOp;
    /// <summary>AllocRange over up to NPages free pages from the Index-th free page on.</summary>
    public sealed record AllocRangeOp(int Index, int NPages) : PageOp;
    /// <summary>allocToCache, then NAllocs allocations of Pages pages from that cache.</summary>
    public sealed record CacheOp(int NAllocs, int Pages) : PageOp;
    public sealed record ScavengeOp(long Bytes) : PageOp;

    private static readonly Gen<int> s_npages = Gen.Frequency(
        (6, Gen.Constant(1)),
        (6, Gen.Choose(2, 16)),
        (3, Gen.Choose(17, 64)),
        (2, Gen.Choose(65, 512)),
        (1, Gen.Choose(513, 1600)));

    public static Gen<PageOp> OpGen { get; } = Gen.Frequency<PageOp>(
        (2, from c in Gen.Choose(0, 23) from n in Gen.Frequency((4, Gen.Constant(1)), (1, Gen.Choose(2, 4))) select (PageOp)new GrowOp(c, n)),
        (8, s_npages.Select(n => (PageOp)new AllocOp(n))),
        (6, Gen.Choose(0, 1 << 20).Select(i => (PageOp)new FreeOp(i))),
        (1, from i in Gen.Choose(0, 1 << 20) from n in s_npages select (PageOp)new AllocRangeOp(i, n)),
        (2, from k in Gen.Choose(0, 8) from n in Gen.Frequency((3, Gen.Constant(1)), (2, Gen.Choose(2, 15)), (1, Gen.Choose(16, 65))) select (PageOp)new CacheOp(k, n)),
        (2, Gen.Frequency(
                (1, Gen.Elements(0L, 1L, PageSize, 64 * PageSize, long.MaxValue)),
                (2, Gen.Choose(1, 3000).Select(p => p * PageSize - 100)))
            .Select(b => (PageOp)new ScavengeOp(b))));

    /// <summary>Every sequence starts by growing a chunk, so allocations have somewhere to go.</summary>
    public static Arbitrary<PageOp[]> Ops { get; } = Arb.From(
        OpGen.ArrayOf().Select(ops => (PageOp[])[new GrowOp(0, 1), .. ops]),
        ops => Enumerable.Range(1, Math.Max(0, ops.Length - 1)).Reverse().Select(i => ops.Where((_, j) => j != i).ToArray()));

    // ---------------------------------------------------------------- model

    private sealed class Model
    {
        public readonly SortedDictionary<long, (bool Free, bool Scav)> Pages = []; // page number -> state
        public readonly List<(long Page, int N)> Live = [];

        public bool Grown(long page) => Pages.ContainsKey(page);

        public void Grow(long firstPage, long n)
        {
            for (long p = firstPage; p < firstPage + n; p++)
                Pages[p] = (true, true);
        }

        /// <summary>Lowest page of a run of n grown free pages, or -1.</summary>
        public long FirstFit(int n)
        {
            long runStart = -1, runLen = 0, prev = long.MinValue;
            foreach ((long p, (bool free, _)) in Pages)
            {
                if (!free || p != prev + 1)
                    runLen = 0;
                prev = p;
                if (!free)
                    continue;
                if (runLen == 0)
                    runStart = p;
                if (++runLen == n)
                    return runStart;
            }
            return -1;
        }

        /// <summary>Marks [page, page+n) in use; returns how many were scavenged.</summary>
        public int Take(long page, int n)
        {
            int scav = 0;
            for (long p = page; p < page + n; p++)
            {
                if (Pages[p].Scav)
                    scav++;
                Pages[p] = (false, false);
            }
            return scav;
        }
    }

    private static nint Addr(long page) => (nint)(page * PageSize);

    private static long PageOf(nint addr) => addr / PageSize;

    // ---------------------------------------------------------------- property

    [Fact]
    public void PageAlloc_FirstFitMatchesFreeSetModel()
    {
        Property property = Prop.ForAll(Ops, ops =>
        {
            using var pa = new PageAlloc();
            var m = new Model();
            for (int i = 0; i < ops.Length; i++)
            {
                string? err = Apply(pa, m, ops[i]) ?? Compare(pa, m);
                if (err != null)
                    return false.Label($"step {i} {ops[i]}: {err}");
            }
            return true.ToProperty();
        });
        PropertyRunner.Check(nameof(PageAlloc_FirstFitMatchesFreeSetModel), 500, property);
    }

    private static string? Apply(PageAlloc pa, Model m, PageOp op)
    {
        switch (op)
        {
            case GrowOp g:
            {
                long first = (BaseChunk + g.Chunk) * ChunkPages, n = (long)g.Count * ChunkPages;
                for (long p = first; p < first + n; p += ChunkPages)
                {
                    if (m.Grown(p))
                        return null; // growing a chunk twice is an error by contract: not generated
                }
                pa.Grow(Addr(first), n * PageSize);
                m.Grow(first, n);
                return null;
            }
            case AllocOp a:
            {
                nint got = pa.Alloc(a.NPages, out int scav);
                long want = m.FirstFit(a.NPages);
                if (want < 0)
                    return got == 0 ? null : $"allocated 0x{got:x}, but the model has no run of {a.NPages} free pages";
                if (got != Addr(want))
                    return $"allocated {(got == 0 ? "nothing" : $"0x{got:x}")}, first fit is 0x{Addr(want):x}";
                int wantScav = m.Take(want, a.NPages);
                m.Live.Add((want, a.NPages));
                return scav == wantScav ? null : $"scav {scav}, model {wantScav}";
            }
            case FreeOp f:
            {
                if (m.Live.Count == 0)
                    return null;
                int k = f.Index % m.Live.Count;
                (long page, int n) = m.Live[k];
                m.Live.RemoveAt(k);
                pa.Free(Addr(page), n);
                for (long p = page; p < page + n; p++)
                    m.Pages[p] = (true, false); // freed pages stay unscavenged
                return null;
            }
            case AllocRangeOp r:
            {
                long[] free = m.Pages.Where(kv => kv.Value.Free).Select(kv => kv.Key).ToArray();
                if (free.Length == 0)
                    return null;
                long start = free[r.Index % free.Length];
                int n = 0;
                while (n < r.NPages && m.Pages.TryGetValue(start + n, out var st) && st.Free)
                    n++;
                int scav = pa.AllocRange(Addr(start), n);
                int wantScav = m.Take(start, n);
                m.Live.Add((start, n));
                return scav == wantScav ? null : $"allocRange(0x{Addr(start):x}, {n}): scav {scav}, model {wantScav}";
            }
            case CacheOp c:
                return ApplyCache(pa, m, c);
            case ScavengeOp s:
            {
                long want = s.Bytes / PageSize + (s.Bytes % PageSize != 0 ? 1 : 0);
                var released = new HashSet<long>();
                string? bad = null;
                long got = pa.Scavenge(s.Bytes, (b, n) =>
                {
                    for (long p = PageOf(b); p < PageOf(b) + n; p++)
                    {
                        if (!m.Pages.TryGetValue(p, out var st) || !st.Free || st.Scav || !released.Add(p))
                            bad ??= $"released page 0x{Addr(p):x}, which is not a free unscavenged page (or was released twice)";
                    }
                });
                if (bad != null)
                    return bad;
                // The model: the `want` highest free, unscavenged pages.
                long[] expect = m.Pages.Where(kv => kv.Value.Free && !kv.Value.Scav).Select(kv => kv.Key)
                    .OrderDescending().Take((int)Math.Min(want, int.MaxValue)).ToArray();
                foreach (long p in expect)
                    m.Pages[p] = (true, true);
                if (got != expect.Length || !released.SetEquals(expect))
                {
                    long[] extra = released.Except(expect).Order().Take(4).ToArray(), missing = expect.Except(released).Order().Take(4).ToArray();
                    return $"scavenged {got} pages, model {expect.Length} (the highest first); extra [{string.Join(", ", extra.Select(p => $"0x{Addr(p):x}"))}] missing [{string.Join(", ", missing.Select(p => $"0x{Addr(p):x}"))}]";
                }
                return null;
            }
            default:
                throw new ArgumentException(op.ToString());
        }
    }

    private static string? ApplyCache(PageAlloc pa, Model m, CacheOp c)
    {
        PageCache cache = pa.AllocToCache();
        long lowest = m.FirstFit(1);
        if (lowest < 0)
            return cache.Empty ? null : $"allocToCache returned base 0x{cache.Base:x} cache {cache.Cache:x16}, but no page is free";
        long block = lowest & ~(long)(MallocConstants.PageCachePages - 1);
        ulong wantCache = 0, wantScav = 0;
        for (int k = 0; k < MallocConstants.PageCachePages; k++)
        {
            (bool free, bool scav) = m.Pages[block + k];
            if (free)
                wantCache |= 1UL << k;
            if (free && scav)
                wantScav |= 1UL << k;
        }
        if (cache.Base != Addr(block) || cache.Cache != wantCache || cache.Scav != wantScav)
            return $"allocToCache: base 0x{cache.Base:x} cache {cache.Cache:x16} scav {cache.Scav:x16}, model base 0x{Addr(block):x} cache {wantCache:x16} scav {wantScav:x16}";
        m.Take(block, MallocConstants.PageCachePages); // the whole block is in use while cached
        // Spans carved from the cache become ordinary allocations (the heap frees them with Free).
        for (int i = 0; i < c.NAllocs; i++)
        {
            nint got = cache.Alloc(c.Pages, out int scav);
            int at = PageCacheModelAlloc(ref wantCache, ref wantScav, c.Pages, out int mscav);
            if (at < 0)
            {
                if (got != 0)
                    return $"cache alloc {i} of {c.Pages} pages: got 0x{got:x}, model has no run";
                continue;
            }
            if (got != Addr(block + at) || scav != mscav)
                return $"cache alloc {i} of {c.Pages} pages: got 0x{got:x} scav {scav}, model 0x{Addr(block + at):x} scav {mscav}";
            m.Live.Add((block + at, c.Pages));
        }
        return null;
    }

    /// <summary>The page-cache model: lowest run of n set bits in cache; clears them; -1 if none.</summary>
    private static int PageCacheModelAlloc(ref ulong cache, ref ulong scavBits, int n, out int scav)
    {
        scav = 0;
        for (int i = 0; n >= 1 && i + n <= 64; i++)
        {
            bool ok = true;
            for (int k = i; k < i + n && ok; k++)
                ok = (cache & (1UL << k)) != 0;
            if (!ok)
                continue;
            for (int k = i; k < i + n; k++)
            {
                if ((scavBits & (1UL << k)) != 0)
                    scav++;
                cache &= ~(1UL << k);
                scavBits &= ~(1UL << k);
            }
            return i;
        }
        return -1;
    }

    /// <summary>Every grown page's bits against the model, and the allocator's own consistency check.</summary>
    private static string? Compare(PageAlloc pa, Model m)
    {
        foreach ((long p, (bool free, bool scav)) in m.Pages)
        {
            nint a = Addr(p);
            bool alloc = pa.IsAllocated(a), sc = pa.IsScavenged(a);
            if (alloc == free || sc != scav)
                return $"page 0x{a:x}: in use {alloc} scavenged {sc}, model in use {!free} scavenged {scav}";
        }
        return pa.CheckSummaries() is { } bad ? $"INV-PAGE-3: {bad}" : null;
    }

    // ---------------------------------------------------------------- page cache

    public sealed record CacheCase(ulong Cache, ulong Scav, int[] Allocs)
    {
        public override string ToString() => $"cache {Cache:x16} scav {Scav:x16} allocs [{string.Join(", ", Allocs)}]";
    }

    private static readonly Gen<ulong> s_mask = Gen.Frequency(
        (2, from lo in Gen.Choose(int.MinValue, int.MaxValue) from hi in Gen.Choose(int.MinValue, int.MaxValue) select ((ulong)(uint)hi << 32) | (uint)lo),
        (1, Gen.Elements(0UL, ulong.MaxValue, 1UL, 1UL << 63, 0x00FF_FF00_0000_FFFFUL)),
        (2, from start in Gen.Choose(0, 63) from len in Gen.Choose(1, 64) select (len >= 64 ? ulong.MaxValue : (1UL << len) - 1) << start));

    public static Gen<CacheCase> CacheCaseGen { get; } =
        from cache in s_mask
        from scav in s_mask
        from allocs in Gen.Frequency((4, Gen.Choose(1, 16)), (1, Gen.Choose(17, 65))).ArrayOf()
        select new CacheCase(cache, scav & cache, allocs);

    [Fact]
    public void PageCache_AllocMatchesModel()
    {
        nint cacheBase = unchecked((nint)0xc000000000L);
        Property property = Prop.ForAll(CacheCaseGen.ToArbitrary(), cc =>
        {
            var cache = new PageCache { Base = cacheBase, Cache = cc.Cache, Scav = cc.Scav };
            ulong mc = cc.Cache, ms = cc.Scav;
            for (int i = 0; i < cc.Allocs.Length; i++)
            {
                int n = cc.Allocs[i];
                nint got = cache.Alloc(n, out int scav);
                int at = PageCacheModelAlloc(ref mc, ref ms, n, out int mscav);
                nint want = at < 0 ? 0 : cacheBase + at * (nint)PageSize;
                if (got != want || (at >= 0 && scav != mscav) || cache.Cache != mc || cache.Scav != ms || cache.Empty != (mc == 0))
                {
                    return false.Label($"alloc {i} ({n} pages): got 0x{got:x} scav {scav}, cache {cache.Cache:x16}/{cache.Scav:x16}; " +
                        $"model 0x{want:x} scav {mscav}, cache {mc:x16}/{ms:x16}");
                }
            }
            return true.Classify(BitOperations.PopCount(cc.Cache) > 32, "mostly free");
        });
        PropertyRunner.Check(nameof(PageCache_AllocMatchesModel), 1000, property);
    }
}
