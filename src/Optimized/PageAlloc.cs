// PageAlloc: the page allocator (mirrors runtime/mpagealloc.go and mpagealloc_64bit.go). It owns the
// per-page state of every grown 4 MiB chunk (PallocData: in-use and scavenged bits) and a five-level
// radix tree of PallocSum summaries over the 48-bit address space, through which Find picks the
// lowest-addressed run of n free pages (the page the Reference's linear scan picks). Heap memory
// itself is not its business; it only keeps metadata.
//   summary[l]  2^(14+3l) entries of 2^levelShift[l] bytes each (16 GiB at the root, a chunk at the
//               leaves), indexed by absolute address. The root level (128 KiB) is reserved whole up
//               front; each lower level reserves only a window of its array around the grown ranges
//               and moves to a wider one (mapping and copying the grown parts) when a growth falls
//               outside it. Grow maps the block-aligned pages it needs inside the window.
//   chunks      Go's [L1][L2]*pallocData sparse map: 8192 L1 pointers to 1 MiB L2 blocks (SysAlloc).
//   searchAddr  every page below it is in use; it lies in grown memory (so its leaf summary is mapped)
//               unless it is MaxSearchAddr, "heap exhausted".
// Invariants: INV-PAGE-2 (scavenged => free), INV-PAGE-3 (summaries match the bitmaps; searchAddr is
// at or below the first free page), both checkable through CheckSummaries / IsScavenged. Nothing
// managed per chunk. All methods run under the heap lock.
// C# differs from Go: plain addresses (arenaBaseOffset 0), int counts, scavenged amounts in pages,
// the scavenger follows the Reference's policy (PageAlloc.Scavenge.cs), and Go's sysInit reserves
// every level for the whole address space (585 MiB) where levels 1-4 here reserve moving windows.
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace GoAlloc.Optimized;

internal sealed unsafe partial class PageAlloc : IDisposable
{
    // ---------------------------------------------------------------- layout constants

    /// <summary>logPallocChunkPages: 512 pages per chunk.</summary>
    internal const int LogPallocChunkPages = 9;
    /// <summary>logPallocChunkBytes: 4 MiB chunks.</summary>
    internal const int LogPallocChunkBytes = LogPallocChunkPages + MallocConstants.PageShift;
    internal const int ChunkPages = MallocConstants.PallocChunkPages;

    /// <summary>summaryLevels on 64-bit platforms.</summary>
    internal const int SummaryLevels = 5;
    /// <summary>summaryLevelBits: 8 children per summary, one 64-byte cache line per block.</summary>
    internal const int SummaryLevelBits = 3;
    /// <summary>summaryL0Bits = 48 - 22 - 4 * 3 = 14: the root level has 16384 entries of 16 GiB each.</summary>
    internal const int SummaryL0Bits = MallocConstants.HeapAddrBits - LogPallocChunkBytes - (SummaryLevels - 1) * SummaryLevelBits;

    /// <summary>pallocChunksL1Bits on 48-bit address spaces: the chunk map's L1 has 8192 entries.</summary>
    internal const int PallocChunksL1Bits = 13;
    /// <summary>pallocChunksL2Bits = 48 - 22 - 13: each L2 block maps 8192 chunks (1 MiB of PallocData).</summary>
    internal const int PallocChunksL2Bits = MallocConstants.HeapAddrBits - LogPallocChunkBytes - PallocChunksL1Bits;

    /// <summary>maxSearchAddr (Go's maxOffAddr with arenaBaseOffset 0): the heap has no free page.</summary>
    internal static readonly nint MaxSearchAddr = unchecked((nint)((1L << MallocConstants.HeapAddrBits) - 1));

    /// <summary>levelBits: radix bits per level.</summary>
    internal static ReadOnlySpan<int> LevelBits => [SummaryL0Bits, SummaryLevelBits, SummaryLevelBits, SummaryLevelBits, SummaryLevelBits];

    /// <summary>levelShift: addr &gt;&gt; levelShift[l] is the index of addr's summary at level l.</summary>
    internal static ReadOnlySpan<int> LevelShift =>
    [
        MallocConstants.HeapAddrBits - SummaryL0Bits,
        MallocConstants.HeapAddrBits - SummaryL0Bits - 1 * SummaryLevelBits,
        MallocConstants.HeapAddrBits - SummaryL0Bits - 2 * SummaryLevelBits,
        MallocConstants.HeapAddrBits - SummaryL0Bits - 3 * SummaryLevelBits,
        MallocConstants.HeapAddrBits - SummaryL0Bits - 4 * SummaryLevelBits,
    ];

    /// <summary>levelLogPages: log2 of the pages one summary of level l covers (21, 18, 15, 12, 9).</summary>
    internal static ReadOnlySpan<int> LevelLogPages =>
    [
        LogPallocChunkPages + 4 * SummaryLevelBits,
        LogPallocChunkPages + 3 * SummaryLevelBits,
        LogPallocChunkPages + 2 * SummaryLevelBits,
        LogPallocChunkPages + 1 * SummaryLevelBits,
        LogPallocChunkPages,
    ];

    // Byte size of each level: 8 bytes per entry, 2^(48 - levelShift[l]) entries.
    private const long Level0Bytes = 8L << SummaryL0Bits;
    private const long Level1Bytes = Level0Bytes << SummaryLevelBits;
    private const long Level2Bytes = Level1Bytes << SummaryLevelBits;
    private const long Level3Bytes = Level2Bytes << SummaryLevelBits;
    private const long Level4Bytes = Level3Bytes << SummaryLevelBits;

    /// <summary>Go's whole reservation for the five levels (585 MiB), which the windows avoid.</summary>
    internal const long FullSummaryBytes = Level0Bytes + Level1Bytes + Level2Bytes + Level3Bytes + Level4Bytes;

    private static ReadOnlySpan<long> LevelBytes => [Level0Bytes, Level1Bytes, Level2Bytes, Level3Bytes, Level4Bytes];

    private const int L1Entries = 1 << PallocChunksL1Bits;
    private const int L2Entries = 1 << PallocChunksL2Bits;
    private static readonly nint s_l2Bytes = (nint)L2Entries * sizeof(PallocData);

    // ---------------------------------------------------------------- state (under the heap lock)

    // The summary windows, one per level. Level l's reservation at _winBase[l] holds the bytes
    // [_winLo[l], _winHi[l]) of its (virtual) whole array, physical-page aligned; _bias[l] =
    // _winBase[l] - _winLo[l] is where entry 0 would lie, so Summary(l)[i] is entry i. Level 0's
    // window is its whole array; the others start empty (base and bias 0) and only widen. Only
    // entries of grown blocks are ever read, and those lie inside the window and are mapped.
    private readonly nint[] _winBase = new nint[SummaryLevels];
    private readonly long[] _winLo = new long[SummaryLevels];
    private readonly long[] _winHi = new long[SummaryLevels];
    private readonly nint[] _bias = new nint[SummaryLevels];
    /// <summary>chunks: L1 of the sparse chunk map; entries are null until an L2 block is needed.</summary>
    private readonly PallocData** _chunks;
    /// <summary>searchAddr: all pages below it are in use. MaxSearchAddr when the heap is full.</summary>
    private nint _searchAddr;
    /// <summary>start, end: the grown chunk indices lie in [start, end).</summary>
    private long _start, _end;
    /// <summary>inUse: the grown address ranges.</summary>
    private readonly AddrRanges _inUse = new();
    private bool _disposed;

    public PageAlloc()
    {
        // sysInit: reserve the root level whole now; Grow maps the parts it needs and reserves
        // the lower levels' windows.
        _winBase[0] = _bias[0] = SysMem.SysReserve(0, (nint)Level0Bytes);
        _winHi[0] = Level0Bytes;
        try
        {
            _chunks = (PallocData**)SysMem.SysAlloc((nint)L1Entries * sizeof(nint));
        }
        catch
        {
            SysMem.SysFree(_winBase[0], (nint)Level0Bytes);
            throw;
        }
        _searchAddr = MaxSearchAddr;
    }

    /// <summary>Unmaps the summaries and every chunk bitmap. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        for (int i = 0; i < L1Entries; i++)
        {
            if (_chunks[i] != null)
            {
                SysMem.SysFree((nint)_chunks[i], s_l2Bytes);
                _chunks[i] = null;
            }
        }
        SysMem.SysFree((nint)_chunks, (nint)L1Entries * sizeof(nint));
        for (int l = 0; l < SummaryLevels; l++)
        {
            if (_winBase[l] != 0)
                SysMem.SysFree(_winBase[l], (nint)(_winHi[l] - _winLo[l]));
            _winBase[l] = _bias[l] = 0;
            _winLo[l] = _winHi[l] = 0;
        }
    }

    /// <summary>
    /// The address space this page allocator holds: the summary windows, the chunk map's L1 and
    /// its L2 blocks (reserved or mapped; committed only where touched).
    /// </summary>
    internal long ReservedBytes
    {
        get
        {
            long n = SummaryReservedBytes + (long)L1Entries * sizeof(nint);
            for (int i = 0; i < L1Entries; i++)
                if (_chunks[i] != null)
                    n += s_l2Bytes;
            return n;
        }
    }

    /// <summary>The bytes the five summary windows reserve together.</summary>
    internal long SummaryReservedBytes
    {
        get
        {
            long n = 0;
            for (int l = 0; l < SummaryLevels; l++)
                n += _winHi[l] - _winLo[l];
            return n;
        }
    }

    // ---------------------------------------------------------------- index arithmetic

    /// <summary>chunkIndex: the chunk holding addr.</summary>
    internal static long ChunkIndex(nint addr) => (long)addr >> LogPallocChunkBytes;

    /// <summary>chunkBase: the first address of chunk ci.</summary>
    internal static nint ChunkBase(long ci) => (nint)(ci << LogPallocChunkBytes);

    /// <summary>chunkPageIndex: addr's page within its chunk (0..511).</summary>
    internal static int ChunkPageIndex(nint addr) => (int)((addr >> MallocConstants.PageShift) & (ChunkPages - 1));

    /// <summary>The summaries of level l (0 = root, 4 = one per chunk): entry i is Summary(l)[i], readable only inside grown blocks.</summary>
    internal PallocSum* Summary(int level) => (PallocSum*)_bias[level];

    /// <summary>The leaf summaries: LeafSummary[ci] is chunk ci's (mapped only if ci's block was grown).</summary>
    private PallocSum* LeafSummary => (PallocSum*)_bias[SummaryLevels - 1];

    /// <summary>offAddrToLevelIndex.</summary>
    private static int AddrToLevelIndex(int level, nint addr) => (int)((long)addr >> LevelShift[level]);

    /// <summary>levelIndexToOffAddr.</summary>
    private static nint LevelIndexToAddr(int level, long idx) => (nint)(idx << LevelShift[level]);

    /// <summary>addrsToSummaryRange: the level-l entries [lo, hi) covering [base, limit).</summary>
    private static (long Lo, long Hi) AddrsToSummaryRange(int level, nint @base, nint limit) =>
        ((long)@base >> LevelShift[level], (((long)limit - 1) >> LevelShift[level]) + 1);

    /// <summary>blockAlignSummaryRange: widens [lo, hi) to whole blocks of 2^levelBits[l] entries.</summary>
    private static (long Lo, long Hi) BlockAlignSummaryRange(int level, long lo, long hi)
    {
        long e = 1L << LevelBits[level];
        return (lo & ~(e - 1), (hi + e - 1) & ~(e - 1));
    }

    /// <summary>chunkOf: the bitmaps of chunk ci, whose L2 block must exist.</summary>
    internal PallocData* ChunkOf(long ci)
    {
        PallocData* l2 = _chunks[ci >> PallocChunksL2Bits];
        Debug.Assert(l2 != null, "chunkOf on a chunk that was never grown");
        return l2 + (ci & (L2Entries - 1));
    }

    /// <summary>tryChunkOf: the bitmaps of chunk ci, or null if its L2 block was never allocated.</summary>
    internal PallocData* TryChunkOf(long ci)
    {
        if ((ulong)ci >= (ulong)L1Entries * L2Entries)
            return null;
        PallocData* l2 = _chunks[ci >> PallocChunksL2Bits];
        return l2 == null ? null : l2 + (ci & (L2Entries - 1));
    }

    internal nint SearchAddr => _searchAddr;

    internal long Start => _start;

    internal long End => _end;

    internal AddrRanges InUse => _inUse;

    // ---------------------------------------------------------------- grow

    /// <summary>
    /// grow: adds [base, base+size), widened to whole chunks, as free and scavenged pages. A chunk
    /// may be grown only once (InvalidOperationException, nothing changed). size &lt;= 0 is a no-op.
    /// </summary>
    public void Grow(nint @base, long size)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (size <= 0)
            return;
        nint limit = (nint)(((long)@base + size + MallocConstants.PallocChunkBytes - 1) & ~(MallocConstants.PallocChunkBytes - 1));
        @base = (nint)((long)@base & ~(MallocConstants.PallocChunkBytes - 1));
        if (@base < 0 || (long)limit > 1L << MallocConstants.HeapAddrBits || limit <= @base)
            throw new ArgumentOutOfRangeException(nameof(@base), $"pageAlloc.grow: [0x{@base:x}, 0x{limit:x}) is outside the {MallocConstants.HeapAddrBits}-bit address space");
        int succ = _inUse.FindSucc(@base);
        if ((succ > 0 && _inUse[succ - 1].Limit > @base) || (succ < _inUse.Count && _inUse[succ].Base < limit))
        {
            long dup = succ > 0 && _inUse[succ - 1].Limit > @base ? ChunkIndex(@base) : ChunkIndex(_inUse[succ].Base);
            throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.grow: chunk {dup} grown twice");
        }

        // Map the summary memory the new range needs before anything reads it.
        SysGrow(@base, limit, succ);

        // The chunk map's L2 blocks too, before anything is recorded: a refused mapping leaves
        // the allocator as it was (the blocks already mapped stay, zero, for a later growth).
        long startCi = ChunkIndex(@base), endCi = ChunkIndex(limit);
        for (long c = startCi; c < endCi; c = ((c >> PallocChunksL2Bits) + 1) << PallocChunksL2Bits)
        {
            PallocData** slot = _chunks + (c >> PallocChunksL2Bits);
            if (*slot == null)
                *slot = (PallocData*)SysMem.SysAlloc(s_l2Bytes);
        }

        if (_inUse.Count == 0 || startCi < _start)
            _start = startCi;
        if (endCi > _end)
            _end = endCi;
        _inUse.Add(new AddrRange(@base, limit));

        // Growth is like a free: if the new memory lies below searchAddr, start searches there.
        if (@base < _searchAddr)
            _searchAddr = @base;

        // Chunk bitmaps: fresh L2 blocks are zero (all free); new memory is all scavenged.
        for (long c = startCi; c < endCi; c++)
        {
            PallocData* chunk = ChunkOf(c);
            Debug.Assert(chunk->Alloc.PopcntRange(0, ChunkPages) == 0, "a never-grown chunk has in-use bits");
            chunk->Scavenged.SetAll();
        }

        Update(@base, (int)(((long)limit - (long)@base) >> MallocConstants.PageShift), contig: true, alloc: false);
    }

    /// <summary>
    /// sysGrow: maps the summary pages [base, limit) needs at every level, minus the pages its
    /// neighbouring grown ranges (inUse[succ-1] and inUse[succ]) already mapped, first widening a
    /// level's window if the pages lie outside it. Ranges are widened to whole blocks (the root
    /// level to the whole level) and then to physical pages.
    /// </summary>
    private void SysGrow(nint @base, nint limit, int succ)
    {
        for (int l = 0; l < SummaryLevels; l++)
        {
            (long lo, long hi) = SummaryBytesFor(l, @base, limit);
            EnsureWindow(l, lo, hi);
            AddrRange need = SummaryAddrs(l, lo, hi);
            if (succ > 0)
                need = need.Subtract(SummaryAddrs(l, _inUse[succ - 1]));
            if (succ < _inUse.Count)
                need = need.Subtract(SummaryAddrs(l, _inUse[succ]));
            if (need.Size == 0)
                continue;
            SysMem.SysMap(need.Base, need.Size);
            SysMem.SysUsed(need.Base, need.Size);
        }
    }

    /// <summary>
    /// Makes level l's window hold the bytes [lo, hi) of its array. A window that does not is
    /// replaced by a wider one, at least twice its size, reaching further on the side it grew
    /// (a heap growing upward moves it O(log n) times): reserve the new window, map there the
    /// pages of every grown range, copy them over, then release the old window. Under the heap
    /// lock, so no reader sees the move; a refused reservation or mapping leaves the old window
    /// in place and releases the new one.
    /// </summary>
    private void EnsureWindow(int l, long lo, long hi)
    {
        long oldLo = _winLo[l], oldHi = _winHi[l], oldSize = oldHi - oldLo;
        if (_winBase[l] != 0 && lo >= oldLo && hi <= oldHi)
            return;
        long newLo = lo, newHi = hi;
        if (_winBase[l] != 0)
        {
            newLo = Math.Min(lo, oldLo);
            newHi = Math.Max(hi, oldHi);
            if (newHi - newLo < 2 * oldSize)
            {
                if (hi > oldHi)
                    newHi = Math.Min(LevelBytes[l], newLo + 2 * oldSize);
                else
                    newLo = Math.Max(0, newHi - 2 * oldSize);
            }
        }
        nint win = SysMem.SysReserve(0, (nint)(newHi - newLo));
        nint bias = win - (nint)newLo;
        if (_winBase[l] != 0)
        {
            try
            {
                MoveWindow(l, bias);
            }
            catch (OutOfMemoryException)
            {
                SysMem.SysFree(win, (nint)(newHi - newLo)); // the old window stays, intact
                throw;
            }
            SysMem.SysFree(_winBase[l], (nint)oldSize);
        }
        _winBase[l] = win;
        _winLo[l] = newLo;
        _winHi[l] = newHi;
        _bias[l] = bias;
    }

    /// <summary>Maps in the new window at bias the pages of every grown range (neighbours may share a page), then copies them over.</summary>
    private void MoveWindow(int l, nint bias)
    {
        for (int r = 0; r < _inUse.Count; r++)
        {
            (long rlo, long rhi) = SummaryBytesFor(l, _inUse[r].Base, _inUse[r].Limit);
            SysMem.SysMap(bias + (nint)rlo, (nint)(rhi - rlo));
            SysMem.SysUsed(bias + (nint)rlo, (nint)(rhi - rlo));
        }
        for (int r = 0; r < _inUse.Count; r++)
        {
            (long rlo, long rhi) = SummaryBytesFor(l, _inUse[r].Base, _inUse[r].Limit);
            Buffer.MemoryCopy((void*)(_bias[l] + (nint)rlo), (void*)(bias + (nint)rlo), rhi - rlo, rhi - rlo);
        }
    }

    /// <summary>
    /// The physical-page aligned byte offsets [lo, hi), within level l's whole array, of the
    /// summaries of [base, limit) widened to whole blocks.
    /// </summary>
    private static (long Lo, long Hi) SummaryBytesFor(int level, nint @base, nint limit)
    {
        (long lo, long hi) = AddrsToSummaryRange(level, @base, limit);
        (lo, hi) = BlockAlignSummaryRange(level, lo, hi);
        long phys = SysMem.PhysPageSize;
        return (lo * sizeof(PallocSum) & ~(phys - 1), (hi * sizeof(PallocSum) + phys - 1) & ~(phys - 1));
    }

    /// <summary>Where the bytes [lo, hi) of level l's array lie in its window.</summary>
    private AddrRange SummaryAddrs(int level, long lo, long hi) => new(_bias[level] + (nint)lo, _bias[level] + (nint)hi);

    /// <summary>Where the summary pages of a grown range lie in level l's window.</summary>
    private AddrRange SummaryAddrs(int level, AddrRange r)
    {
        (long lo, long hi) = SummaryBytesFor(level, r.Base, r.Limit);
        return SummaryAddrs(level, lo, hi);
    }

    // ---------------------------------------------------------------- update

    /// <summary>
    /// update: recomputes the summaries over [base, base + npages pages) after its bitmap changed.
    /// contig says the change was one contiguous alloc or free (chunks strictly inside the range
    /// are then wholly in use or wholly free), alloc which of the two. Walks up the tree and stops
    /// at the first level where nothing changed.
    /// </summary>
    internal void Update(nint @base, int npages, bool contig, bool alloc)
    {
        nint limit = @base + (nint)npages * (nint)MallocConstants.PageSize - 1; // inclusive
        long sc = ChunkIndex(@base), ec = ChunkIndex(limit);
        PallocSum* leaf = LeafSummary;

        if (sc == ec)
        {
            // One chunk: if its summary did not change, no parent can change either.
            PallocSum y = ChunkOf(sc)->Alloc.Summarize();
            if (leaf[sc] == y)
                return;
            leaf[sc] = y;
        }
        else if (contig)
        {
            // The end chunks are partial; the ones between are wholly in use or wholly free.
            leaf[sc] = ChunkOf(sc)->Alloc.Summarize();
            PallocSum whole = alloc ? default : PallocSum.FreeChunk;
            for (long c = sc + 1; c < ec; c++)
                leaf[c] = whole;
            leaf[ec] = ChunkOf(ec)->Alloc.Summarize();
        }
        else
        {
            for (long c = sc; c <= ec; c++)
                leaf[c] = ChunkOf(c)->Alloc.Summarize();
        }

        // Walk up: level l's entries over the range are merges of their 8 children at l + 1.
        bool changed = true;
        for (int l = SummaryLevels - 2; l >= 0 && changed; l--)
        {
            changed = false;
            int childBits = LevelBits[l + 1];
            int childLogPages = LevelLogPages[l + 1];
            (long lo, long hi) = AddrsToSummaryRange(l, @base, limit + 1);
            PallocSum* level = Summary(l);
            PallocSum* children = Summary(l + 1);
            for (long i = lo; i < hi; i++)
            {
                PallocSum sum = PallocSum.Merge(children + (i << childBits), 1 << childBits, childLogPages);
                if (level[i] != sum)
                {
                    changed = true;
                    level[i] = sum;
                }
            }
        }
    }

    // ---------------------------------------------------------------- alloc

    /// <summary>
    /// alloc: the lowest-addressed run of <paramref name="npages"/> free pages, marked in use with
    /// their scavenged bits cleared; <paramref name="scav"/> = how many of them were scavenged.
    /// Returns 0 (and scav 0) if no run fits, or if npages &lt;= 0. First tries the chunk holding
    /// searchAddr directly, then the full tree search.
    /// </summary>
    public nint Alloc(int npages, out int scav)
    {
        Debug.Assert(!_disposed);
        scav = 0;
        if (npages <= 0)
            return 0;
        // searchAddr beyond every grown chunk: the heap is known to be full.
        if (ChunkIndex(_searchAddr) >= _end)
            return 0;

        nint addr;
        nint searchAddr = 0;
        int pi = ChunkPageIndex(_searchAddr);
        if (ChunkPages - pi >= npages)
        {
            // Fast path: the run may fit in searchAddr's chunk (npages <= 512 here).
            long ci = ChunkIndex(_searchAddr);
            if (LeafSummary[ci].Max >= npages)
            {
                (int j, int searchIdx) = ChunkOf(ci)->Alloc.Find(npages, pi);
                if (j == PallocBits.NotFound)
                    ThrowBadSummaryInChunk(ci, npages, pi);
                addr = ChunkBase(ci) + (nint)j * (nint)MallocConstants.PageSize;
                searchAddr = ChunkBase(ci) + (nint)searchIdx * (nint)MallocConstants.PageSize;
                goto Found;
            }
        }
        (addr, searchAddr) = Find(npages);
        if (addr == 0)
        {
            // Not even one page: the heap is exhausted until a free or a grow.
            if (npages == 1)
                _searchAddr = MaxSearchAddr;
            return 0;
        }
    Found:
        scav = AllocRangeCore(addr, npages);
        // Everything below the first free page the search saw is in use.
        if (_searchAddr < searchAddr)
            _searchAddr = searchAddr;
        return addr;
    }

    /// <summary>
    /// find: the tree search. Walks from the root, at each level scanning one block of entries
    /// (the whole root level, then 8 children) from the one holding searchAddr. An entry either
    /// completes a run begun in earlier entries (done: the run starts there), or holds a long
    /// enough run itself (descend into it), or ends with free pages that may begin a run.
    /// Meanwhile firstFree narrows to the smallest region known to hold the first free page: its
    /// base is the new candidate searchAddr. Returns (0, MaxSearchAddr) if nothing fits.
    /// </summary>
    private (nint Addr, nint SearchAddr) Find(int npages)
    {
        long i = 0; // first entry of the block being scanned at the current level
        nint firstFreeBase = 0, firstFreeBound = MaxSearchAddr; // inclusive bounds
        PallocSum lastSum = default;
        long lastSumIdx = -1;

        for (int l = 0; l < SummaryLevels; l++)
        {
            int entriesPerBlock = 1 << LevelBits[l];
            int logMaxPages = LevelLogPages[l];
            i <<= LevelBits[l];
            PallocSum* entries = Summary(l) + i;

            // Entries of this block below searchAddr's entry hold no free page: skip them.
            int j0 = 0;
            long searchIdx = AddrToLevelIndex(l, _searchAddr);
            if ((searchIdx & ~(long)(entriesPerBlock - 1)) == i)
                j0 = (int)(searchIdx & (entriesPerBlock - 1));

            long runBase = 0, runSize = 0; // in pages, relative to the block's first page
            bool descend = false;
            for (int j = j0; j < entriesPerBlock; j++)
            {
                PallocSum sum = entries[j];
                if (sum.Value == 0)
                {
                    runSize = 0; // all in use: breaks any run
                    continue;
                }
                FoundFree(ref firstFreeBase, ref firstFreeBound, LevelIndexToAddr(l, i + j), (nint)(1L << logMaxPages) * (nint)MallocConstants.PageSize);

                sum.Unpack(out int s, out int max, out int end);
                if (runSize + s >= npages)
                {
                    // The run begun in earlier entries completes here (or starts here if none).
                    if (runSize == 0)
                        runBase = (long)j << logMaxPages;
                    runSize += s;
                    break;
                }
                if (max >= npages)
                {
                    // The entry holds a long enough run: look inside it.
                    i += j;
                    lastSumIdx = i;
                    lastSum = sum;
                    descend = true;
                    break;
                }
                if (runSize == 0 || s < (1 << logMaxPages))
                {
                    // Not wholly free: any run in progress ends; a new one may begin at its end.
                    runSize = end;
                    runBase = ((long)(j + 1) << logMaxPages) - runSize;
                    continue;
                }
                runSize += 1L << logMaxPages; // wholly free: the run continues through it
            }
            if (descend)
                continue;
            if (runSize >= npages)
            {
                // A run straddling entry boundaries at this level.
                nint addr = LevelIndexToAddr(l, i) + (nint)runBase * (nint)MallocConstants.PageSize;
                return (addr, FindMappedAddr(firstFreeBase));
            }
            if (l == 0)
                return (0, MaxSearchAddr); // the whole tree holds no such run
            ThrowBadSummary(l, i, j0, npages, lastSum, lastSumIdx);
        }

        // The leaf entry we descended into has max >= npages: search its chunk.
        long ci = i;
        (int idx, int chunkSearchIdx) = ChunkOf(ci)->Alloc.Find(npages, 0);
        if (idx == PallocBits.NotFound)
            ThrowBadSummaryInChunk(ci, npages, 0);
        nint found = ChunkBase(ci) + (nint)idx * (nint)MallocConstants.PageSize;
        // The chunk search saw the chunk's first free page: a possibly narrower firstFree.
        nint chunkSearchAddr = ChunkBase(ci) + (nint)chunkSearchIdx * (nint)MallocConstants.PageSize;
        FoundFree(ref firstFreeBase, ref firstFreeBound, chunkSearchAddr, ChunkBase(ci + 1) - chunkSearchAddr);
        return (found, FindMappedAddr(firstFreeBase));
    }

    /// <summary>
    /// foundFree: free memory was seen in [addr, addr+size). If that lies inside the firstFree
    /// window, the window narrows to it; if it lies outside, the window stays (the first free
    /// page is earlier). Partial overlap cannot happen in a consistent tree.
    /// </summary>
    private static void FoundFree(ref nint ffBase, ref nint ffBound, nint addr, nint size)
    {
        nint last = addr + size - 1;
        if (ffBase <= addr && last <= ffBound)
        {
            ffBase = addr;
            ffBound = last;
        }
        else if (!(last < ffBase || ffBound < addr))
        {
            ThrowPartialOverlap(addr, size, ffBase, ffBound);
        }
    }

    /// <summary>
    /// findMappedAddr: the lowest grown address &gt;= addr, or MaxSearchAddr if there is none. A
    /// searchAddr must point into grown memory (its leaf summary must be mapped): find's candidate
    /// can be the base of a root- or mid-level entry whose first chunks were never grown
    /// (golang/go#40191, the DiscontiguousBadSearchAddr test).
    /// </summary>
    private nint FindMappedAddr(nint addr) =>
        _inUse.TryFindAddrGreaterEqual(addr, out nint found) ? found : MaxSearchAddr;

    // ---------------------------------------------------------------- allocRange / free

    /// <summary>
    /// allocRange: marks [base, base + npages pages) in use and clears their scavenged bits;
    /// returns how many were scavenged. The range must lie in grown memory (else
    /// InvalidOperationException). Pages already in use stay in use.
    /// </summary>
    public int AllocRange(nint @base, int npages)
    {
        Debug.Assert(!_disposed);
        if (npages <= 0)
            return 0;
        if (!IsGrownRange(@base, npages))
            ThrowNotGrown("allocRange", @base, npages);
        return AllocRangeCore(@base, npages);
    }

    /// <summary>allocRange without the argument check (callers found the range in the bitmaps).</summary>
    internal int AllocRangeCore(nint @base, int npages)
    {
        nint limit = @base + (nint)npages * (nint)MallocConstants.PageSize - 1;
        long sc = ChunkIndex(@base), ec = ChunkIndex(limit);
        int si = ChunkPageIndex(@base), ei = ChunkPageIndex(limit);

        int scav;
        if (sc == ec)
        {
            PallocData* chunk = ChunkOf(sc);
            scav = chunk->Scavenged.PopcntRange(si, ei + 1 - si);
            chunk->AllocRange(si, ei + 1 - si);
        }
        else
        {
            PallocData* chunk = ChunkOf(sc);
            scav = chunk->Scavenged.PopcntRange(si, ChunkPages - si);
            chunk->AllocRange(si, ChunkPages - si);
            for (long c = sc + 1; c < ec; c++)
            {
                chunk = ChunkOf(c);
                scav += chunk->Scavenged.PopcntRange(0, ChunkPages);
                chunk->AllocAll();
            }
            chunk = ChunkOf(ec);
            scav += chunk->Scavenged.PopcntRange(0, ei + 1);
            chunk->AllocRange(0, ei + 1);
        }
        Update(@base, npages, contig: true, alloc: true);
        return scav;
    }

    /// <summary>
    /// free: marks [base, base + npages pages) free; they keep their (cleared) scavenged bits.
    /// Lowers searchAddr to base if needed. Every page must be grown and in use: otherwise
    /// InvalidOperationException and nothing changes (freeing a free page would corrupt the
    /// accounting). npages &lt;= 0 is a no-op.
    /// </summary>
    public void Free(nint @base, int npages)
    {
        Debug.Assert(!_disposed);
        if (npages <= 0)
            return;
        nint limit = @base + (nint)npages * (nint)MallocConstants.PageSize - 1;
        long sc = ChunkIndex(@base), ec = ChunkIndex(limit);
        int si = ChunkPageIndex(@base), ei = ChunkPageIndex(limit);
        if (!IsGrownRange(@base, npages) || !IsRangeInUse(sc, si, ec, ei))
            ThrowBadFree(@base, npages);

        if (@base < _searchAddr)
            _searchAddr = @base;
        if (npages == 1)
        {
            ChunkOf(sc)->Alloc.Free1(si);
        }
        else if (sc == ec)
        {
            ChunkOf(sc)->Alloc.Free(si, ei + 1 - si);
        }
        else
        {
            ChunkOf(sc)->Alloc.Free(si, ChunkPages - si);
            for (long c = sc + 1; c < ec; c++)
                ChunkOf(c)->Alloc.FreeAll();
            ChunkOf(ec)->Alloc.Free(0, ei + 1);
        }
        Update(@base, npages, contig: true, alloc: false);
    }

    /// <summary>Whether [base, base + npages pages) lies inside one grown range.</summary>
    private bool IsGrownRange(nint @base, int npages)
    {
        int i = _inUse.FindSucc(@base);
        if (i == 0)
            return false;
        AddrRange r = _inUse[i - 1];
        return r.Contains(@base) && (long)@base + (long)npages * MallocConstants.PageSize <= r.Limit
            && (@base & (nint)MallocConstants.PageMask) == 0;
    }

    /// <summary>Whether every page from (sc, si) to (ec, ei) inclusive is marked in use.</summary>
    private bool IsRangeInUse(long sc, int si, long ec, int ei)
    {
        if (sc == ec)
            return ChunkOf(sc)->Alloc.PopcntRange(si, ei + 1 - si) == ei + 1 - si;
        if (ChunkOf(sc)->Alloc.PopcntRange(si, ChunkPages - si) != ChunkPages - si)
            return false;
        for (long c = sc + 1; c < ec; c++)
        {
            if (ChunkOf(c)->Alloc.PopcntRange(0, ChunkPages) != ChunkPages)
                return false;
        }
        return ChunkOf(ec)->Alloc.PopcntRange(0, ei + 1) == ei + 1;
    }

    /// <summary>Lowers searchAddr to base if base is below it (free, grow and pageCache.flush).</summary>
    internal void LowerSearchAddr(nint @base)
    {
        if (@base < _searchAddr)
            _searchAddr = @base;
    }

    // ---------------------------------------------------------------- throw helpers (cold)

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadFree(nint @base, int npages)
    {
        if (!IsGrownRange(@base, npages))
            ThrowNotGrown("free", @base, npages);
        for (int k = 0; k < npages; k++)
        {
            nint a = @base + (nint)k * (nint)MallocConstants.PageSize;
            if (!ChunkOf(ChunkIndex(a))->Alloc.Get(ChunkPageIndex(a)))
                throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.free: page 0x{a:x} is already free");
        }
        throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.free: bad free of [0x{@base:x}, +{npages} pages)");
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotGrown(string op, nint @base, int npages) =>
        throw new HeapInvariantException("INV-PAGE-1", $"pageAlloc.{op}: [0x{@base:x}, +{npages} pages) is not page-aligned grown memory");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPartialOverlap(nint addr, nint size, nint ffBase, nint ffBound) =>
        throw new HeapInvariantException("INV-PAGE-1",
            $"pageAlloc.find: range partially overlaps: addr = 0x{addr:x}, size = {size}, firstFree = [0x{ffBase:x}, 0x{ffBound:x}]");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadSummaryInChunk(long ci, int npages, int searchIdx)
    {
        PallocSum sum = LeafSummary[ci];
        throw new HeapInvariantException("INV-PAGE-1",
            $"pageAlloc: bad summary data: chunk {ci} summary {sum} but no run of {npages} pages from page {searchIdx}; searchAddr = 0x{_searchAddr:x}");
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadSummary(int level, long i, int j0, int npages, PallocSum lastSum, long lastSumIdx)
    {
        var sb = new StringBuilder();
        sb.Append($"pageAlloc.find: bad summary data: summary[{level - 1}][{lastSumIdx}] = {lastSum}; ");
        sb.Append($"level = {level}, npages = {npages}, j0 = {j0}, searchAddr = 0x{_searchAddr:x}, i = {i}; block:");
        PallocSum* entries = Summary(level) + i;
        for (int j = 0; j < 1 << LevelBits[level]; j++)
            sb.Append($" [{i + j}] {entries[j]}");
        throw new HeapInvariantException("INV-PAGE-1", sb.ToString());
    }
}
