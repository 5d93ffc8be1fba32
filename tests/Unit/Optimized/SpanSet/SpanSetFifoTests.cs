// Single-threaded rules of the Optimized SpanSet: FIFO order (the Reference's queue order) across
// blocks and spine growth, agreement with a Queue model on random push/pop/reset sequences,
// Snapshot, Reset and Dispose.
using GoAlloc.Optimized;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

public class SpanSetFifoTests
{
    [Fact]
    public void SpanSet_PopOnEmptyReturnsZero()
    {
        using var sp = new SetWithPool();
        Assert.Equal(0, sp.Set.Pop());
        sp.Set.Push(FakeSpan.Of(1));
        Assert.Equal(FakeSpan.Of(1), sp.Set.Pop());
        Assert.Equal(0, sp.Set.Pop());
    }

    [Fact]
    public void SpanSet_FifoAcrossBlockBoundary()
    {
        using var sp = new SetWithPool();
        const int n = 5000; // ten blocks, the last one partly used
        for (int i = 0; i < n; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < n; i++)
            Assert.Equal(FakeSpan.Of(i), sp.Set.Pop());
        Assert.Equal(0, sp.Set.Pop());
    }

    [Fact]
    public void SpanSet_FifoAcrossSpineGrowth()
    {
        using var sp = new SetWithPool();
        // More blocks than the initial spine holds (256), so the spine is copied once.
        int n = SpanSet.SpanSetInitSpineCap * SpanSet.SpanSetBlockEntries + 3 * SpanSet.SpanSetBlockEntries + 7;
        for (int i = 0; i < n; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < n; i++)
        {
            nint s = sp.Set.Pop();
            if (s != FakeSpan.Of(i))
                Assert.Fail($"position {i}: popped 0x{s:x}, expected 0x{FakeSpan.Of(i):x}");
        }
        Assert.Equal(0, sp.Set.Pop());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4242)]
    [InlineData(900_001)]
    [InlineData(31_337_000)]
    public void SpanSet_MatchesQueueModelOnRandomSequences(int seed)
    {
        var rng = new Random(seed);
        using var sp = new SetWithPool();
        var model = new Queue<nint>();
        long next = 0;
        int steps = TestBudget.Count(20_000, 1_000); // 1,000 under Mutation: still many block crossings
        for (int step = 0; step < steps; step++)
        {
            int op = rng.Next(100);
            if (op < 45)
            {
                // A burst of pushes, sometimes long enough to cross a block boundary.
                int k = rng.Next(4) == 0 ? rng.Next(1, 700) : rng.Next(1, 8);
                for (int j = 0; j < k; j++)
                {
                    nint s = FakeSpan.Of(next++);
                    sp.Set.Push(s);
                    model.Enqueue(s);
                }
            }
            else if (op < 93)
            {
                int k = rng.Next(1, rng.Next(4) == 0 ? 700 : 8);
                for (int j = 0; j < k; j++)
                {
                    nint want = model.TryDequeue(out nint m) ? m : 0;
                    Assert.Equal(want, sp.Set.Pop());
                }
            }
            else if (op < 98)
            {
                Assert.Equal(model.ToArray(), sp.Set.Snapshot());
            }
            else if (model.Count == 0)
            {
                sp.Set.Reset();
            }
            else
            {
                Assert.Throws<HeapInvariantException>(sp.Set.Reset);
            }
        }
        Assert.Equal(model.ToArray(), sp.Set.Snapshot());
        while (model.TryDequeue(out nint m))
            Assert.Equal(m, sp.Set.Pop());
        Assert.Equal(0, sp.Set.Pop());
    }

    [Fact]
    public void SpanSet_SnapshotListsSpansInFifoOrderWithoutRemoving()
    {
        using var sp = new SetWithPool();
        Assert.Empty(sp.Set.Snapshot());
        for (int i = 0; i < 1000; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < 100; i++)
            sp.Set.Pop();
        nint[] expected = Enumerable.Range(100, 900).Select(i => FakeSpan.Of(i)).ToArray();
        Assert.Equal(expected, sp.Set.Snapshot());
        Assert.Equal(expected, sp.Set.Snapshot());
        Assert.Equal(FakeSpan.Of(100), sp.Set.Pop());
    }

    [Fact]
    public void SpanSet_ResetOnEmptySetAfterPartialUseFreesTheHeadBlock()
    {
        using var sp = new SetWithPool();
        // 700 pushes and pops: block 0 is freed by its last popper, block 1 (188 pops) stays in the spine.
        for (int i = 0; i < 700; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < 700; i++)
            Assert.Equal(FakeSpan.Of(i), sp.Set.Pop());
        Assert.Equal(2, sp.Pool.AllocatedBlocks);

        sp.Set.Reset();

        // Positions restart at 0 and both blocks come back from the pool; the only block carved is
        // block 2, which the last 64 pushes add ahead of the tail (SpanSet.BlocksAhead).
        for (int i = 0; i < 1024; i++)
            sp.Set.Push(FakeSpan.Of(10_000 + i));
        Assert.Equal(3, sp.Pool.AllocatedBlocks);
        Assert.Equal(1024, sp.Set.Snapshot().Length);
        for (int i = 0; i < 1024; i++)
            Assert.Equal(FakeSpan.Of(10_000 + i), sp.Set.Pop());
        Assert.Equal(0, sp.Set.Pop());
    }

    [Fact]
    public void SpanSet_ResetAtBlockBoundaryAndOnUnusedSet()
    {
        using var sp = new SetWithPool();
        sp.Set.Reset(); // never used: nothing to free
        for (int i = 0; i < SpanSet.SpanSetBlockEntries; i++)
            sp.Set.Push(FakeSpan.Of(i));
        for (int i = 0; i < SpanSet.SpanSetBlockEntries; i++)
            sp.Set.Pop();
        // Block 0 already went back with its last popper; block 1, added ahead of the tail by the
        // last 64 pushes and never used, goes back now.
        sp.Set.Reset();
        sp.Set.Push(FakeSpan.Of(7));
        Assert.Equal(2, sp.Pool.AllocatedBlocks); // no block carved after the reset
        Assert.Equal([FakeSpan.Of(7)], sp.Set.Snapshot());
    }

    [Fact]
    public void SpanSet_ResetOnNonEmptySetThrows()
    {
        using var sp = new SetWithPool();
        sp.Set.Push(FakeSpan.Of(1));
        sp.Set.Push(FakeSpan.Of(2));
        sp.Set.Pop();
        var e = Assert.Throws<HeapInvariantException>(sp.Set.Reset);
        Assert.Contains("head = 1, tail = 2", e.Message);
        Assert.Equal(FakeSpan.Of(2), sp.Set.Pop()); // the set is untouched
    }

    [Fact]
    public void SpanSet_PushOfZeroIsRejected()
    {
        using var sp = new SetWithPool();
        Assert.Throws<ArgumentException>(() => sp.Set.Push(0));
        Assert.Equal(0, sp.Set.Pop());
        Assert.Empty(sp.Set.Snapshot());
    }

    [Fact]
    public void SpanSet_DisposeUnmapsSpinesAndPoolChunksAndIsIdempotent()
    {
        var pool = new SpanSetBlockPool();
        var a = new SpanSet(pool);
        var b = new SpanSet(pool);
        int n = (SpanSet.SpanSetInitSpineCap + 1) * SpanSet.SpanSetBlockEntries; // a grows its spine once
        for (int i = 0; i < n; i++)
            a.Push(FakeSpan.Of(i));
        b.Push(FakeSpan.Of(1));
        // a: 257 blocks and the one added ahead of its tail; b: one.
        Assert.Equal(SpanSet.SpanSetInitSpineCap + 3, pool.AllocatedBlocks);
        Assert.True(pool.SysBytes >= pool.AllocatedBlocks * (long)SpanSetBlock.Bytes);

        a.Dispose();
        a.Dispose();
        Assert.Empty(a.Snapshot());
        b.Dispose();
        pool.Dispose();
        pool.Dispose();
        Assert.Equal(0, pool.AllocatedBlocks);
        Assert.Equal(0, pool.SysBytes);
    }
}
