// Equivalence of the Optimized page allocator with the Reference one (the oracle): the same random
// sequence of grow / alloc / allocRange / free / allocToCache (+ page-cache allocs and draining) /
// scavenge / bad free / bad grow, applied to both, must give the same addresses, scavenged counts,
// page caches, release calls, exceptions and, checked every few operations, the same per-page
// in-use and scavenged bits, while the Optimized summaries stay consistent (INV-PAGE-3).
// Chunks are grown at scattered slots around BaseChunkIdx, so runs meet both contiguous chunk
// boundaries and gaps. Addresses are only bookkeeping: no heap memory is ever touched.
using GoAlloc.Optimized;
using Xunit;
using static GoAlloc.Tests.Optimized.PageAlloc.PageAllocTestUtil;
using RefPageAlloc = GoAlloc.Reference.PageAlloc;
using RefPageCache = GoAlloc.Reference.PageCache;

namespace GoAlloc.Tests.Optimized.PageAlloc;

using PageAlloc = GoAlloc.Optimized.PageAlloc;

public class PageAllocEquivalenceTests
{
    // Chunk slots (offsets from BaseChunkIdx) that grows may claim; neighbours make contiguous runs.
    private static readonly long[] s_slots = [0, 1, 2, 3, 5, 6, 9, 16, 17, 18, 0x40, 0x41, 0x200, 0x1000, 0x1001, 0x8000];

    private sealed class Cache
    {
        public required RefPageCache Ref;
        public PageCache Opt;
    }

    private sealed class Run(RefPageAlloc r, PageAlloc o, Random rng)
    {
        private readonly List<(nint Base, int NPages)> _live = [];
        private readonly List<Cache> _caches = [];
        private readonly HashSet<long> _grown = [];
        public int Ops;

        // Coverage counters: the test asserts the interesting paths were taken.
        public int AllocsOk, AllocsFailed, CrossChunkAllocs, CachesTaken, PagesReleased, Throws;

        private void Fail(string what) => Assert.Fail($"op #{Ops}: {what}");

        public void Grow()
        {
            long[] free = [.. s_slots.Where(s => !_grown.Contains(BaseChunkIdx + s))];
            if (free.Length == 0)
                return;
            long ci = BaseChunkIdx + free[rng.Next(free.Length)];
            int n = 1;
            while (n < 3 && rng.Next(2) == 0 && !_grown.Contains(ci + n))
                n++;
            r.Grow(PageBase(ci, 0), n * MallocConstants.PallocChunkBytes);
            o.Grow(PageBase(ci, 0), n * MallocConstants.PallocChunkBytes);
            for (int k = 0; k < n; k++)
                _grown.Add(ci + k);
        }

        public void GrowTwice()
        {
            if (_grown.Count == 0)
                return;
            long ci = _grown.ElementAt(rng.Next(_grown.Count));
            // Starts on a grown chunk, so the Reference throws before changing anything.
            long size = (1 + rng.Next(2)) * MallocConstants.PallocChunkBytes;
            Assert.Throws<HeapInvariantException>(() => r.Grow(PageBase(ci, 0), size));
            Assert.Throws<HeapInvariantException>(() => o.Grow(PageBase(ci, 0), size));
        }

        private int RandomNPages() => rng.Next(20) switch
        {
            < 10 => rng.Next(1, 9),
            < 15 => rng.Next(9, 65),
            < 19 => rng.Next(65, 700),
            _ => rng.Next(700, 1700),
        };

        public void Alloc()
        {
            int npages = RandomNPages();
            nint a = r.Alloc(npages, out int rs);
            nint b = o.Alloc(npages, out int os);
            if (a != b || rs != os)
                Fail($"alloc({npages}): reference 0x{a:x} scav {rs}, optimized 0x{b:x} scav {os}");
            if (a != 0)
            {
                _live.Add((a, npages));
                AllocsOk++;
                if (RefPageAlloc.ChunkIndex(a) != RefPageAlloc.ChunkIndex(a + (nint)(npages * PageSize) - 1))
                    CrossChunkAllocs++;
            }
            else
            {
                AllocsFailed++;
            }
        }

        public void AllocRange()
        {
            // A run of free pages inside one chunk, found in the reference bitmap.
            if (r.Chunks.Count == 0)
                return;
            RefPageAlloc.Chunk c = r.Chunks[rng.Next(r.Chunks.Count)];
            int start = rng.Next(ChunkPages);
            int n = 0;
            int max = rng.Next(1, 40);
            while (start + n < ChunkPages && n < max && !c.Alloc[start + n])
                n++;
            if (n == 0)
                return;
            nint @base = c.Base + (nint)(start * PageSize);
            int rs = r.AllocRange(@base, n);
            int os = o.AllocRange(@base, n);
            if (rs != os)
                Fail($"allocRange(0x{@base:x}, {n}): reference scav {rs}, optimized {os}");
            _live.Add((@base, n));
        }

        public void Free()
        {
            if (_live.Count == 0)
                return;
            int i = rng.Next(_live.Count);
            (nint @base, int npages) = _live[i];
            _live.RemoveAt(i);
            if (npages > 1 && rng.Next(3) == 0)
            {
                // Free only a piece; the rest stays live.
                int k = rng.Next(npages);
                int m = rng.Next(1, npages - k + 1);
                if (k > 0)
                    _live.Add((@base, k));
                if (k + m < npages)
                    _live.Add((@base + (nint)((k + m) * PageSize), npages - k - m));
                @base += (nint)(k * PageSize);
                npages = m;
            }
            r.Free(@base, npages);
            o.Free(@base, npages);
        }

        public void FreeOfFreePage()
        {
            if (r.Chunks.Count == 0)
                return;
            RefPageAlloc.Chunk c = r.Chunks[rng.Next(r.Chunks.Count)];
            int i = rng.Next(ChunkPages);
            if (c.Alloc[i])
                return;
            nint page = c.Base + (nint)(i * PageSize);
            Assert.Throws<HeapInvariantException>(() => r.Free(page, 1));
            Assert.Throws<HeapInvariantException>(() => o.Free(page, 1));
            Throws++;
        }

        public void AllocToCache()
        {
            if (_caches.Count >= 3)
                return;
            RefPageCache rc = r.AllocToCache();
            PageCache oc = o.AllocToCache();
            CheckCache(rc, oc, "allocToCache");
            if (!rc.Empty)
            {
                _caches.Add(new Cache { Ref = rc, Opt = oc });
                CachesTaken++;
            }
        }

        private void CheckCache(RefPageCache rc, PageCache oc, string what)
        {
            ulong free = 0, scav = 0;
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                if (rc.Free[k])
                    free |= 1UL << k;
                if (rc.Scavenged[k])
                    scav |= 1UL << k;
            }
            bool same = rc.Empty ? oc.Empty : rc.Base == oc.Base && free == oc.Cache && scav == oc.Scav;
            if (!same)
                Fail($"{what}: reference (0x{rc.Base:x}, {free:x16}, {scav:x16}), optimized {oc}");
        }

        public void CacheAlloc()
        {
            if (_caches.Count == 0)
                return;
            Cache c = _caches[rng.Next(_caches.Count)];
            int npages = rng.Next(3) == 0 ? rng.Next(2, MallocConstants.PageCacheMaxSpanPages) : 1;
            nint a = c.Ref.Alloc(npages, out int rs);
            nint b = c.Opt.Alloc(npages, out int os);
            if (a != b || rs != os)
                Fail($"pageCache.alloc({npages}): reference 0x{a:x} scav {rs}, optimized 0x{b:x} scav {os}");
            CheckCache(c.Ref, c.Opt, "pageCache after alloc");
            if (a != 0)
                _live.Add((a, npages));
            if (c.Ref.Empty)
                _caches.Remove(c);
        }

        public void DrainCache()
        {
            // Return a cache's remaining pages with page frees on both sides (the Reference has no flush).
            if (_caches.Count == 0)
                return;
            Cache c = _caches[rng.Next(_caches.Count)];
            _caches.Remove(c);
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                if (!c.Ref.Free[k])
                    continue;
                nint page = c.Ref.Base + (nint)(k * PageSize);
                r.Free(page, 1);
                o.Free(page, 1);
            }
        }

        public void Scavenge()
        {
            long nbytes = rng.Next(10) switch
            {
                0 => long.MaxValue,
                1 => 0,
                < 6 => rng.Next(1, 64) * PageSize,
                _ => rng.NextInt64(1, 600 * PageSize),
            };
            var rr = new List<(nint, int)>();
            var or = new List<(nint, int)>();
            long rn = r.Scavenge(nbytes, (b, n) => rr.Add((b, n)));
            long on = o.Scavenge(nbytes, (b, n) => or.Add((b, n)));
            if (rn != on || !rr.SequenceEqual(or))
                Fail($"scavenge({nbytes}): reference {rn} pages [{string.Join(", ", rr)}], optimized {on} [{string.Join(", ", or)}]");
            PagesReleased += (int)rn;
        }

        public override string ToString() =>
            $"allocs ok {AllocsOk} failed {AllocsFailed} cross-chunk {CrossChunkAllocs}, caches {CachesTaken}, released {PagesReleased} pages, bad frees {Throws}, grown {_grown.Count} chunks";

        public void CompareState()
        {
            long[] refChunks = [.. r.Chunks.Select(c => c.Index)];
            Assert.Equal(refChunks, o.GrownChunks());
            foreach (RefPageAlloc.Chunk c in r.Chunks)
            {
                PallocBits alloc = PageAllocTestApi.AllocBits(o, c.Index)!.Value;
                PageBits scav = PageAllocTestApi.ScavengedBits(o, c.Index)!.Value;
                for (int i = 0; i < ChunkPages; i++)
                {
                    if (alloc.Get(i) != c.Alloc[i] || scav.Get(i) != c.Scavenged[i])
                        Fail($"chunk {c.Index} page {i}: reference alloc={c.Alloc[i]} scav={c.Scavenged[i]}, optimized alloc={alloc.Get(i)} scav={scav.Get(i)}");
                }
                Assert.True(o.Contains(c.Base) && o.Contains(c.Base + (nint)MallocConstants.PallocChunkBytes - 1));
            }
            string? bad = o.CheckSummaries();
            if (bad != null)
                Fail(bad);
        }
    }

    public static TheoryData<int> Seeds => [1, 2, 3, 4, 5, 6];

    [Theory, MemberData(nameof(Seeds))]
    public void PageAlloc_MatchesReference_RandomOperations(int seed)
    {
        var rng = new Random(seed);
        var r = new RefPageAlloc();
        using var o = new PageAlloc();
        var run = new Run(r, o, rng);
        run.Grow();
        const int Ops = 4000;
        for (run.Ops = 1; run.Ops <= Ops; run.Ops++)
        {
            int dice = rng.Next(100);
            if (dice < 4)
                run.Grow();
            else if (dice < 5)
                run.GrowTwice();
            else if (dice < 38)
                run.Alloc();
            else if (dice < 42)
                run.AllocRange();
            else if (dice < 68)
                run.Free();
            else if (dice < 70)
                run.FreeOfFreePage();
            else if (dice < 76)
                run.AllocToCache();
            else if (dice < 88)
                run.CacheAlloc();
            else if (dice < 91)
                run.DrainCache();
            else
                run.Scavenge();
            if (run.Ops % 50 == 0)
                run.CompareState();
        }
        run.CompareState();
        Assert.True(run.AllocsOk > 500 && run.AllocsFailed > 0 && run.CrossChunkAllocs > 0 && run.CachesTaken > 50
            && run.PagesReleased > 0 && run.Throws > 0, run.ToString());
    }

    /// <summary>Allocation-heavy: the heap fills up, fails, frees in bulk, and refills (searchAddr at MaxSearchAddr and back).</summary>
    [Theory, MemberData(nameof(Seeds))]
    public void PageAlloc_MatchesReference_FillAndDrain(int seed)
    {
        var rng = new Random(seed * 7919);
        var r = new RefPageAlloc();
        using var o = new PageAlloc();
        var run = new Run(r, o, rng);
        for (int i = 0; i < 4; i++)
            run.Grow();
        for (run.Ops = 1; run.Ops <= 3000; run.Ops++)
        {
            int phase = run.Ops / 500 % 2;
            int dice = rng.Next(100);
            if (phase == 0 ? dice < 70 : dice < 25)
                run.Alloc();
            else if (dice < 80)
                run.Free();
            else if (dice < 88)
                run.AllocToCache();
            else if (dice < 95)
                run.CacheAlloc();
            else
                run.Scavenge();
            if (run.Ops % 100 == 0)
                run.CompareState();
        }
        run.CompareState();
        Assert.True(run.AllocsOk > 500 && run.AllocsFailed > 50, run.ToString());
    }
}
