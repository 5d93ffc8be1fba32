// The equivalence property checks itself: run on a lock-step pair whose second heap differs from
// the first on one channel alone (tests/Model DivergentHeap), without the heap model (so only the
// lock-step comparison can see it), the property must falsify, shrink the scenario to a handful of
// steps (or find it that small at once), and report a counterexample whose failing step carries the comparator's
// EquivalenceException naming that channel. The channels here need a few steps to reach (a GC
// cycle that frees something, a large object freed, a Mark, a refused allocation), so the shrunk
// size shows the shrinker at work; tests/Unit LockstepCatchesEachChannelTests covers every channel.
using System.Text.RegularExpressions;
using GoAlloc.Model;
using Xunit;

namespace GoAlloc.Properties.Equivalence;

public sealed partial class LockstepSelfCheckProperties
{
    /// <param name="channel">A Divergence name.</param>
    /// <param name="maxSteps">The most steps the shrunk scenario may keep: the fewest that reach the
    /// channel plus slack, since FsCheck stops at a local minimum (over repeated runs, up to 2 steps
    /// above the fewest). Generated scenarios have up to ~60 steps.</param>
    [Theory]
    [InlineData("FreedList.Dropped", 6)]       // fewest: acquire, alloc, release, StartMark (the epilogue sweeps)
    [InlineData("Stats.LargeFrees", 6)]        // the same, with a large object
    [InlineData("Mark", 6)]                    // fewest: StartMark, a bogus Mark
    [InlineData("ExceptionType.Changed", 4)]   // fewest: one refused call (FinishMark outside a mark phase)
    [InlineData("SweepOne", 8)]                // fewest: acquire, alloc, release, StartMark, FinishMark, SweepOne
    public void EquivalenceProperty_DivergentHeap_FailsShrunkNamingTheChannel(string channel, int maxSteps)
    {
        Divergence d = Divergence.Parse(channel);
        PropertyFailedException e = Assert.Throws<PropertyFailedException>(() => PropertyRunner.Check(
            $"{nameof(LockstepSelfCheckProperties)}.{channel}", 100,
            EquivalenceProperties.EquivalenceProperty(
                o => new GoAlloc.Reference.MHeap(o),
                o => new DivergentHeap(x => new GoAlloc.Optimized.MHeap(x), o, d),
                model: false),
            endSize: 60, mutationCases: 100));
        // FsCheck prints "Shrunk:" only when it shrank: a first counterexample that is already minimal
        // (ExceptionType.Changed: one refused call can be the first generated scenario) is "Original:".
        int at = e.Message.IndexOf("Shrunk:", StringComparison.Ordinal);
        if (at < 0)
        {
            Assert.Contains("(0 shrinks)", e.Message);
            at = e.Message.IndexOf("Original:", StringComparison.Ordinal);
            Assert.True(at >= 0, $"no counterexample printed:\n{e.Message}");
        }
        string shrunk = e.Message[at..];
        Assert.Contains("-> EquivalenceException: ", e.Message);
        foreach (string says in d.ReportSays)
            Assert.Contains(says, e.Message);
        int steps = Step().Count(shrunk);
        Assert.True(steps <= maxSteps, $"shrunk to {steps} steps (at most {maxSteps} expected):\n{e.Message}");
    }

    /// <summary>A numbered step of a printed Scenario ("  3: P0.Alloc(...)").</summary>
    [GeneratedRegex(@"^\s+\d+: ", RegexOptions.Multiline)]
    private static partial Regex Step();
}
