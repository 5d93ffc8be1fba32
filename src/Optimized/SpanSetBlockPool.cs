// SpanSetBlockPool: the free blocks shared by the SpanSets of one heap (mirrors spanSetBlockAlloc
// in runtime/mspanset.go and the lock-free stack of runtime/lfstack.go). Go keeps one global pool;
// here each heap owns one and hands it to its sets, so that disposing the heap frees everything.
// Owns: the native chunks the blocks are carved from (SysAlloc, 64 KiB, 15 blocks each, linked
// through their first word) and the free-block stack. Does not own: the blocks a SpanSet currently
// holds in its spine (the set returns them through Free when their last popper finishes).
// Invariants: a block is either on the free stack or in exactly one spine entry; a free block has
// Popped == 0 and every slot 0; block memory is never unmapped before Dispose, which is what makes
// the lock-free stack safe to read (a popper may read Next of a block another thread just took).
// ABA guard: the stack word packs the block address with the block's own push count (Go's
// lfstackPack), so a block popped and pushed back while a popper was looking compares different.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

/// <summary>
/// spanSetBlock: 512 span slots plus the header the pool and the popped count need. Lives in
/// native memory, 64-byte aligned; the slots start on their own cache line.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Bytes)]
internal unsafe struct SpanSetBlock
{
    public const int SpansOffset = HeadTailIndex.CacheLineSize;
    public const int Bytes = SpansOffset + SpanSet.SpanSetBlockEntries * 8; // 4160, a multiple of 64

    /// <summary>lfnode.next: the packed stack word below this block while it is free. Atomic.</summary>
    [FieldOffset(0)] public long Next;

    /// <summary>lfnode.pushcnt: how often this block was pushed on the free stack. Written by the pusher that owns the block.</summary>
    [FieldOffset(8)] public long PushCnt;

    /// <summary>Pops completed on this block since it left the pool. Atomic.</summary>
    [FieldOffset(16)] public int Popped;

    /// <summary>The slot array: span pointers (0 = empty). Each slot is accessed atomically.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint* Spans(SpanSetBlock* b) => (nint*)((byte*)b + SpansOffset);
}

internal sealed unsafe class SpanSetBlockPool : IDisposable
{
    // Blocks come in chunks of this many bytes: a 64-byte header (the next-chunk link), then blocks.
    private const int ChunkBytes = 64 << 10;
    private const int ChunkHeaderBytes = HeadTailIndex.CacheLineSize;
    internal const int BlocksPerChunk = (ChunkBytes - ChunkHeaderBytes) / SpanSetBlock.Bytes;

    private LfStack _stack;                 // free blocks; atomic (padded, see LfStack)
    private readonly object _growLock = new();
    private nint _chunks;                   // newest chunk, linked by its first word; under _growLock
    private nint _carve;                    // next uncarved block in the newest chunk; under _growLock
    private int _carveLeft;                 // blocks left to carve there; under _growLock
    private int _allocatedBlocks;           // blocks ever carved; written under _growLock, read atomically

    /// <summary>Blocks carved so far (free or in use). Never decreases before Dispose.</summary>
    public int AllocatedBlocks
    {
        // Reads the carved total; a concurrent AllocSlow may raise it right after.
        get => Volatile.Read(ref _allocatedBlocks);
    }

    /// <summary>Native bytes held (whole chunks).</summary>
    public long SysBytes => (long)((AllocatedBlocks + BlocksPerChunk - 1) / BlocksPerChunk) * ChunkBytes;

    /// <summary>alloc: a block with Popped == 0 and every slot 0, from the free stack or a chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SpanSetBlock* Alloc()
    {
        SpanSetBlock* b = _stack.Pop();
        return b != null ? b : AllocSlow();
    }

    /// <summary>free: returns a block whose slots are all 0 (its last popper cleared them).</summary>
    public void Free(SpanSetBlock* b)
    {
        Debug.Assert(SpanSetBlock.Spans(b)[0] == 0 && SpanSetBlock.Spans(b)[SpanSet.SpanSetBlockEntries - 1] == 0);
        // Resets the pop count before the push below publishes the block; nobody else holds it now.
        Volatile.Write(ref b->Popped, 0);
        _stack.Push(b);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SpanSetBlock* AllocSlow()
    {
        lock (_growLock)
        {
            if (_carveLeft == 0)
            {
                nint chunk = SysMem.SysAlloc(ChunkBytes); // zeroed, page-aligned
                *(nint*)chunk = _chunks;
                _chunks = chunk;
                _carve = chunk + ChunkHeaderBytes;
                _carveLeft = BlocksPerChunk;
            }
            var b = (SpanSetBlock*)_carve;
            _carve += SpanSetBlock.Bytes;
            _carveLeft--;
            // Publishes the new total for AllocatedBlocks readers; the block itself goes only to our caller.
            Volatile.Write(ref _allocatedBlocks, _allocatedBlocks + 1);
            return b;
        }
    }

    /// <summary>Unmaps every chunk. Only when no set of this pool is in use any more.</summary>
    public void Dispose()
    {
        lock (_growLock)
        {
            for (nint c = _chunks; c != 0;)
            {
                nint next = *(nint*)c;
                SysMem.SysFree(c, ChunkBytes);
                c = next;
            }
            _chunks = _carve = 0;
            _carveLeft = 0;
            _allocatedBlocks = 0;
            _stack = default;
        }
    }

    /// <summary>
    /// lfstack: a Treiber stack of blocks. The head word is (block address &gt;&gt; 6) &lt;&lt; 22 | the
    /// block's push count mod 2^22: addresses have 48 significant bits and blocks are 64-byte
    /// aligned, so 42 bits hold the address and 22 are left for the count (Go: 3-bit pointer
    /// alignment, 19-bit count). 0 means empty. Padded like HeadTailIndex: every set of the heap
    /// pushes and pops here.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 2 * HeadTailIndex.CacheLineSize)]
    private struct LfStack
    {
        private const int AddrBits = MallocConstants.HeapAddrBits;
        private const int AlignShift = 6; // log2(CacheLineSize): blocks are 64-byte aligned
        private const int CntBits = 64 - AddrBits + AlignShift;
        private const long CntMask = (1L << CntBits) - 1;

        [FieldOffset(HeadTailIndex.CacheLineSize)]
        private long _head; // atomic

        public void Push(SpanSetBlock* node)
        {
            long cnt = ++node->PushCnt;
            long packed = Pack(node, cnt);
            if (Unpack(packed) != node)
                ThrowBadPacking(node, cnt, packed);
            while (true)
            {
                // Reads the current top; other threads may replace it before our CAS, then we retry.
                long old = Volatile.Read(ref _head);
                // Links the node to the top we saw; the node is ours alone until the CAS publishes it.
                Volatile.Write(ref node->Next, old);
                // Publishes the node (and Popped = 0 written before) as the new top if the top is unchanged.
                if (Interlocked.CompareExchange(ref _head, packed, old) == old)
                    return;
            }
        }

        public SpanSetBlock* Pop()
        {
            while (true)
            {
                // Reads the top; it may be popped and even pushed back by others before our CAS.
                long old = Volatile.Read(ref _head);
                if (old == 0)
                    return null;
                SpanSetBlock* node = Unpack(old);
                // Reads the link below the top. If another thread took the node meanwhile this value
                // may be stale, but then the head word no longer equals old (its push count moved on)
                // and the CAS below fails; the memory stays mapped, so the read itself is safe.
                long next = Volatile.Read(ref node->Next);
                // Takes the node if the top is still exactly (node, count) as read.
                if (Interlocked.CompareExchange(ref _head, next, old) == old)
                    return node;
            }
        }

        private static long Pack(SpanSetBlock* node, long cnt) =>
            (long)((ulong)node >> AlignShift << CntBits) | (cnt & CntMask);

        private static SpanSetBlock* Unpack(long packed) =>
            (SpanSetBlock*)((ulong)packed >> CntBits << AlignShift);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowBadPacking(SpanSetBlock* node, long cnt, long packed) =>
            throw new InvalidOperationException(
                $"lfstack push: invalid packing: node = 0x{(nint)node:x}, cnt = 0x{cnt:x}, packed = 0x{packed:x} -> node = 0x{(nint)Unpack(packed):x}");
    }
}
