// Budget: how hard the suite explores. The default gate runs 300 iterations per scenario and
// allocator; GOALLOC_COYOTE_ITERATIONS=10000 (or more) is the documented long run.
namespace GoAlloc.Concurrency;

public static class Budget
{
    public static uint Iterations { get; } =
        uint.TryParse(Environment.GetEnvironmentVariable("GOALLOC_COYOTE_ITERATIONS"), out uint n) && n > 0 ? n : 300;

    /// <summary>The fixed seeds of the seeded-bug catalog (spread out: consecutive seeds are correlated).</summary>
    public static readonly uint[] Seeds = [17, 40_009, 7_340_033];
}
