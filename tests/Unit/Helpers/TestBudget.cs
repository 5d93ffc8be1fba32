// TestBudget: the size of the long randomized workloads. The Mutation build configuration
// (mutation/run; the SDK defines MUTATION) shrinks them so each Stryker mutant run stays short;
// the shapes (every size class, several cycles, large objects) stay, only the counts drop.
namespace GoAlloc.Tests.Helpers;

internal static class TestBudget
{
#if MUTATION
    /// <summary>True in the Mutation configuration.</summary>
    public const bool IsMutationRun = true;
    private const int Divisor = 20;
#else
    /// <summary>True in the Mutation configuration.</summary>
    public const bool IsMutationRun = false;
    private const int Divisor = 1;
#endif

    /// <summary>The iteration count of a long workload: <paramref name="full"/>, or 1/20 of it
    /// (at least <paramref name="min"/>) under Mutation.</summary>
    public static int Count(int full, int min = 1) => Math.Max(min, full / Divisor);

    /// <summary>How long a test waits for another thread (a background sweeper, a blocked caller)
    /// before it fails: <paramref name="normal"/>, at most 10 s under Mutation. The waits end in
    /// milliseconds when the heap is right; the long bound is for loaded CI machines. Under
    /// Mutation a mutant that makes the wait endless must fail the test before Stryker's own
    /// timeout (1.5 x the covering tests' time + 5 s) ends the run as a Timeout, which counts as
    /// not killed.</summary>
    public static TimeSpan HangBound(TimeSpan normal) =>
        IsMutationRun && normal > MutationHangBound ? MutationHangBound : normal;

    private static readonly TimeSpan MutationHangBound = TimeSpan.FromSeconds(10);
}
