// HeapInvariantException: what Verify() throws when a spec invariant (spec/SPEC.md, INV-*) is broken.
// The message starts with the INV id so a failing test names the rule that broke.
namespace GoAlloc;

public sealed class HeapInvariantException : Exception
{
    public HeapInvariantException(string invariantId, string detail)
        : base($"{invariantId}: {detail}")
    {
        InvariantId = invariantId;
        Detail = detail;
    }

    /// <summary>The spec id of the broken invariant, e.g. "INV-SPAN-3".</summary>
    public string InvariantId { get; }

    public string Detail { get; }
}
