// HeapInvariantException: what Verify() throws when a spec invariant (spec/SPEC.md, INV-*) is broken.
// The message starts with the INV id so a failing test names the rule that broke.
namespace GoAlloc;

/// <summary>Thrown by IHeap.Verify when a spec/SPEC.md invariant is broken; the message starts with the INV id.</summary>
public sealed class HeapInvariantException : Exception
{
    /// <summary>Reports invariant <paramref name="invariantId"/> (e.g. "INV-SPAN-3") broken as <paramref name="detail"/> says.</summary>
    public HeapInvariantException(string invariantId, string detail)
        : base($"{invariantId}: {detail}")
    {
        InvariantId = invariantId;
        Detail = detail;
    }

    /// <summary>The spec id of the broken invariant, e.g. "INV-SPAN-3".</summary>
    public string InvariantId { get; }

    /// <summary>What was found broken, without the INV id.</summary>
    public string Detail { get; }
}
