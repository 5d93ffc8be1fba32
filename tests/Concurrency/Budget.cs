// Budget: how hard the suite explores. The default gate runs 300 iterations per scenario and
// allocator from the first seed; the nightly run (./test.sh --nightly) sets
// GOALLOC_COYOTE_ITERATIONS=10000 and GOALLOC_COYOTE_SEEDS=all (every seed of Seeds).
namespace GoAlloc.Concurrency;

public static class Budget
{
    public static uint Iterations { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable("GOALLOC_COYOTE_ITERATIONS"), out uint n) && n > 0 ? n : 300;

    /// <summary>The fixed seeds of the seeded-bug catalog (spread out: consecutive seeds are correlated).</summary>
    public static readonly uint[] Seeds = [17, 40_009, 7_340_033];

    /// <summary>The seeds each clean scenario is explored from: the first one, or all of
    /// <see cref="Seeds"/> when GOALLOC_COYOTE_SEEDS=all.</summary>
    public static uint[] ScenarioSeeds { get; } = AllSeeds ? Seeds : [Seeds[0]];

    /// <summary>GOALLOC_COYOTE_SEEDS=all (the nightly run): every seed is tried, even where the
    /// verdict is already known.</summary>
    public static bool AllSeeds => Environment.GetEnvironmentVariable("GOALLOC_COYOTE_SEEDS") == "all";
}
