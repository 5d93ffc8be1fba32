// HeapSnapshot: a neutral, implementation-free copy of a heap's state at a quiescent point, taken
// by each heap's MHeap.Verify.cs under its lock and judged by HeapChecker (spec/SPEC.md section 3).
// Plain data: spans by index (referenced from the arenas' page maps, the mcache slots and the span
// sets), page-allocator bits per page, page caches, span sets, counters. No Go counterpart (Go
// checks these piecemeal with throw()s).
using System.Collections;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GoAlloc;

/// <summary>One heap's state as plain data; span references are indices into <see cref="Spans"/>, -1 for none.</summary>
internal sealed unsafe record HeapSnapshot
{
    /// <summary>The heap's sweepgen (sg).</summary>
    public uint SweepGen { get; init; }
    /// <summary>Whether the mark phase is on.</summary>
    public bool Marking { get; init; }
    /// <summary>Whether sweep is done (section 2.5).</summary>
    public bool SweepDone { get; init; }
    /// <summary>Sweep classes [0, SweepCursor) have empty unswept sets; <see cref="NumSweepClasses"/> = drained.</summary>
    public int SweepCursor { get; init; }
    /// <summary>The sweep-state word's count, for a heap that has one (Optimized); else null.</summary>
    public int? Sweepers { get; init; }
    /// <summary>Arenas in address order.</summary>
    public Arena[] Arenas { get; init; } = [];
    /// <summary>Every span referenced anywhere (page maps, mcache slots, span sets, overflow list).</summary>
    public Span[] Spans { get; init; } = [];
    /// <summary>Grown page-allocator chunks in address order.</summary>
    public Chunk[] Chunks { get; init; } = [];
    /// <summary>Per P: its mcache and page cache.</summary>
    public Cache[] Ps { get; init; } = [];
    /// <summary>Every mcentral's four span sets.</summary>
    public SpanSet[] Sets { get; init; } = [];
    /// <summary>The swept-span overflow list (Optimized), standing for the sets its spans could not join.</summary>
    public int[] Overflow { get; init; } = [];
    /// <summary>Mapped arena bytes not yet grown into the page allocator (counted as released).</summary>
    public long UngrownBytes { get; init; }
    /// <summary>The raw counters: heap_sys, arenas, heap_released, heap_inuse.</summary>
    public long HeapSys { get; init; }
    /// <summary>The arenas counter.</summary>
    public long ArenaCount { get; init; }
    /// <summary>heap_released.</summary>
    public long HeapReleased { get; init; }
    /// <summary>heap_inuse.</summary>
    public long HeapInuse { get; init; }
    /// <summary>The stats as ReadStats reports them (heap_alloc, by_size, large counts).</summary>
    public HeapStats Stats { get; init; } = new();

    /// <summary>Sweep classes: two (full, partial unswept) per span class.</summary>
    public const int NumSweepClasses = MallocConstants.NumSpanClasses * 2;

    /// <summary>The span the page maps give for address p, or -1 (spanOf over the snapshot's arenas).</summary>
    public int SpanAt(nint p)
    {
        foreach (Arena a in Arenas)
        {
            if (p >= a.Base && p - a.Base < MallocConstants.HeapArenaBytes)
                return a.PageSpans[(int)((p - a.Base) >> MallocConstants.PageShift)];
        }
        return -1;
    }

    /// <summary>Whether p lies in a grown chunk.</summary>
    public bool InChunk(nint p) => Array.Exists(Chunks, c => p >= c.Base && p - c.Base < MallocConstants.PallocChunkBytes);

    /// <summary>The first count bits of a bitmap (bit i = byte i/8, bit i%8).</summary>
    public static unsafe BitSet Bits(byte* bits, int count)
    {
        var r = new BitSet(count);
        r.CopyFrom(new ReadOnlySpan<byte>(bits, (count + 7) >> 3));
        return r;
    }

    /// <summary>
    /// The pages of an arena at or past zeroedBase (when it is a page boundary inside the arena) whose
    /// first or last word is not zero, for pages inGrown says are mapped. A word is read only when the
    /// kernel backs its OS page (SysMem.BackedPages; every word when pagemap is unreadable): an
    /// unbacked page reads as zero, and reading it would fault in the zero page, which for a fresh
    /// arena is 16,384 faults and most of a Verify's time.
    /// </summary>
    public static bool[] DirtyPages(nint arenaBase, long zeroedBase, Func<nint, bool> inGrown) =>
        DirtyPages(arenaBase, zeroedBase, inGrown, SysMem.BackedPages(arenaBase, (nint)MallocConstants.HeapArenaBytes));

    /// <summary>DirtyPages given the arena's backed OS pages (null: read every word).</summary>
    internal static unsafe bool[] DirtyPages(nint arenaBase, long zeroedBase, Func<nint, bool> inGrown, bool[]? backed)
    {
        bool[] dirty = new bool[MallocConstants.PagesPerArena];
        if (zeroedBase < 0 || zeroedBase > MallocConstants.HeapArenaBytes || zeroedBase % MallocConstants.PageSize != 0)
            return dirty;
        bool NonZero(nint word) => (backed == null || backed[(word - arenaBase) / SysMem.PhysPageSize]) && *(long*)word != 0;
        for (int pg = (int)(zeroedBase >> MallocConstants.PageShift); pg < dirty.Length; pg++)
        {
            nint page = arenaBase + pg * (nint)MallocConstants.PageSize;
            dirty[pg] = inGrown(page) && (NonZero(page) || NonZero(page + (nint)MallocConstants.PageSize - 8));
        }
        return dirty;
    }

    /// <summary>mSpanState.</summary>
    public enum State { Dead, InUse, Manual }

    /// <summary>An arena: its base, whether the arena index finds it there, zeroedBase, the page map (span per page) and the pages found dirty past zeroedBase.</summary>
    public sealed record Arena(nint Base, bool Indexed, long ZeroedBase, int[] PageSpans, bool[] Dirty);

    /// <summary>A span: geometry, counts, sweepgen, state, whether a page map holds it, its bits (as many as the heap keeps).</summary>
    public sealed record Span(nint Base, int NPages, int SpanClass, long ElemSize, int NElems, nint Limit, int AllocCount, int FreeIndex, uint SweepGen, State State)
    {
        /// <summary>Whether some arena's page map holds the span.</summary>
        public bool Mapped { get; init; }
        /// <summary>Whether the span is flagged as in the overflow list.</summary>
        public bool InOverflow { get; init; }
        /// <summary>The span's division magic, for a heap that keeps one (Optimized).</summary>
        public DivMagic? Div { get; init; }
        /// <summary>allocBits, as many bits as the heap keeps.</summary>
        public BitSet AllocBits { get; init; } = [];
        /// <summary>gcmarkBits, as many bits as the heap keeps.</summary>
        public BitSet MarkBits { get; init; } = [];
        /// <summary>The size class.</summary>
        public int SizeClass => SpanClass >> 1;
        /// <summary>The first address past the span's pages.</summary>
        public nint End => Base + NPages * (nint)MallocConstants.PageSize;
        /// <summary>Whether object i is allocated (i &lt; freeindex or its alloc bit set).</summary>
        public bool IsAllocated(int i) => i < FreeIndex || (i < AllocBits.Length && AllocBits[i]);

        /// <inheritdoc/>
        public override string ToString() =>
            $"span[0x{Base:x}+{NPages}p class={SpanClass} elem={ElemSize} n={NElems} alloc={AllocCount} free={FreeIndex} sg={SweepGen} {State}]";
    }

    /// <summary>
    /// A span's bitmap copied out: a bit per object in 64-bit words, so that the snapshot of a heap
    /// of millions of small objects stays a few bits per object (a bool per bit took a byte, and the
    /// snapshot of a 200 MB heap of 16-byte objects outgrew a 128 MiB GC heap). Indexes past Length
    /// are the caller's to avoid (the checker tests Length first).
    /// </summary>
    [CollectionBuilder(typeof(BitSet), nameof(Create))]
    public sealed class BitSet : IEnumerable<bool>
    {
        private readonly ulong[] _words;

        /// <summary>length bits, all clear.</summary>
        public BitSet(int length)
        {
            _words = new ulong[(length + 63) >> 6];
            Length = length;
        }

        /// <summary>The number of bits.</summary>
        public int Length { get; }

        /// <summary>Bit i.</summary>
        public bool this[int i]
        {
            get => (_words[i >> 6] & (1UL << i)) != 0;
            set => _words[i >> 6] = value ? _words[i >> 6] | (1UL << i) : _words[i >> 6] & ~(1UL << i);
        }

        /// <summary>Bits [64w, 64w + 64) as a word (bit k of the word = bit 64w + k); 0 past the end.</summary>
        public ulong Word(int w) => w < _words.Length ? _words[w] : 0;

        /// <summary>
        /// Sets the bits from a byte bitmap (bit i = byte i/8, bit i%8): on a little-endian machine
        /// those bytes are the words themselves. Bits at or past Length stay clear.
        /// </summary>
        internal void CopyFrom(ReadOnlySpan<byte> bitmap)
        {
            bitmap.CopyTo(MemoryMarshal.AsBytes(_words.AsSpan()));
            if ((Length & 63) != 0)
                _words[^1] &= (1UL << Length) - 1;
        }

        /// <summary>A copy of bits (a collection expression: [], [true, false]).</summary>
        public static BitSet Create(ReadOnlySpan<bool> bits)
        {
            var r = new BitSet(bits.Length);
            for (int i = 0; i < bits.Length; i++)
                r[i] = bits[i];
            return r;
        }

        /// <summary>A copy of bits (tests build spans from bool arrays).</summary>
        public static implicit operator BitSet(bool[] bits) => Create(bits);

        /// <inheritdoc/>
        public IEnumerator<bool> GetEnumerator()
        {
            for (int i = 0; i < Length; i++)
                yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>A grown chunk's page bits.</summary>
    public sealed record Chunk(nint Base, bool[] Alloc, bool[] Scavenged);

    /// <summary>A P's mcache (slot per span class, tiny block, flushGen) and page cache (base, free and scavenged masks).</summary>
    public sealed record Cache(int Id, uint FlushGen, int[] Slots, nint Tiny, long TinyOffset, nint PageCacheBase, ulong PageCacheFree, ulong PageCacheScav);

    /// <summary>One span set of mcentral[SpanClass]: partial or full, swept or unswept, its entries in order.</summary>
    public sealed record SpanSet(int SpanClass, bool Full, bool Swept, int[] Members)
    {
        /// <summary>Its name in messages, e.g. mcentral[10].partialSwept.</summary>
        public override string ToString() => $"mcentral[{SpanClass}].{(Full ? "full" : "partial")}{(Swept ? "Swept" : "Unswept")}";
    }
}
