// HeapOptions.Validate: out-of-range options are refused by both allocators' constructors with the
// option's name, at the exact edges of the valid ranges.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class HeapOptionsTests
{
    public static TheoryData<string> Impls => new() { "reference", "optimized" };

    private static IHeap Create(string impl, HeapOptions o) =>
        impl == "reference" ? new GoAlloc.Reference.MHeap(o) : new GoAlloc.Optimized.MHeap(o);

    [Theory]
    [MemberData(nameof(Impls))]
    public void Validate_RejectsEachOptionJustOutsideItsRange(string impl)
    {
        Assert.Equal("Procs", Assert.Throws<ArgumentOutOfRangeException>(() => Create(impl, new HeapOptions { Procs = 0 })).ParamName);
        Assert.Equal("Procs", Assert.Throws<ArgumentOutOfRangeException>(() => Create(impl, new HeapOptions { Procs = 257 })).ParamName);
        Assert.Equal("MemoryLimit", Assert.Throws<ArgumentOutOfRangeException>(() => Create(impl, new HeapOptions { MemoryLimit = -1 })).ParamName);
        Assert.Equal("MemProfileRate", Assert.Throws<ArgumentOutOfRangeException>(() => Create(impl, new HeapOptions { MemProfileRate = -1 })).ParamName);
    }

    [Theory]
    [MemberData(nameof(Impls))]
    public void Validate_AcceptsTheEdgesOfEachRange(string impl)
    {
        using (IHeap h = Create(impl, new HeapOptions { Procs = 1, MemoryLimit = 0, MemProfileRate = 0 }))
            Assert.Equal(1, h.ProcCount);
        using (IHeap h = Create(impl, new HeapOptions { Procs = 256 }))
            Assert.Equal(256, h.ProcCount);
    }
}
