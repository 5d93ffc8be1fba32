// Helpers for the Optimized SpanSet tests: a set with its own block pool, disposed together, and
// fake span pointers (the set never dereferences them; any non-zero value will do).
using GoAlloc.Optimized;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

internal sealed class SetWithPool : IDisposable
{
    public SpanSetBlockPool Pool { get; } = new();
    public SpanSet Set { get; }

    public SetWithPool() => Set = new SpanSet(Pool);

    public void Dispose()
    {
        Set.Dispose();
        Pool.Dispose();
    }
}

internal static class FakeSpan
{
    /// <summary>A distinct non-zero "span address" for index i (8-byte aligned, like a real record).</summary>
    public static nint Of(long i) => (nint)(0x1000 + i * 8);
}
