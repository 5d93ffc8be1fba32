// SpanSet: a lock-free FIFO set of spans (mirrors spanSet in runtime/mspanset.go). A span is the
// native address of its off-heap mspan record (nint, 0 = none). Push and Pop are safe to call
// concurrently with each other; Reset, Snapshot and Dispose are not. Single-threaded, the order is
// the Reference's (a queue): Pop returns the oldest span. Like the Reference's set it knows nothing
// of span states: stale entries (INV-SWEEP-2) are the poppers' business.
// Structure, all in native memory: a growable spine (an array of block pointers) and fixed blocks of
// 512 slots taken from the heap's SpanSetBlockPool. Position i of the set lives in block i / 512,
// slot i % 512. One packed word (HeadTailIndex) holds head and tail: a pusher reserves a position
// with an atomic add on the tail, a popper claims one with a CAS on the head.
// The spine is read without locks; adding a block or growing the spine takes _spineLock. A grown
// spine is copied; the old one is kept (a lock-free reader may still be using it) and unmapped only
// by Dispose, as Go leaks it.
// Invariants: head <= tail; spine entries [0, spineLen) were written before spineLen was published,
// and an entry is cleared only by the last popper of its block (all 512 slots popped) or by Reset;
// every slot in [head, tail) holds a span once its pusher finishes.
// Allowed race (as in Go): Pop may report empty while a push that needs a new block is still
// adding it, even though the tail already counts that push. Callers treat an empty result as
// "nothing here right now", never as proof that the set is empty.
// Differs from Go: a push makes sure the blocks for the next BlocksAhead positions are in the
// spine *before* it reserves its position, so a refused mapping (spine growth or a new block:
// OutOfMemoryException) happens while nothing has changed. Go reserves first and treats the
// failure as fatal. Only more than BlocksAhead pushes reserved between one pusher's look and its
// reservation can still make a reserved position wait for its block (and so fail after it); that
// needs as many threads pushing to one set at once.
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

internal sealed unsafe partial class SpanSet : IDisposable
{
    /// <summary>spanSetBlockEntries: slots per block (4 KiB of pointers).</summary>
    public const int SpanSetBlockEntries = 512;

    /// <summary>spanSetInitSpineCap: block pointers in the first spine (enough for a 1 GiB heap of 8 KiB spans).</summary>
    public const int SpanSetInitSpineCap = 256;

    // Each spine allocation starts with this header: [0] = the previous (smaller) spine allocation,
    // [1] = its size in bytes, so Dispose can unmap the whole chain. Entries follow on a new cache line.
    private const int SpineHeaderBytes = HeadTailIndex.CacheLineSize;

    private readonly SpanSetBlockPool _pool;
    private readonly object _spineLock = new();
    private nint _spine;     // nint[spineCap] of block pointers; the pointer is read atomically, written under _spineLock
    private nint _spineLen;  // entries in use; read atomically, written under _spineLock
    private nint _spineCap;  // entries allocated; under _spineLock
    private HeadTailIndex _index; // atomic; padded onto its own cache line

    /// <summary>
    /// Positions past the tail whose blocks a push adds before it reserves its own (see the
    /// header); 0 turns the look-ahead off (Go's order: tests of the race it leaves).
    /// </summary>
    internal uint BlocksAhead = DefaultBlocksAhead;

    /// <summary>More concurrent pushers to one set than any heap has threads.</summary>
    public const uint DefaultBlocksAhead = 64;

    public SpanSet(SpanSetBlockPool pool) => _pool = pool;

    // ===================================================================================
    // push / pop
    // ===================================================================================

    /// <summary>push: adds span <paramref name="s"/> (non-zero) at the tail.</summary>
    public void Push(nint s)
    {
        if (s == 0)
            ThrowZeroSpan();

        // Reads the tail (a racing pusher may move it on) and adds the blocks up to BlocksAhead
        // past it while no position is reserved yet: a refusal there leaves the set as it was.
        uint ahead = BlocksAhead;
        if (ahead != 0)
        {
            nint aheadTop = (nint)((HeadTailIndex.Tail(_index.Load()) + ahead) / SpanSetBlockEntries);
            if (aheadTop >= Volatile.Read(ref _spineLen))
                AddBlock(aheadTop);
        }

        uint cursor = HeadTailIndex.Tail(_index.IncTail()) - 1;
        nint top = (nint)(cursor / SpanSetBlockEntries);
        nint bottom = (nint)(cursor % SpanSetBlockEntries);

        SpanSetBlock* block;
        // Reads how many spine entries are published; a concurrent pusher may be adding more.
        if (top < Volatile.Read(ref _spineLen))
        {
            // Reads the current spine. It may be an older copy than the newest, but every copy holds
            // our block: entry top was written before spineLen covered it.
            nint* spine = (nint*)Volatile.Read(ref _spine);
            // Reads our block. It cannot be freed meanwhile: our own slot in it is not popped yet.
            block = (SpanSetBlock*)Volatile.Read(ref spine[top]);
            if (block == null)
                ThrowNullBlock(top);
        }
        else
        {
            block = AddBlock(top);
        }
        Debug.Assert(block != null);

        // Publishes the span in our reserved slot. A popper that claimed this position may be
        // spinning on the slot; it sees 0 until this store.
        Volatile.Write(ref SpanSetBlock.Spans(block)[bottom], s);
    }

    /// <summary>pop: removes and returns the oldest span, or 0 if none is available (see the header).</summary>
    public nint Pop()
    {
        // A plain look first: an empty set is the common case for the sweeper's scan over all 272
        // sets. A stale read may miss a racing push and report empty, which pop may do anyway
        // (see the header); single-threaded the read is exact.
        ulong plain = _index.LoadPlain();
        if (HeadTailIndex.Head(plain) >= HeadTailIndex.Tail(plain))
            return 0;
        // Go's loop jumps to `claimed:` with a goto; a flag does the same here (a goto out of the
        // loop also made every Stryker mutant of Pop a compile error).
        uint head = 0;
        bool claimed = false;
        while (!claimed)
        {
            ulong ht = _index.Load();
            head = HeadTailIndex.Head(ht);
            if (head >= HeadTailIndex.Tail(ht))
                return 0; // empty, as far as we can tell

            // The position we want may belong to a block a pusher is still adding (maybe growing the
            // spine too). Rather than wait for it, report empty, as Go does.
            // Reads the published spine length; it only grows between Resets.
            if (Volatile.Read(ref _spineLen) <= (nint)(head / SpanSetBlockEntries))
                return 0;

            // Claims the head. A push moving the tail makes the CAS fail with the head unchanged: retry
            // with the fresh word. If another popper moved the head, start over (the set may be empty now).
            while (!(claimed = _index.CasHead(ht)))
            {
                ht = _index.Load();
                if (HeadTailIndex.Head(ht) != head)
                    break;
            }
        }
        nint top = (nint)(head / SpanSetBlockEntries);
        nint bottom = (nint)(head % SpanSetBlockEntries);

        // Reads the spine; maybe a stale copy, but spineLen covered top before we claimed, so every
        // copy that recent has our block, and the block stays until we count our pop below.
        nint* blockp = (nint*)Volatile.Read(ref _spine) + top;
        // Reads our block: never 0 here, entries are written before spineLen covers them.
        var block = (SpanSetBlock*)Volatile.Read(ref *blockp);
        if (block == null)
            ThrowNullBlock(top);
        nint* slot = SpanSetBlock.Spans(block) + bottom;

        // Reads the span. The pusher that reserved this position may not have stored it yet.
        nint s = Volatile.Read(ref *slot);
        if (s == 0)
            s = WaitForPush(slot);

        // Clears the slot so a recycled block starts empty and a stale reader finds 0, not a span.
        if (!Seeded.SpanSetPopLeavesSlot())
            Volatile.Write(ref *slot, 0);

        // Counts our pop. The popper that brings the count to 512 is the last one to finish with the
        // block (not necessarily the one that claimed slot 511): every other popper and every pusher
        // of this block is done, so it may recycle the block.
        if (Seeded.SpanSetLastClaimerFreesBlock(this, block, blockp, bottom))
            return s;
        if (Interlocked.Increment(ref block->Popped) == SpanSetBlockEntries)
        {
            // Unpublishes the block. Nobody reads this entry again before a Reset: head is past it.
            Volatile.Write(ref *blockp, 0);
            _pool.Free(block);
        }
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNullBlock(nint top) =>
        throw new HeapInvariantException("INV-SPANSET-3", $"spanSet: spine entry {top} is covered by spineLen or the head but holds no block");

    // The pusher of this position has reserved it but not yet stored its span; the window is a few
    // instructions wide, so yield (a scheduling point under Coyote) and look again.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static nint WaitForPush(nint* slot)
    {
        nint s;
        while (true)
        {
            Thread.Yield();
            // Reads the slot again; it turns non-zero exactly once, when the pusher publishes.
            s = Volatile.Read(ref *slot);
            if (s != 0)
                return s;
        }
    }

    // The slow half of push: block `top` is not in the spine yet. Under the lock, adds blocks until
    // the spine covers top, growing the spine when full.
    // Go 1.16 adds only entry `top` and sets spineLen + 1, which leaves a nil entry below spineLen
    // if a pusher of block k+1 takes the lock before every pusher of block k (possible only with
    // more than 512 pushers in flight). Filling every missing entry up to top, in order, keeps
    // [0, spineLen) free of holes; spec/models/spanset.pml checks both (BUG_GO116_OVERTAKE).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private SpanSetBlock* AddBlock(nint top)
    {
        lock (_spineLock)
        {
            // Only this lock writes _spineLen and _spine: plain reads are current here, though another
            // pusher may have added our block while we waited for the lock.
            nint spineLen = _spineLen;
            if (top >= spineLen)
            {
                if (Seeded.SpanSetSpineLenBeforeBlock(this, top, spineLen, out SpanSetBlock* added))
                    return added;
                for (; spineLen <= top; spineLen++)
                {
                    if (spineLen == _spineCap)
                        GrowSpine();
                    SpanSetBlock* fresh = _pool.Alloc();
                    // Publishes the block (Popped 0, every slot 0) in the spine; lock-free readers
                    // ignore the entry until spineLen covers it below.
                    Volatile.Write(ref ((nint*)_spine)[spineLen], (nint)fresh);
                }
                // Publishes the new length after the entries: a reader that sees it finds the blocks.
                Volatile.Write(ref _spineLen, spineLen);
            }
            return (SpanSetBlock*)((nint*)_spine)[top];
        }
    }

    // Doubles the spine (or makes the first one) by copying to a new native array. Under _spineLock.
    private void GrowSpine()
    {
        nint newCap = _spineCap == 0 ? SpanSetInitSpineCap : _spineCap * 2;
        nint mem = SysMem.SysAlloc(SpineHeaderBytes + newCap * sizeof(nint)); // zeroed
        var newSpine = (nint*)(mem + SpineHeaderBytes);
        if (_spineCap != 0)
        {
            ((nint*)mem)[0] = _spine - SpineHeaderBytes;
            ((nint*)mem)[1] = SpineHeaderBytes + _spineCap * sizeof(nint);
            // A last popper may clear an entry of the old spine during this copy, and the copy keeps
            // the pointer. Harmless: that entry is behind the head, and no one reads it again before
            // Reset, which only looks at the head's block; AddBlock overwrites it when it is reused.
            Buffer.MemoryCopy((void*)_spine, newSpine, newCap * sizeof(nint), _spineCap * sizeof(nint));
        }
        // Publishes the new spine. Lock-free readers holding the old one keep using it: it stays
        // mapped (until Dispose) and holds every entry they may need.
        Volatile.Write(ref _spine, (nint)newSpine);
        _spineCap = newCap;
    }

    // ===================================================================================
    // quiescent operations
    // ===================================================================================

    /// <summary>
    /// reset: makes an empty set start again at position 0, returning the partly used block at the
    /// head (if any) and the blocks added ahead of the tail to the pool. Throws if the set is not
    /// empty. Not concurrent with anything on this set. Go calls it on the unswept sets at the
    /// start of each GC cycle.
    /// </summary>
    public void Reset()
    {
        ulong ht = _index.Load();
        uint head = HeadTailIndex.Head(ht), tail = HeadTailIndex.Tail(ht);
        if (head < tail)
            ThrowNotEmpty(head, tail);

        // When head catches up with tail inside a block, no popper reaches 512 in it, so it is still
        // in the spine; free it now since positions restart at 0. So are the blocks pushes added
        // ahead of the tail (none of their positions reserved: nothing popped).
        nint top = (nint)(head / SpanSetBlockEntries);
        for (nint k = top; k < _spineLen; k++)
        {
            nint* blockp = (nint*)_spine + k;
            var block = (SpanSetBlock*)*blockp;
            if (block == null)
                continue;
            int popped = block->Popped;
            if (popped == SpanSetBlockEntries)
                ThrowBadBlock("fully empty unfreed span set block found in reset", head, tail, popped);
            // Every reserved position of the block was popped: those below the head in its block.
            if (popped != (k == top ? (int)(head % SpanSetBlockEntries) : 0))
                ThrowBadBlock("span set block with unpopped elements found in reset", head, tail, popped);
            // Unpublishes the block; no concurrent reader exists (quiescent).
            Volatile.Write(ref *blockp, 0);
            _pool.Free(block);
        }
        _index.Reset();
        // Publishes the empty spine; the array and its capacity stay for the next pushes.
        Volatile.Write(ref _spineLen, 0);
    }

    /// <summary>The spans in FIFO order (for Verify). Quiescent use only.</summary>
    public nint[] Snapshot()
    {
        ulong ht = _index.LoadPlain();
        uint head = HeadTailIndex.Head(ht), tail = HeadTailIndex.Tail(ht);
        var spans = new nint[tail - head];
        for (uint i = head; i < tail; i++)
        {
            nint s = 0;
            if ((nint)(i / SpanSetBlockEntries) < _spineLen)
            {
                var block = (SpanSetBlock*)((nint*)_spine)[i / SpanSetBlockEntries];
                if (block != null)
                    s = SpanSetBlock.Spans(block)[i % SpanSetBlockEntries];
            }
            if (s == 0)
                ThrowBadSnapshot(i, head, tail);
            spans[i - head] = s;
        }
        return spans;
    }

    /// <summary>
    /// Unmaps the spine and every older spine. Blocks still in use are not returned: the pool owns
    /// their memory and frees it when it is disposed. Quiescent use only.
    /// </summary>
    public void Dispose()
    {
        lock (_spineLock)
        {
            if (_spine == 0)
                return;
            nint mem = _spine - SpineHeaderBytes;
            nint bytes = SpineHeaderBytes + _spineCap * sizeof(nint);
            while (mem != 0)
            {
                nint prev = ((nint*)mem)[0], prevBytes = ((nint*)mem)[1];
                SysMem.SysFree(mem, bytes);
                (mem, bytes) = (prev, prevBytes);
            }
            _spine = _spineLen = _spineCap = 0;
            _index.Reset();
        }
    }

    // ===================================================================================
    // throw helpers
    // ===================================================================================

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowZeroSpan() =>
        throw new ArgumentException("spanSet push: span pointer is 0 (a popper would wait for it forever)", "s");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotEmpty(uint head, uint tail) =>
        throw new HeapInvariantException("INV-SPANSET-1", $"attempt to clear non-empty span set: head = {head}, tail = {tail}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadBlock(string what, uint head, uint tail, int popped) =>
        throw new HeapInvariantException("INV-SPANSET-2", $"{what}: head = {head}, tail = {tail}, popped = {popped}");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadSnapshot(uint i, uint head, uint tail) =>
        throw new HeapInvariantException("INV-SPANSET-1",
            $"spanSet snapshot: position {i} holds no span (head = {head}, tail = {tail}); the set is not quiescent");
}
