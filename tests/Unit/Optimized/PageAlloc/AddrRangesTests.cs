// addrRange / addrRanges of Go 1.16's runtime/mranges.go (Go 1.16 has no table test for them):
// size, contains at both ends, subtract in each overlap case, findSucc, findAddrGreaterEqual,
// and add's coalescing with the lower, upper, both or no neighbour, growth past the initial capacity.
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.PageAlloc;

public class AddrRangesTests
{
    private static AddrRange R(nint b, nint l) => new(b, l);

    [Fact]
    public void AddrRange_SizeAndContains()
    {
        Assert.Equal(0x100, R(0x100, 0x200).Size);
        Assert.Equal(1, R(0x100, 0x101).Size);
        Assert.Equal(0, R(0x100, 0x100).Size);
        Assert.Equal(0, R(0x200, 0x100).Size);
        AddrRange r = R(0x100, 0x200);
        Assert.True(r.Contains(0x100));
        Assert.True(r.Contains(0x1ff));
        Assert.False(r.Contains(0x200));
        Assert.False(r.Contains(0xff));
    }

    [Fact]
    public void AddrRange_Subtract()
    {
        AddrRange a = R(0x100, 0x200);
        // b covers a (exactly, and more).
        Assert.Equal(default, a.Subtract(R(0x100, 0x200)));
        Assert.Equal(default, a.Subtract(R(0x0, 0x300)));
        Assert.Equal(default, a.Subtract(R(0x100, 0x300)));
        Assert.Equal(default, a.Subtract(R(0x80, 0x200)));
        // b overlaps a's low end.
        Assert.Equal(R(0x180, 0x200), a.Subtract(R(0x80, 0x180)));
        Assert.Equal(R(0x180, 0x200), a.Subtract(R(0x100, 0x180)));
        Assert.Equal(R(0x101, 0x200), a.Subtract(R(0x0, 0x101)));
        // b overlaps a's high end.
        Assert.Equal(R(0x100, 0x180), a.Subtract(R(0x180, 0x280)));
        Assert.Equal(R(0x100, 0x180), a.Subtract(R(0x180, 0x200)));
        Assert.Equal(R(0x100, 0x1ff), a.Subtract(R(0x1ff, 0x300)));
        // b misses a, touching either end.
        Assert.Equal(a, a.Subtract(R(0x0, 0x100)));
        Assert.Equal(a, a.Subtract(R(0x200, 0x300)));
        Assert.Equal(a, a.Subtract(R(0x300, 0x400)));
        // b strictly inside a is a bug.
        Assert.Throws<InvalidOperationException>(() => a.Subtract(R(0x101, 0x1ff)));
    }

    private static AddrRanges Of(params (nint, nint)[] ranges)
    {
        var s = new AddrRanges();
        foreach ((nint b, nint l) in ranges)
            s.Add(R(b, l));
        return s;
    }

    private static void CheckRanges(AddrRanges s, params (nint, nint)[] want)
    {
        Assert.Equal(want.Select(w => R(w.Item1, w.Item2)).ToArray(), s.ToArray());
        Assert.Equal(want.Length, s.Count);
        for (int i = 0; i < want.Length; i++)
            Assert.Equal(R(want[i].Item1, want[i].Item2), s[i]);
        Assert.Equal(want.Sum(w => (long)(w.Item2 - w.Item1)), s.TotalBytes);
    }

    [Fact]
    public void AddrRanges_Add_Coalescing()
    {
        // Disjoint, inserted out of order: kept sorted.
        AddrRanges s = Of((0x500, 0x600), (0x100, 0x200), (0x300, 0x400));
        CheckRanges(s, (0x100, 0x200), (0x300, 0x400), (0x500, 0x600));
        // Touching the lower neighbour only.
        s.Add(R(0x200, 0x280));
        CheckRanges(s, (0x100, 0x280), (0x300, 0x400), (0x500, 0x600));
        // Touching the upper neighbour only.
        s.Add(R(0x480, 0x500));
        CheckRanges(s, (0x100, 0x280), (0x300, 0x400), (0x480, 0x600));
        // Touching both: three ranges become one.
        s.Add(R(0x280, 0x300));
        CheckRanges(s, (0x100, 0x400), (0x480, 0x600));
        s.Add(R(0x400, 0x480));
        CheckRanges(s, (0x100, 0x600));
        // Below and above everything, not touching.
        s.Add(R(0x10, 0x20));
        s.Add(R(0x700, 0x800));
        CheckRanges(s, (0x10, 0x20), (0x100, 0x600), (0x700, 0x800));
        // A gap of one byte is not touching.
        s.Add(R(0x601, 0x6ff));
        CheckRanges(s, (0x10, 0x20), (0x100, 0x600), (0x601, 0x6ff), (0x700, 0x800));
        s.Add(R(0x6ff, 0x700));
        CheckRanges(s, (0x10, 0x20), (0x100, 0x600), (0x601, 0x800));
    }

    [Fact]
    public void AddrRanges_Add_MergeInAFullArrayMovesOnlyTheLiveTail()
    {
        // Exactly the initial capacity (16): a merge must move count - i - 1 entries, no more
        // (one more would read past the array).
        var s = new AddrRanges();
        for (int i = 0; i < 16; i++)
            s.Add(R(0x1000 + i * 0x100, 0x1000 + i * 0x100 + 0x80));
        s.Add(R(0x1080, 0x1100)); // joins ranges 0 and 1
        var want = new List<(nint, nint)> { (0x1000, 0x1180) };
        for (int i = 2; i < 16; i++)
            want.Add((0x1000 + i * 0x100, 0x1000 + i * 0x100 + 0x80));
        CheckRanges(s, [.. want]);
        s.Add(R(0x1e80, 0x1f00)); // joins the last two: nothing after them to move
        want[^2] = (0x1e00, 0x1f80);
        want.RemoveAt(want.Count - 1);
        CheckRanges(s, [.. want]);
    }

    [Fact]
    public void AddrRanges_Add_GrowsPastInitialCapacity()
    {
        var s = new AddrRanges();
        var want = new List<(nint, nint)>();
        // 40 disjoint ranges added from the top down (each insertion shifts the rest).
        for (int i = 39; i >= 0; i--)
        {
            s.Add(R(0x1000 + i * 0x100, 0x1000 + i * 0x100 + 0x80));
            want.Insert(0, (0x1000 + i * 0x100, 0x1000 + i * 0x100 + 0x80));
        }
        CheckRanges(s, [.. want]);
        // Fill every gap from the bottom: merges down and up each time, one range at the end.
        for (int i = 0; i < 39; i++)
            s.Add(R(0x1000 + i * 0x100 + 0x80, 0x1000 + (i + 1) * 0x100));
        CheckRanges(s, (0x1000, 0x1000 + 39 * 0x100 + 0x80));
    }

    [Fact]
    public void AddrRanges_FindSuccContainsAndGreaterEqual()
    {
        var empty = new AddrRanges();
        Assert.Equal(0, empty.FindSucc(0x100));
        Assert.False(empty.Contains(0x100));
        Assert.False(empty.TryFindAddrGreaterEqual(0x100, out nint f));
        Assert.Equal(0, f);

        AddrRanges s = Of((0x100, 0x200), (0x300, 0x400), (0x500, 0x600));
        Assert.Equal(0, s.FindSucc(0xff));
        Assert.Equal(1, s.FindSucc(0x100));
        Assert.Equal(1, s.FindSucc(0x2ff));
        Assert.Equal(2, s.FindSucc(0x300));
        Assert.Equal(2, s.FindSucc(0x4ff));
        Assert.Equal(3, s.FindSucc(0x500));
        Assert.Equal(3, s.FindSucc(0x1000));

        Assert.False(s.Contains(0xff));
        Assert.True(s.Contains(0x100));
        Assert.True(s.Contains(0x1ff));
        Assert.False(s.Contains(0x200));
        Assert.False(s.Contains(0x2ff));
        Assert.True(s.Contains(0x300));
        Assert.True(s.Contains(0x5ff));
        Assert.False(s.Contains(0x600));

        (nint, bool)[] ge =
        [
            (0x0, true), (0xff, true), (0x100, true), (0x150, true), (0x1ff, true), (0x200, true), (0x2ff, true),
            (0x300, true), (0x450, true), (0x5ff, true), (0x600, false), (0x1000, false),
        ];
        nint[] want = [0x100, 0x100, 0x100, 0x150, 0x1ff, 0x300, 0x300, 0x300, 0x500, 0x5ff, 0, 0];
        for (int i = 0; i < ge.Length; i++)
        {
            bool ok = s.TryFindAddrGreaterEqual(ge[i].Item1, out nint got);
            Assert.True(ok == ge[i].Item2 && got == want[i], $"findAddrGreaterEqual(0x{ge[i].Item1:x}) = ({got:x}, {ok}), want ({want[i]:x}, {ge[i].Item2})");
        }
    }
}
