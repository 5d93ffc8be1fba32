// ThrowHelper: throws kept out of line so the allocation fast path stays small (dotnet/runtime
// style). Corrupt is the fail-fast tier: a broken invariant that would corrupt memory.
using System.Diagnostics.CodeAnalysis;

namespace GoAlloc.Optimized;

internal static class ThrowHelper
{
    /// <summary>Internal corruption (never a caller's misuse): names the spec invariant it breaks.</summary>
    [DoesNotReturn]
    public static void Corrupt(string invariantId, string message) => throw new HeapInvariantException(invariantId, message);

    [DoesNotReturn]
    public static void Disposed() => throw new ObjectDisposedException(nameof(MHeap));

    [DoesNotReturn]
    public static void NotOwner(int id, int owner) => throw new InvalidOperationException(owner == 0
        ? $"P{id} is not acquired"
        : $"P{id} is held by thread {owner}, not by the calling thread {Environment.CurrentManagedThreadId}");

    [DoesNotReturn]
    public static void BadSize(long size) =>
        throw new ArgumentOutOfRangeException(nameof(size), size, $"allocation size must be 0..{MallocConstants.MaxAlloc}");
}
