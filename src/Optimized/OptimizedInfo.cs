// The Optimized allocator: the same allocator as src/Reference, with Go's bit tricks and lock-free
// structures (allocCache, size_to_class8/128, divmagic, off-heap metadata, lock-free spanSet,
// radix-summary page allocator, lock-free per-P mcache). See spec/SPEC.md for the shared policy.
namespace GoAlloc.Optimized;

internal static class OptimizedInfo
{
    public const string Name = "optimized";
}
