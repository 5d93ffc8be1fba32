// LockstepHeap's reports name the two heaps it was given (issue 16 item 5): by default the
// implementation under any wrappers (the model check, the test doubles), or the names its caller
// passed; never a fixed "reference" / "optimized".
using GoAlloc.Model;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Lockstep;

public sealed class LockstepNamesTests
{
    private static readonly HeapOptions s_options = new() { Procs = 1, MemProfileRate = 0 };

    [Fact]
    public void NameOf_IsTheImplementationUnderItsWrappers()
    {
        using var r = new GoAlloc.Reference.MHeap(s_options);
        using var o = new GoAlloc.Optimized.MHeap(s_options);
        using var checkedO = new ModelCheckedHeap(x => new GoAlloc.Optimized.MHeap(x), s_options);
        using var divergent = new DivergentHeap(x => new GoAlloc.Reference.MHeap(x), s_options, new Divergence(LockstepChannel.Address));
        using var checkedDivergent = new ModelCheckedHeap(x => new DivergentHeap(y => new GoAlloc.Optimized.MHeap(y), x, new Divergence(LockstepChannel.Address)), s_options);
        Assert.Equal("reference", LockstepHeap.NameOf(r));
        Assert.Equal("optimized", LockstepHeap.NameOf(o));
        Assert.Equal("optimized", LockstepHeap.NameOf(checkedO));
        Assert.Equal("reference", LockstepHeap.NameOf(divergent));
        Assert.Equal("optimized", LockstepHeap.NameOf(checkedDivergent));
    }

    [Fact]
    public void Lockstep_ReportNamesTheTwoHeapsItWasGiven()
    {
        // Two References, the second one diverging on the address Alloc returns.
        using var heap = new LockstepHeap(
            x => new GoAlloc.Reference.MHeap(x),
            x => new DivergentHeap(y => new GoAlloc.Reference.MHeap(y), x, new Divergence(LockstepChannel.Address)),
            s_options, nameA: "oracle", nameB: "candidate");
        Assert.Equal(("oracle", "candidate"), heap.Names);
        IProcessor p = heap.AcquireP();
        var e = Assert.Throws<EquivalenceException>(() =>
        {
            for (int i = 0; i < 64; i++)
                p.Alloc(64);
        });
        Assert.Matches(@"P0\.Alloc\(64, .*\): oracle=\+0x[0-9a-f]+ candidate=\+0x[0-9a-f]+", e.Message);
        Assert.DoesNotContain("optimized", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lockstep_DefaultNamesOfTwoReferencesAreBothReference()
    {
        using var heap = new LockstepHeap(x => new GoAlloc.Reference.MHeap(x), x => new GoAlloc.Reference.MHeap(x), s_options);
        Assert.Equal(("reference", "reference"), heap.Names);
    }
}
