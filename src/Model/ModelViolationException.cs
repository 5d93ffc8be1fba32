// ModelViolationException: a heap disagreed with the heap model (HeapModel). The message starts with
// the identity that broke, in brackets ("[heap_alloc] ..."), so a failing test or a shrunk property
// counterexample names the rule; Identity holds the same name (one of ModelIdentity's constants).
// Distinct from HeapInvariantException (Verify's own checks) and EquivalenceException (two heaps
// differ): this one means a heap differs from what the spec says the heap means.
namespace GoAlloc.Model;

public sealed class ModelViolationException : Exception
{
    public ModelViolationException(string identity, string detail)
        : base($"[{identity}] {detail}")
    {
        Identity = identity;
        Detail = detail;
    }

    /// <summary>The broken identity, e.g. ModelIdentity.HeapAlloc ("heap_alloc").</summary>
    public string Identity { get; }

    public string Detail { get; }
}
