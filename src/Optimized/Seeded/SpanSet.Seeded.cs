// SpanSet, seeded half: the two spanSet bugs of src/Allocator/SeededBugs.cs, which need the set's
// private fields; Seeded.On.cs calls them from the hooks in Pop and AddBlock. Compiled only into
// the seeded-bug build. Each breaks one invariant of SpanSet.cs's header (spec/SPEC.md, INV-SPANSET).
#if SEEDED_BUGS
namespace GoAlloc.Optimized;

internal sealed unsafe partial class SpanSet
{
    // SpanSetLastClaimerFreesBlock: counts a pop, but the claimer of the last slot recycles the
    // block while earlier claimers may still read it.
    internal void CountPopLastClaimerFrees(SpanSetBlock* block, nint* blockp, nint bottom)
    {
        Interlocked.Increment(ref block->Popped);
        if (bottom == SpanSetBlockEntries - 1)
        {
            Volatile.Write(ref *blockp, 0);
            block->Popped = SpanSetBlockEntries;
            _pool.Free(block);
        }
    }

    // SpanSetSpineLenBeforeBlock: adds the blocks up to top, but publishes the length first: a
    // lock-free pusher may read an entry still 0. Under _spineLock; returns block top.
    internal SpanSetBlock* AddBlockLengthFirst(nint top, nint spineLen)
    {
        nint oldLen = spineLen;
        while (top >= _spineCap)
            GrowSpine();
        Volatile.Write(ref _spineLen, top + 1);
        for (; oldLen <= top; oldLen++)
            Volatile.Write(ref ((nint*)_spine)[oldLen], (nint)_pool.Alloc());
        return (SpanSetBlock*)((nint*)_spine)[top];
    }
}
#endif
