// PallocBits: the bitmaps of one 4 MiB chunk (mirrors runtime/mpallocbits.go). Three value types:
//   PageBits    512 bits (8 ulongs, bit i of word i/64 is page i of the chunk) with the plain bit
//               operations (set/clear ranges, block64, popcount); the scavenged bitmap is one.
//   PallocBits  the allocation bitmap (1 = in use, 0 = free) plus the searches the page allocator
//               needs: find1 / findSmallN / findLargeN dispatched by size, and summarize.
//   PallocData  one chunk's PallocBits and scavenged PageBits side by side (128 bytes), the element
//               of the page allocator's chunk map; allocating pages clears their scavenged bits.
// These structs own no memory: PageAlloc keeps them in native L2 blocks; tests may keep them on
// the stack. Searches return PallocBits.NotFound (-1) when nothing fits; page indices are 0..511.
// Invariant kept by the callers (INV-PAGE-2): a scavenged bit is only ever set on a free page.
// C# differs from Go: Go's pallocBits is a named array type converted to pageBits freely; here
// PallocBits wraps a PageBits field and forwards, and the 8 words are a fixed buffer.
using System.Diagnostics;
using System.Numerics;

namespace GoAlloc.Optimized;

/// <summary>pageBits: one bit per page of a chunk.</summary>
internal unsafe struct PageBits
{
    /// <summary>Words in a chunk bitmap: 512 pages / 64 bits.</summary>
    public const int Words = MallocConstants.PallocChunkPages / 64;

    private fixed ulong _words[Words];

    /// <summary>Word <paramref name="w"/> of the bitmap (0..7): bits for pages 64w..64w+63.</summary>
    public ulong this[int w]
    {
        get
        {
            Debug.Assert((uint)w < Words);
            return _words[w];
        }
        set
        {
            Debug.Assert((uint)w < Words);
            _words[w] = value;
        }
    }

    /// <summary>get: bit i.</summary>
    public bool Get(int i) => ((_words[i >> 6] >> (i & 63)) & 1) != 0;

    /// <summary>block64: the 64-page aligned word holding bit i.</summary>
    public ulong Block64(int i) => _words[i >> 6];

    public void Set(int i) => _words[i >> 6] |= 1UL << (i & 63);

    public void Clear(int i) => _words[i >> 6] &= ~(1UL << (i & 63));

    /// <summary>setRange: sets bits [i, i+n). n = 0 is a no-op.</summary>
    public void SetRange(int i, int n)
    {
        Debug.Assert(i >= 0 && n >= 0 && i + n <= MallocConstants.PallocChunkPages);
        if (n == 0)
            return;
        int last = i + n - 1;
        int wi = i >> 6, wl = last >> 6;
        if (wi == wl)
        {
            _words[wi] |= RangeMask(i & 63, n);
            return;
        }
        _words[wi] |= ~0UL << (i & 63);
        for (int w = wi + 1; w < wl; w++)
            _words[w] = ~0UL;
        _words[wl] |= LowMask((last & 63) + 1);
    }

    /// <summary>clearRange: clears bits [i, i+n). n = 0 is a no-op.</summary>
    public void ClearRange(int i, int n)
    {
        Debug.Assert(i >= 0 && n >= 0 && i + n <= MallocConstants.PallocChunkPages);
        if (n == 0)
            return;
        int last = i + n - 1;
        int wi = i >> 6, wl = last >> 6;
        if (wi == wl)
        {
            _words[wi] &= ~RangeMask(i & 63, n);
            return;
        }
        _words[wi] &= ~(~0UL << (i & 63));
        for (int w = wi + 1; w < wl; w++)
            _words[w] = 0;
        _words[wl] &= ~LowMask((last & 63) + 1);
    }

    public void SetAll()
    {
        for (int w = 0; w < Words; w++)
            _words[w] = ~0UL;
    }

    public void ClearAll()
    {
        for (int w = 0; w < Words; w++)
            _words[w] = 0;
    }

    /// <summary>popcntRange: how many of bits [i, i+n) are set. n = 0 gives 0.</summary>
    public int PopcntRange(int i, int n)
    {
        Debug.Assert(i >= 0 && n >= 0 && i + n <= MallocConstants.PallocChunkPages);
        if (n == 0)
            return 0;
        int last = i + n - 1;
        int wi = i >> 6, wl = last >> 6;
        if (wi == wl)
            return BitOperations.PopCount(_words[wi] & RangeMask(i & 63, n));
        int count = BitOperations.PopCount(_words[wi] >> (i & 63));
        for (int w = wi + 1; w < wl; w++)
            count += BitOperations.PopCount(_words[w]);
        return count + BitOperations.PopCount(_words[wl] & LowMask((last & 63) + 1));
    }

    /// <summary>Bits [0, n) of a word, 1 &lt;= n &lt;= 64.</summary>
    internal static ulong LowMask(int n) => n >= 64 ? ~0UL : (1UL << n) - 1;

    /// <summary>Bits [lo, lo+n) of a word, lo + n &lt;= 64, n &gt;= 1.</summary>
    internal static ulong RangeMask(int lo, int n) => LowMask(n) << lo;
}

/// <summary>pallocBits: the allocation bitmap of one chunk, 1 = page in use.</summary>
internal unsafe struct PallocBits
{
    /// <summary>The "nothing fits" index returned by the searches (Go's ^uint(0)).</summary>
    public const int NotFound = -1;

    private PageBits _bits;

    /// <summary>Word <paramref name="w"/> of the bitmap (0..7).</summary>
    public ulong this[int w]
    {
        get => _bits[w];
        set => _bits[w] = value;
    }

    public bool Get(int i) => _bits.Get(i);

    /// <summary>allocRange: marks pages [i, i+n) in use.</summary>
    public void AllocRange(int i, int n) => _bits.SetRange(i, n);

    /// <summary>allocAll: marks every page in use.</summary>
    public void AllocAll() => _bits.SetAll();

    /// <summary>free1: marks page i free.</summary>
    public void Free1(int i) => _bits.Clear(i);

    /// <summary>free: marks pages [i, i+n) free.</summary>
    public void Free(int i, int n) => _bits.ClearRange(i, n);

    /// <summary>freeAll: marks every page free.</summary>
    public void FreeAll() => _bits.ClearAll();

    /// <summary>pages64: the in-use bits of the 64-page aligned block holding page i.</summary>
    public ulong Pages64(int i) => _bits.Block64(i);

    /// <summary>popcntRange: in-use pages among [i, i+n).</summary>
    public int PopcntRange(int i, int n) => _bits.PopcntRange(i, n);

    /// <summary>
    /// find: the lowest index of a run of <paramref name="npages"/> free pages at or after the word
    /// holding <paramref name="searchIdx"/>, and the first free page seen on the way (the next
    /// search may start there). Callers guarantee every page before searchIdx is in use, so starting
    /// at the word boundary finds nothing lower. Returns (NotFound, _) if nothing fits; the second
    /// value is then only meaningful when it is not NotFound. For npages = 1 both values are equal.
    /// </summary>
    public (int Index, int SearchIdx) Find(int npages, int searchIdx)
    {
        Debug.Assert(npages >= 1 && (uint)searchIdx < MallocConstants.PallocChunkPages);
        if (npages == 1)
        {
            int i = Find1(searchIdx);
            return (i, i);
        }
        if (npages <= 64)
            return FindSmallN(npages, searchIdx);
        return FindLargeN(npages, searchIdx);
    }

    /// <summary>find1: the first free page at or after searchIdx's word, or NotFound.</summary>
    public int Find1(int searchIdx)
    {
        for (int w = searchIdx >> 6; w < PageBits.Words; w++)
        {
            ulong x = _bits[w];
            if (x != ~0UL)
                return (w << 6) + BitOperations.TrailingZeroCount(~x);
        }
        return NotFound;
    }

    /// <summary>
    /// findSmallN, 2 &lt;= npages &lt;= 64: such a run lies inside one word or straddles exactly one
    /// word boundary. Per word: first the run made of the previous word's free top bits and this
    /// word's free bottom bits (it starts lowest), then a run inside the word (findBitRange64).
    /// Returns (NotFound, first free page seen or NotFound) on failure.
    /// </summary>
    public (int Index, int SearchIdx) FindSmallN(int npages, int searchIdx)
    {
        Debug.Assert(npages is >= 1 and <= 64);
        int carried = 0; // free pages at the top of the previous word
        int newSearchIdx = NotFound;
        for (int w = searchIdx >> 6; w < PageBits.Words; w++)
        {
            ulong x = _bits[w];
            if (x == ~0UL)
            {
                carried = 0;
                continue;
            }
            if (newSearchIdx == NotFound)
                newSearchIdx = (w << 6) + BitOperations.TrailingZeroCount(~x);
            int low = BitOperations.TrailingZeroCount(x); // 64 when the word is all free
            if (carried + low >= npages)
                return ((w << 6) - carried, newSearchIdx);
            int inner = FindBitRange64(~x, npages);
            if (inner < 64)
                return ((w << 6) + inner, newSearchIdx);
            carried = BitOperations.LeadingZeroCount(x);
        }
        return (NotFound, newSearchIdx);
    }

    /// <summary>
    /// findLargeN, npages &gt; 64: such a run always crosses a word boundary, so it is a free top
    /// of one word, zero or more all-free words, and a free bottom of a later word. Tracks the
    /// current run (start, size) word by word. Returns (NotFound, first free page seen or NotFound).
    /// </summary>
    public (int Index, int SearchIdx) FindLargeN(int npages, int searchIdx)
    {
        Debug.Assert(npages > 64);
        int start = NotFound, size = 0, newSearchIdx = NotFound;
        for (int w = searchIdx >> 6; w < PageBits.Words; w++)
        {
            ulong x = _bits[w];
            if (x == ~0UL)
            {
                size = 0;
                continue;
            }
            if (newSearchIdx == NotFound)
                newSearchIdx = (w << 6) + BitOperations.TrailingZeroCount(~x);
            if (size == 0)
            {
                // No run in progress: start one with this word's free top bits.
                size = BitOperations.LeadingZeroCount(x);
                start = (w << 6) + 64 - size;
                continue;
            }
            int low = BitOperations.TrailingZeroCount(x);
            if (size + low >= npages)
                return (start, newSearchIdx);
            if (low < 64)
            {
                // The run ends inside this word: restart from its free top bits.
                size = BitOperations.LeadingZeroCount(x);
                start = (w << 6) + 64 - size;
                continue;
            }
            size += 64;
        }
        return (NotFound, newSearchIdx);
    }

    /// <summary>
    /// findBitRange64: the lowest bit index of a run of <paramref name="n"/> consecutive 1 bits in
    /// <paramref name="c"/>, or a value &gt;= 64 if there is none. Each step ANDs c with a shifted
    /// copy of itself so that a set bit means "the run starting here is at least covered long";
    /// covered at most doubles per step, so n = 64 takes six steps. n must be &gt; 0 (Go's
    /// precondition); n &lt;= 0 returns 0 here, an empty run fitting at the first bit.
    /// </summary>
    public static int FindBitRange64(ulong c, int n)
    {
        if (n <= 1)
            return n <= 0 ? 0 : BitOperations.TrailingZeroCount(c);
        if (n > 64)
            return 64;
        int covered = 1;
        while (covered < n && c != 0)
        {
            int shift = Math.Min(covered, n - covered);
            c &= c >> shift;
            covered += shift;
        }
        return BitOperations.TrailingZeroCount(c); // 64 when c == 0
    }

    /// <summary>
    /// summarize: (free pages at the start, longest free run, free pages at the end). A first pass
    /// over the words finds start, end and every run that touches a word boundary. A run wholly
    /// inside one word is at most 62 long, so the second pass runs only if the best so far is
    /// shorter; it then looks between each word's lowest and highest in-use bit for longer runs.
    /// </summary>
    public PallocSum Summarize()
    {
        const int NotSet = -1;
        int start = NotSet, max = 0, run = 0;
        for (int w = 0; w < PageBits.Words; w++)
        {
            ulong x = _bits[w];
            if (x == 0)
            {
                run += 64;
                continue;
            }
            run += BitOperations.TrailingZeroCount(x);
            if (start == NotSet)
                start = run;
            if (run > max)
                max = run;
            run = BitOperations.LeadingZeroCount(x);
        }
        if (start == NotSet)
            return PallocSum.FreeChunk;
        int end = run;
        if (end > max)
            max = end;
        if (max >= 62)
            return PallocSum.Pack(start, max, end);

        for (int w = 0; w < PageBits.Words; w++)
        {
            ulong x = _bits[w];
            int lo = BitOperations.TrailingZeroCount(x);
            int hi = 63 - BitOperations.LeadingZeroCount(x);
            if (hi - lo - 1 <= max)
                continue; // the free bits strictly between lo and hi cannot beat max
            ulong inner = ~x & PageBits.RangeMask(lo + 1, hi - lo - 1);
            // Raise max while a longer run exists: at most ~10 rounds, as longer runs take more bits.
            while (true)
            {
                int at = FindBitRange64(inner, max + 1);
                if (at >= 64)
                    break;
                max = BitOperations.TrailingZeroCount(~(inner >> at));
            }
        }
        return PallocSum.Pack(start, max, end);
    }

    /// <summary>Bit-at-a-time summarize (Go's SummarizeSlow test model): obviously right, slow.</summary>
    public PallocSum SummarizeSlow()
    {
        const int N = MallocConstants.PallocChunkPages;
        int start = 0, end = 0, max = 0, run = 0;
        while (start < N && !Get(start))
            start++;
        while (end < N && !Get(N - 1 - end))
            end++;
        for (int i = 0; i < N; i++)
        {
            run = Get(i) ? 0 : run + 1;
            if (run > max)
                max = run;
        }
        return PallocSum.Pack(start, max, end);
    }
}

/// <summary>pallocData: one chunk's allocation and scavenged bitmaps.</summary>
internal struct PallocData
{
    public PallocBits Alloc;
    public PageBits Scavenged;

    /// <summary>allocRange: marks pages [i, i+n) in use and clears their scavenged bits.</summary>
    public void AllocRange(int i, int n)
    {
        Alloc.AllocRange(i, n);
        Scavenged.ClearRange(i, n);
    }

    /// <summary>allocAll: marks every page in use and clears every scavenged bit.</summary>
    public void AllocAll()
    {
        Alloc.AllocAll();
        Scavenged.ClearAll();
    }
}
