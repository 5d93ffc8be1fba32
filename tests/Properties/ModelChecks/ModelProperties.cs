// The heap model makes the equivalence property catch bugs both allocators share: the property runs
// on a lock-step pair whose two heaps lie in the same way (LyingHeap: heap_alloc off by one slot;
// one unmarked object kept per cycle), so the lock-step comparison sees nothing, and it must still
// falsify, shrink, and report a counterexample whose failing step names the broken identity.
using GoAlloc.Model;
using GoAlloc.Properties.Equivalence;
using Xunit;

namespace GoAlloc.Properties.ModelChecks;

public sealed class ModelProperties
{
    private static Func<HeapOptions, IHeap> Lying(Func<HeapOptions, IHeap> real, HeapLie lie) => o => new LyingHeap(real, o, lie);

    private static PropertyFailedException Falsify(HeapLie lie) =>
        Assert.Throws<PropertyFailedException>(() => PropertyRunner.Check($"{nameof(ModelProperties)}.{lie}", 100,
            EquivalenceProperties.EquivalenceProperty(
                Lying(o => new GoAlloc.Reference.MHeap(o), lie), Lying(o => new GoAlloc.Optimized.MHeap(o), lie)),
            endSize: 60, mutationCases: 100));

    [Fact]
    public void EquivalenceProperty_BothHeapsOffByOneSlotInHeapAlloc_FailsShrunkNamingHeapAlloc()
    {
        PropertyFailedException e = Falsify(HeapLie.HeapAllocOffByOneSlot);
        Assert.Contains("Shrunk", e.Message);
        Assert.Contains($"ModelViolationException: [{ModelIdentity.HeapAlloc}]", e.Message);
        Assert.DoesNotContain("EquivalenceException", e.Message);
    }

    [Fact]
    public void EquivalenceProperty_BothHeapsKeepOneUnmarkedObject_FailsShrunkNamingTheSweepSet()
    {
        PropertyFailedException e = Falsify(HeapLie.KeepsOneUnmarkedObject);
        Assert.Contains("Shrunk", e.Message);
        Assert.Contains($"ModelViolationException: [{ModelIdentity.SweepKeptDead}]", e.Message);
        Assert.DoesNotContain("EquivalenceException", e.Message);
    }
}
