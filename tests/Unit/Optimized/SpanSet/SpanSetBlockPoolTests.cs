// Block recycling and layout rules: the last popper of a block returns it to the pool, blocks are
// reused (the pool's carved count stays bounded), the free stack is LIFO and ABA-tagged, and the
// packed head/tail word detects overflow.
using System.Runtime.CompilerServices;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

public unsafe class SpanSetBlockPoolTests
{
    private const int Entries = SpanSet.SpanSetBlockEntries;

    [Fact]
    public void SpanSetBlock_LayoutIsCacheLineAligned()
    {
        Assert.Equal(64 + Entries * 8, sizeof(SpanSetBlock));
        Assert.Equal(SpanSetBlock.Bytes, sizeof(SpanSetBlock));
        Assert.Equal(0, SpanSetBlock.Bytes % 64);
        Assert.Equal(128, Unsafe.SizeOf<HeadTailIndex>());
        using var pool = new SpanSetBlockPool();
        for (int i = 0; i < 40; i++) // crosses chunk boundaries (15 blocks per chunk)
        {
            SpanSetBlock* b = pool.Alloc();
            Assert.Equal(0, (nint)b % 64);
            Assert.Equal(0, b->Popped);
        }
        Assert.Equal(40, pool.AllocatedBlocks);
    }

    [Fact]
    public void SpanSet_BlockReusedAfterLastPopper()
    {
        using var sp = new SetWithPool();
        for (int i = 0; i < Entries; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < Entries - 1; i++)
            sp.Set.Pop();
        Assert.Equal(2, sp.Pool.AllocatedBlocks); // block 0 and block 1, added ahead of the tail

        // A second set sharing the pool needs a block: block 0 is still held (one slot unpopped).
        var other = new SpanSet(sp.Pool);
        other.Push(FakeSpan.Of(-1));
        Assert.Equal(3, sp.Pool.AllocatedBlocks);

        // The 512th pop finishes block 0 and returns it; the next block anyone needs is that one.
        Assert.Equal(FakeSpan.Of(Entries - 1), sp.Set.Pop());
        for (int i = 0; i < Entries; i++) // fills the rest of other's block 0, then needs block 1
            other.Push(FakeSpan.Of(i));
        Assert.Equal(3, sp.Pool.AllocatedBlocks);
        Assert.Equal(Entries + 1, other.Snapshot().Length);
        other.Dispose();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(64)]
    public void SpanSet_BlockCountStaysBoundedUnderSteadyPushPop(int k)
    {
        using var sp = new SetWithPool();
        // One push, one pop, 512*k times: each block is freed by its last popper before the block
        // after next is needed, so two blocks (the tail's and the one added ahead of it) are
        // recycled over and over.
        for (int i = 0; i < Entries * k; i++)
        {
            sp.Set.Push(FakeSpan.Of(i));
            Assert.Equal(FakeSpan.Of(i), sp.Set.Pop());
        }
        Assert.Equal(2, sp.Pool.AllocatedBlocks);

        // Batches of 1,000 in and out: at most four blocks are ever held at once (three and the
        // one added ahead of the tail).
        for (int round = 0; round < k; round++)
        {
            for (int i = 0; i < 1000; i++)
                sp.Set.Push(FakeSpan.Of(i));
            for (int i = 0; i < 1000; i++)
                Assert.Equal(FakeSpan.Of(i), sp.Set.Pop());
        }
        Assert.InRange(sp.Pool.AllocatedBlocks, 1, 4);
    }

    [Fact]
    public void SpanSetBlockPool_FreeStackIsLifoAndResetsPopped()
    {
        using var pool = new SpanSetBlockPool();
        SpanSetBlock* a = pool.Alloc(), b = pool.Alloc(), c = pool.Alloc();
        a->Popped = Entries;
        b->Popped = Entries;
        pool.Free(a);
        pool.Free(b);
        Assert.True(pool.Alloc() == b);
        pool.Free(c);
        Assert.True(pool.Alloc() == c);
        SpanSetBlock* again = pool.Alloc();
        Assert.True(again == a);
        Assert.Equal(0, again->Popped);
        // Each push bumped the block's own ABA counter.
        Assert.Equal(1, a->PushCnt);
        pool.Free(a);
        Assert.Equal(2, a->PushCnt);
        Assert.Equal(3, pool.AllocatedBlocks);
    }

    [Fact]
    public void HeadTailIndex_PacksHeadHighTailLow()
    {
        var h = new HeadTailIndex(3, 9);
        ulong ht = h.Load();
        Assert.Equal(3u << 0, HeadTailIndex.Head(ht));
        Assert.Equal(9u, HeadTailIndex.Tail(ht));
        Assert.Equal(3UL << 32 | 9, ht);
        Assert.Equal(10u, HeadTailIndex.Tail(h.IncTail()));
        Assert.True(h.CasHead(h.Load()));
        Assert.Equal(HeadTailIndex.Make(4, 10), h.Load());
        Assert.False(h.CasHead(HeadTailIndex.Make(3, 10))); // stale word: no change
        Assert.Equal(HeadTailIndex.Make(4, 10), h.Load());
        h.Reset();
        Assert.Equal(0UL, h.Load());
    }

    [Fact]
    public void HeadTailIndex_IncTailThrowsOnOverflow()
    {
        var h = new HeadTailIndex(5, uint.MaxValue - 1);
        Assert.Equal(uint.MaxValue, HeadTailIndex.Tail(h.IncTail())); // the last representable push
        var e = Assert.Throws<HeapInvariantException>(() => h.IncTail());
        Assert.Contains("overflow", e.Message);
    }
}
