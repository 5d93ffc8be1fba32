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
}
