// The Optimized spanSet when a mapping is refused (issue #20, spec/SPEC.md 4.15): a push adds the
// blocks it needs (a new block, a grown spine) before it reserves its position, so a refused
// mapping throws OutOfMemoryException from a set that is exactly as it was, and the next push
// works. In Go's order (reserve, then add the block; BlocksAhead = 0) the same refusal leaves a
// reserved position that no span will ever fill: a popper of it would wait forever.
using GoAlloc;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

public class SpanSetRefusedGrowthTests
{
    private const int Entries = SpanSet.SpanSetBlockEntries;

    /// <summary>Pushes 0..n-1 (no mapping refused).</summary>
    private static void Fill(SpanSet set, int n)
    {
        for (int i = 0; i < n; i++)
            set.Push(FakeSpan.Of(i));
    }

    /// <summary>The mapping calls one push makes after n pushes (a fresh set and pool each time).</summary>
    private static int MappingCallsOfPush(int n)
    {
        using var sp = new SetWithPool();
        Fill(sp.Set, n);
        SysMem.InjectFailureAtCall(int.MaxValue);
        try
        {
            sp.Set.Push(FakeSpan.Of(n));
            return int.MaxValue - SysMem.InjectionCountdown;
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
    }

    [Theory]
    [InlineData(0)]                                                      // the first spine and the pool's first chunk
    [InlineData(SpanSet.SpanSetInitSpineCap * Entries - (int)SpanSet.DefaultBlocksAhead)] // the spine doubles
    [InlineData(15 * Entries - (int)SpanSet.DefaultBlocksAhead)]         // block 15: the pool's second chunk
    public void SpanSet_RefusedGrowthLeavesTheSetAsItWas(int filled)
    {
        int calls = MappingCallsOfPush(filled);
        Assert.True(calls >= 1, $"the push after {filled} maps nothing: the case does not test growth");
        for (int k = 1; k <= calls; k++)
        {
            using var sp = new SetWithPool();
            Fill(sp.Set, filled);
            SysMem.InjectFailureAtCall(k);
            try
            {
                Assert.Throws<OutOfMemoryException>(() => sp.Set.Push(FakeSpan.Of(-1)));
            }
            finally
            {
                SysMem.InjectFailureAtCall(0);
            }
            // Nothing reserved: the set holds exactly what it held, in order, and keeps working.
            nint[] snap = sp.Set.Snapshot();
            Assert.Equal(filled, snap.Length);
            sp.Set.Push(FakeSpan.Of(filled));
            for (int i = 0; i <= filled; i++)
            {
                nint s = sp.Set.Pop();
                if (s != FakeSpan.Of(i))
                    Assert.Fail($"mapping call {k} of {calls} refused: position {i} popped 0x{s:x}");
            }
            Assert.Equal(0, sp.Set.Pop());
            sp.Set.Reset();
        }
    }

    [Fact]
    public void SpanSet_GoOrderLeavesAReservedPositionWithoutASpan()
    {
        // What the look-ahead prevents: in Go's order the refused first block comes after the
        // tail counted the push, so the set has a position no push will ever fill.
        using var sp = new SetWithPool();
        sp.Set.BlocksAhead = 0;
        SysMem.InjectFailureAtCall(1);
        try
        {
            Assert.Throws<OutOfMemoryException>(() => sp.Set.Push(FakeSpan.Of(1)));
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        var e = Assert.Throws<HeapInvariantException>(() => sp.Set.Snapshot());
        Assert.Contains("position 0 holds no span", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SpanSet_BlocksAheadAddedBeforeTheTailReachesThem()
    {
        using var sp = new SetWithPool();
        // Until the tail comes within BlocksAhead of block 0's end, only block 0 exists.
        Fill(sp.Set, Entries - (int)SpanSet.DefaultBlocksAhead);
        Assert.Equal(1, sp.Pool.AllocatedBlocks);
        // The next push adds block 1 before it reserves position 448 (in block 0).
        sp.Set.Push(FakeSpan.Of(-1));
        Assert.Equal(2, sp.Pool.AllocatedBlocks);
        // From then on, pushes up to position 959 need no new block (none is mapped or carved).
        SysMem.InjectFailureAtCall(1);
        try
        {
            Fill(sp.Set, Entries - 1); // positions 449..959
        }
        finally
        {
            Assert.Equal(1, SysMem.InjectionCountdown); // no mapping call was made
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal(2, sp.Pool.AllocatedBlocks);
    }
}
