// PageAlloc.Verify: the read-only views the heap's Verify and the tests use: per-page state,
// the grown chunks in address order, and CheckSummaries, the INV-PAGE-3 validator that
// recomputes every summary of the radix tree from the bitmaps and checks searchAddr against the
// first free page. Expensive (whole-structure) checks: call them at quiescent points only.
// Under the heap lock. Mirrors no single Go file (Go's tests compare bitmaps in mpagealloc_test.go).
// C# differs from Go: Go never validates summaries ("TODO: verify summaries too" in its tests).
namespace GoAlloc.Optimized;

internal sealed unsafe partial class PageAlloc
{
    /// <summary>Whether addr lies in a grown chunk.</summary>
    public bool Contains(nint addr) => _inUse.Contains(addr);

    /// <summary>The in-use bit of addr's page; addr must lie in a grown chunk.</summary>
    public bool IsAllocated(nint addr) => GrownChunkOf(addr)->Alloc.Get(ChunkPageIndex(addr));

    /// <summary>The scavenged bit of addr's page; addr must lie in a grown chunk.</summary>
    public bool IsScavenged(nint addr) => GrownChunkOf(addr)->Scavenged.Get(ChunkPageIndex(addr));

    private PallocData* GrownChunkOf(nint addr)
    {
        if (!_inUse.Contains(addr))
            throw new ArgumentOutOfRangeException(nameof(addr), $"0x{addr:x} is not in a grown chunk");
        return ChunkOf(ChunkIndex(addr));
    }

    /// <summary>The indices of the grown chunks, in increasing address order.</summary>
    public IEnumerable<long> GrownChunks()
    {
        for (int r = 0; r < _inUse.Count; r++)
        {
            AddrRange range = _inUse[r];
            for (long ci = ChunkIndex(range.Base); ci < ChunkIndex(range.Limit); ci++)
                yield return ci;
        }
    }

    /// <summary>The base addresses of the grown chunks, in increasing address order.</summary>
    public IEnumerable<nint> GrownChunkBases()
    {
        foreach (long ci in GrownChunks())
            yield return ChunkBase(ci);
    }

    /// <summary>
    /// INV-PAGE-3: null if every summary equals the one recomputed from the bitmaps (leaves from
    /// the chunk bitmaps, inner levels by merging their children; ungrown chunks sharing a mapped
    /// block summarize as 0) and searchAddr is at or below the first free page (and inside grown
    /// memory unless it is MaxSearchAddr); otherwise a description of the first mismatch.
    /// </summary>
    public string? CheckSummaries()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        PallocSum* leaf = LeafSummary;
        int leafLevel = SummaryLevels - 1;
        for (int r = 0; r < _inUse.Count; r++)
        {
            AddrRange range = _inUse[r];
            (long lo, long hi) = AddrsToSummaryRange(leafLevel, range.Base, range.Limit);
            (long alo, long ahi) = BlockAlignSummaryRange(leafLevel, lo, hi);
            for (long ci = alo; ci < ahi; ci++)
            {
                bool grown = ci >= lo && ci < hi || _inUse.Contains(ChunkBase(ci));
                PallocSum want = grown ? ChunkOf(ci)->Alloc.Summarize() : default;
                if (leaf[ci] != want)
                    return $"INV-PAGE-3: summary[{leafLevel}][{ci}] (chunk 0x{ChunkBase(ci):x}) is {leaf[ci]} but its bitmap summarizes to {want}";
            }
        }
        for (int l = leafLevel - 1; l >= 0; l--)
        {
            PallocSum* level = Summary(l);
            PallocSum* children = Summary(l + 1);
            int childBits = LevelBits[l + 1];
            for (int r = 0; r < _inUse.Count; r++)
            {
                (long lo, long hi) = AddrsToSummaryRange(l, _inUse[r].Base, _inUse[r].Limit);
                for (long i = lo; i < hi; i++)
                {
                    PallocSum want = PallocSum.Merge(children + (i << childBits), 1 << childBits, LevelLogPages[l + 1]);
                    if (level[i] != want)
                        return $"INV-PAGE-3: summary[{l}][{i}] (from 0x{LevelIndexToAddr(l, i):x}) is {level[i]} but its children merge to {want}";
                }
            }
        }

        if (_searchAddr != MaxSearchAddr && !_inUse.Contains(_searchAddr))
            return $"INV-PAGE-3: searchAddr 0x{_searchAddr:x} is outside every grown range";
        foreach (long ci in GrownChunks())
        {
            int i = ChunkOf(ci)->Alloc.Find1(0);
            if (i == PallocBits.NotFound)
                continue;
            nint firstFree = ChunkBase(ci) + (nint)i * (nint)MallocConstants.PageSize;
            if (_searchAddr > firstFree)
                return $"INV-PAGE-3: searchAddr 0x{_searchAddr:x} is above the first free page 0x{firstFree:x}";
            break;
        }
        return null;
    }
}
