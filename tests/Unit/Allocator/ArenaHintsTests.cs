// ArenaHints (src/Allocator/ArenaHints.cs, sysAlloc's hint loop in Go's malloc.go), shared by both
// heaps: the memory limit check, rounding to whole arenas, a hint that works moves past (or below)
// what it gave, one that fails is dropped, the fallback to any aligned address hints around it, and
// a failed reservation (or Undo) leaves the hints as they were. Real reservations use hints in the
// test address window (TestAddressSpace), one slot per test; whether a hint was tried at all is
// seen through SysMem's failure injection (a hint tried takes the injected failure, so the
// fallback then succeeds; a hint skipped leaves the failure to the fallback, which then throws).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class ArenaHintsTests
{
    private const long Arena = MallocConstants.HeapArenaBytes;
    private const long NoLimit = long.MaxValue;

    [Fact]
    public void ArenaHints_DefaultsAreGosHintsGrowingUp()
    {
        var hints = new ArenaHints(useHints: true);
        Assert.Equal(MallocConstants.ArenaHintCount, hints.Hints.Count);
        for (int i = 0; i < MallocConstants.ArenaHintCount; i++)
            Assert.Equal((MallocConstants.ArenaHint(i), false), hints.Hints[i]);
        Assert.Empty(new ArenaHints(useHints: false).Hints);
    }

    [Fact]
    public void ArenaHints_UpHintReservesAtItAndMovesPastWhole64MiBArenas()
    {
        nint h = TestAddressSpace.NextHint();
        var hints = new ArenaHints([(h, false), (h + 8 * Arena, false)]);
        (nint v, long n) = hints.Reserve(1, 0, NoLimit);
        try
        {
            Assert.Equal(h, v);
            Assert.Equal(Arena, n); // one byte asks for a whole arena
            Assert.Equal([(h + Arena, false), (h + 8 * Arena, false)], hints.Hints);
        }
        finally
        {
            SysMem.SysFree(v, (nint)n);
        }
    }

    [Fact]
    public void ArenaHints_DownHintReservesBelowItAndMovesDown()
    {
        nint top = TestAddressSpace.NextHint() + (nint)(4 * Arena);
        var hints = new ArenaHints([(top, true)]);
        (nint v, long n) = hints.Reserve(Arena + 1, 0, NoLimit);
        try
        {
            Assert.Equal(2 * Arena, n);
            Assert.Equal(top - 2 * Arena, v);
            Assert.Equal([(top - 2 * Arena, true)], hints.Hints);
        }
        finally
        {
            SysMem.SysFree(v, (nint)n);
        }
    }

    [Fact]
    public void ArenaHints_TakenHintIsDroppedAndTheFallbackHintsAroundAnyAlignedAddress()
    {
        nint h = TestAddressSpace.NextHint();
        nint mine = SysMem.SysReserve(h, (nint)Arena);
        Assert.Equal(h, mine);
        var hints = new ArenaHints([(h, false)]);
        (nint v, long n) = (0, 0);
        try
        {
            (v, n) = hints.Reserve(Arena, 0, NoLimit);
            Assert.NotEqual(h, v); // the kernel placed the hinted try elsewhere: given back, dropped
            Assert.Equal(0, v % Arena);
            Assert.Equal([(v + Arena, false), (v, true)], hints.Hints);
        }
        finally
        {
            SysMem.SysFree(mine, (nint)Arena);
            if (v != 0)
                SysMem.SysFree(v, (nint)n);
        }
    }

    [Fact]
    public void ArenaHints_NoHintsTakesAnyAlignedAddress()
    {
        var hints = new ArenaHints(useHints: false);
        (nint v, long n) = hints.Reserve(3 * Arena, 0, NoLimit);
        SysMem.SysFree(v, (nint)n);
        Assert.Equal(3 * Arena, n);
        Assert.Equal(0, v % Arena);
        Assert.Equal([(v + 3 * Arena, false), (v, true)], hints.Hints);
    }

    /// <summary>Reserve with the next mapping call injected to fail: true if the hint was tried (the fallback then succeeds).</summary>
    private static bool HintTried(long addr, bool down)
    {
        var hints = new ArenaHints([(addr, down)]);
        SysMem.InjectFailureAtCall(1);
        try
        {
            (nint v, long n) = hints.Reserve(Arena, 0, NoLimit);
            SysMem.SysFree(v, (nint)n);
            Assert.Equal([(v + Arena, false), (v, true)], hints.Hints); // the tried hint was dropped
            return true;
        }
        catch (OutOfMemoryException e) when (e.Message.Contains("injected failure"))
        {
            Assert.Equal([(addr, down)], hints.Hints); // unchanged
            return false;
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
    }

    [Fact]
    public void ArenaHints_HintsOutsideTheUserAddressSpaceAreNotTried()
    {
        const long top = 1L << ArenaHints.UserAddrBits;
        Assert.Equal(47, ArenaHints.UserAddrBits);
        Assert.True(HintTried(top - Arena, down: false));        // ends exactly at the top
        Assert.False(HintTried(top - Arena + 4096, down: false)); // one page past it
        Assert.True(HintTried(2 * Arena, down: true));            // starts at 64 MiB
        Assert.False(HintTried(Arena, down: true));               // would start at 0
        Assert.False(HintTried(Arena / 2, down: true));           // below 0
        Assert.False(HintTried(long.MaxValue - 4096, down: false)); // the end wraps
    }

    [Fact]
    public void ArenaHints_FailedReservationLeavesTheHintsAsTheyWere()
    {
        nint h = TestAddressSpace.NextHint();
        nint mine = SysMem.SysReserve(h, (nint)Arena); // the first hint is tried and fails for real
        var hints = new ArenaHints([(h, false), (Arena, true)]); // the second is not tried
        SysMem.InjectFailureAtCall(2); // then the fallback fails
        try
        {
            Assert.Throws<OutOfMemoryException>(() => hints.Reserve(Arena, 0, NoLimit));
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
            SysMem.SysFree(mine, (nint)Arena);
        }
        Assert.Equal([(h, false), (Arena, true)], hints.Hints);
    }

    [Fact]
    public void ArenaHints_UndoPutsBackTheHintsOfBeforeTheLastReserve()
    {
        nint h = TestAddressSpace.NextHint();
        var hints = new ArenaHints([(h, false)]);
        (nint v, long n) = hints.Reserve(Arena, 0, NoLimit);
        (nint v2, long n2) = hints.Reserve(Arena, 0, NoLimit);
        SysMem.SysFree(v, (nint)n);
        SysMem.SysFree(v2, (nint)n2);
        Assert.Equal(h + Arena, v2);
        Assert.Equal([(h + 2 * Arena, false)], hints.Hints);
        hints.Undo();
        Assert.Equal([(h + Arena, false)], hints.Hints);
    }

    [Theory]
    [InlineData(0L, 0L, NoLimit)]                         // nothing asked
    [InlineData(1L, 0L, Arena - 1)]                       // one arena over the limit
    [InlineData(1L, Arena, 2 * Arena - 1)]                // heapSys counts
    [InlineData(Arena, long.MaxValue - Arena + 1, NoLimit)] // heapSys + n wraps
    public void ArenaHints_RefusesPastTheMemoryLimitWithoutTouchingTheHints(long ask, long heapSys, long limit)
    {
        var hints = new ArenaHints([(0x1234L << 26, false)]);
        SysMem.InjectFailureAtCall(1); // a mapping call would fail differently
        try
        {
            var e = Assert.Throws<OutOfMemoryException>(() => hints.Reserve(ask, heapSys, limit));
            Assert.StartsWith($"heap memory limit: heap_sys {heapSys} + ", e.Message);
            Assert.EndsWith($"exceeds MemoryLimit {limit}", e.Message);
            Assert.Equal(1, SysMem.InjectionCountdown); // no mapping call
        }
        finally
        {
            SysMem.InjectFailureAtCall(0);
        }
        Assert.Equal([(0x1234L << 26, false)], hints.Hints);
    }

    [Fact]
    public void ArenaHints_ReservesUpToTheLimitExactly()
    {
        nint h = TestAddressSpace.NextHint();
        var hints = new ArenaHints([(h, false)]);
        (nint v, long n) = hints.Reserve(Arena, Arena, 2 * Arena);
        SysMem.SysFree(v, (nint)n);
        Assert.Equal(h, v);
    }
}
