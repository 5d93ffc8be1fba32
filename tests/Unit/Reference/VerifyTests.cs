// Verify tests of what only the Reference keeps: its arena list, its page caches (bool arrays) and
// page bitmap, the sweep cursor (CheckSweepDone) and sweep done computed from it and the Ps' flushGen.
// Every check both heaps share is tested once, against both, in tests/Unit/Contract/VerifyContractTests.cs.
using System.Reflection;
using GoAlloc.Reference;
using Xunit;

namespace GoAlloc.Tests.Reference;

public unsafe class VerifyTests
{
    /// <summary>A heap with cached spans, swept-set spans, a large span, a tiny block and free pages.</summary>
    private static (MHeap Heap, List<nint> Objs) Populated()
    {
        var heap = new MHeap(new HeapOptions { Procs = 2 });
        IProcessor p = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 3000; i++)
            objs.Add(p.Alloc(16 + i % 300));
        objs.Add(p.Alloc(200_000));
        objs.Add(p.Alloc(3, noscan: true));
        p.Release();
        IProcessor q = heap.AcquireP(1);
        objs.Add(q.Alloc(64));
        q.Flush();
        q.Release();
        heap.Verify(); // the baseline is consistent
        return (heap, objs);
    }

    private static void AssertBroken(MHeap heap, string id)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.Verify);
        Assert.Equal(id, e.InvariantId);
        Assert.StartsWith(id + ":", e.Message);
    }

    /// <summary>Builds the populated heap, applies one corruption, and asserts Verify names the broken invariant.</summary>
    private static void AssertDetects(string id, Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertBroken(heap, id);
        }
    }

    /// <summary>Builds the populated heap, applies one legal edit, and asserts Verify still passes.</summary>
    private static void AssertAccepts(Action<MHeap, List<nint>> edit)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            edit(heap, objs);
            heap.Verify();
        }
    }

    private static MSpan SpanAt(MHeap heap, nint p) => heap.SpanOf(p)!;

    // ------------------------------------------------------------------ helpers for the per-check tests

    private static void AssertSweepDoneBroken(MHeap heap)
    {
        var e = Assert.Throws<HeapInvariantException>(heap.CheckSweepDone);
        Assert.Equal("INV-SWEEP-3", e.InvariantId);
    }

    /// <summary>Builds the populated heap, applies one corruption, and asserts CheckSweepDone reports INV-SWEEP-3.</summary>
    private static void AssertSweepDoneDetects(Action<MHeap, List<nint>> corrupt)
    {
        (MHeap heap, List<nint> objs) = Populated();
        using (heap)
        {
            corrupt(heap, objs);
            AssertSweepDoneBroken(heap);
        }
    }

    private static (PageAlloc.Chunk Chunk, int Index) ChunkPage(MHeap heap, nint page)
    {
        PageAlloc.Chunk c = heap.Pages.Chunks.First(c => page >= c.Base && page < c.Base + (nint)MallocConstants.PallocChunkBytes);
        return (c, (int)((page - c.Base) / MallocConstants.PageSize));
    }

    private static void SetSweepCursor(MHeap heap, int sweepClass) =>
        typeof(MHeap).GetField("_sweepClassCursor", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(heap, sweepClass);

    private static void SetArenas(MHeap heap, HeapArena[] arenas) =>
        typeof(MHeap).GetField("_arenas", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(heap, arenas);

    // ------------------------------------------------------------------ INV-ARENA-1

    [Fact]
    public void Verify_DetectsAnUnalignedArena_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            SetArenas(heap, [new HeapArena(a.Base + (nint)MallocConstants.PageSize)]);
        });

    [Fact]
    public void Verify_DetectsOverlappingArenas_INV_ARENA_1() =>
        AssertDetects("INV-ARENA-1", (heap, _) =>
        {
            HeapArena a = heap.Arenas[0];
            SetArenas(heap, [a, a]);
            heap.Stats.HeapSys += MallocConstants.HeapArenaBytes;
            heap.Stats.Arenas++;
        });

    [Fact]
    public void Verify_AcceptsAdjacentArenas_INV_ARENA_1() =>
        AssertAccepts((heap, _) =>
        {
            Assert.Single(heap.Arenas);
            HeapArena a = heap.Arenas[0];
            // The boundary: the predecessor's End equal to the next Base is legal.
            SetArenas(heap, [a, new HeapArena(a.End)]);
            heap.Stats.HeapSys += MallocConstants.HeapArenaBytes;
            heap.Stats.Arenas++;
        });

    // ------------------------------------------------------------------ INV-PAGE-1 / INV-PAGE-2

    [Fact]
    public void Verify_DetectsAPageInTwoPageCaches_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            (P from, P to) = heap.AllP[0].PCache.Empty ? (heap.AllP[1], heap.AllP[0]) : (heap.AllP[0], heap.AllP[1]);
            Assert.False(from.PCache.Empty);
            to.PCache = from.PCache;
        });

    [Fact]
    public void Verify_DetectsAPageInASpanAndAPageCache_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            PageCache pc = heap.AllP[0].PCache;
            int k = Enumerable.Range(0, MallocConstants.PageCachePages)
                .First(k => !pc.Free[k] && heap.SpanOf(pc.Base + k * (nint)MallocConstants.PageSize) != null);
            pc.Free[k] = true;
        });

    [Fact]
    public void Verify_DetectsALeakedPage_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            // A page the bitmap marks allocated though no span and no page cache holds it.
            PageAlloc.Chunk c = heap.Pages.Chunks[0];
            int i = Array.IndexOf(c.Alloc, false);
            Assert.True(i >= 0);
            c.Alloc[i] = true;
        });

    [Fact]
    public void Verify_DetectsAPageCachePageOutsideTheChunks_INV_PAGE_1() =>
        AssertDetects("INV-PAGE-1", (heap, _) =>
        {
            P p = heap.AllP[1];
            PageCache old = p.PCache;
            // Give the old cache's pages back to the bitmap so only the new cache is wrong.
            for (int k = 0; k < MallocConstants.PageCachePages; k++)
            {
                if (!old.Free[k])
                    continue;
                (PageAlloc.Chunk c, int i) = ChunkPage(heap, old.Base + k * (nint)MallocConstants.PageSize);
                c.Alloc[i] = false;
                c.Scavenged[i] = old.Scavenged[k];
            }
            p.PCache = new PageCache();
            heap.Verify(); // an empty page cache is fine
            nint outside = heap.Pages.Chunks[^1].Base + (nint)MallocConstants.PallocChunkBytes;
            Assert.False(heap.Pages.Contains(outside));
            var pc = new PageCache { Base = outside };
            pc.Free[0] = true;
            p.PCache = pc;
        });

    [Fact]
    public void Verify_DetectsAScavengedAllocatedPage_INV_PAGE_2() =>
        AssertDetects("INV-PAGE-2", (heap, objs) =>
        {
            (PageAlloc.Chunk c, int i) = ChunkPage(heap, SpanAt(heap, objs[3000]).StartAddr);
            Assert.True(c.Alloc[i]);
            c.Scavenged[i] = true;
        });

    // ------------------------------------------------------------------ INV-SWEEP-3 / INV-SWEEP-4

    [Fact]
    public void Verify_AcceptsAStaleCachedSpanOnceTheSetsAreDrained_INV_SWEEP_3() =>
        AssertAccepts((heap, _) =>
        {
            // The Reference computes sweep done (no sweep-state word to contradict): a P still
            // holding stale spans means the sweep is not done, even with every unswept set drained.
            MCache mc = heap.AllP[0].MCache;
            mc.FlushGen = heap.SweepGen - 2;
            foreach (MSpan? s in mc.Alloc)
            {
                if (s != null)
                    s.SweepGen = heap.SweepGen + 1;
            }
            Assert.False(heap.SweepDone);
        });

    [Fact]
    public void CheckSweepDone_DetectsSweepNotDone_INV_SWEEP_3() =>
        AssertSweepDoneDetects((heap, _) =>
        {
            heap.CheckSweepDone();
            SetSweepCursor(heap, 0); // every P flushed, but sweepone has not found the unswept sets empty
        });
}
