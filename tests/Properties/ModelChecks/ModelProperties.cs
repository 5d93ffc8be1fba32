// The heap model makes the equivalence property catch bugs both allocators share: the property runs
// on a lock-step pair whose two heaps lie in the same way (LyingHeap), so the lock-step comparison
// sees nothing, and it must still falsify, shrink, and report a counterexample whose failing step
// names the broken identity. One case per lie: heap_alloc off by one slot, one unmarked object
// kept per cycle (the two), and every other stats identity, zeroing, FindObject and Mark.
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

    private static void AssertShrunkNaming(PropertyFailedException e, string identity)
    {
        Assert.Contains("Shrunk", e.Message);
        Assert.Contains($"ModelViolationException: [{identity}]", e.Message);
        Assert.DoesNotContain("EquivalenceException", e.Message);
    }

    [Fact]
    public void EquivalenceProperty_BothHeapsOffByOneSlotInHeapAlloc_FailsShrunkNamingHeapAlloc() =>
        AssertShrunkNaming(Falsify(HeapLie.HeapAllocOffByOneSlot), ModelIdentity.HeapAlloc);

    [Fact]
    public void EquivalenceProperty_BothHeapsKeepOneUnmarkedObject_FailsShrunkNamingTheSweepSet() =>
        AssertShrunkNaming(Falsify(HeapLie.KeepsOneUnmarkedObject), ModelIdentity.SweepKeptDead);

    /// <summary>Every other lie and the identity the model must name for it.</summary>
    public static readonly TheoryData<HeapLie, string> OtherLies = new()
    {
        { HeapLie.HeapObjectsOneTooMany, ModelIdentity.HeapObjects },
        { HeapLie.BySizeNmallocOffByOne, ModelIdentity.BySize },
        { HeapLie.MallocsAndFreesOneTooHigh, ModelIdentity.MallocsFrees },
        { HeapLie.TinyAllocsOffByOne, ModelIdentity.TinyAllocs },
        { HeapLie.LargeAllocsOffByOne, ModelIdentity.LargeObjects },
        { HeapLie.HeapInuseOnePageShort, ModelIdentity.HeapInuse },
        { HeapLie.HeapReleasedAboveIdle, ModelIdentity.HeapReleased },
        { HeapLie.HeapMarkedOffByOneSlot, ModelIdentity.HeapMarked },
        { HeapLie.NumGcOffByOne, ModelIdentity.Counters },
        { HeapLie.SkipsZeroingAfterACycle, ModelIdentity.Zeroing },
        { HeapLie.MarkAcceptsEveryPointer, ModelIdentity.Mark },
    };

    [Theory]
    [MemberData(nameof(OtherLies))]
    public void EquivalenceProperty_BothHeapsBreakingOneIdentity_FailsShrunkNamingIt(HeapLie lie, string identity) =>
        AssertShrunkNaming(Falsify(lie), identity);

    /// <summary>Every HeapLie is exercised by one of the cases above, except FindObjectReportsFreeSlotsAllocated:
    /// the generator's FindObject steps rarely hit a free slot of an in-use span (tests/Unit ModelCatchesBugsTests covers it).</summary>
    [Fact]
    public void EveryHeapLie_HasAPropertyCase()
    {
        var covered = new HashSet<HeapLie> { HeapLie.HeapAllocOffByOneSlot, HeapLie.KeepsOneUnmarkedObject, HeapLie.FindObjectReportsFreeSlotsAllocated };
        foreach (object[] row in OtherLies)
            covered.Add((HeapLie)row[0]);
        Assert.Equal(Enum.GetValues<HeapLie>().Order(), covered.Order());
    }
}
