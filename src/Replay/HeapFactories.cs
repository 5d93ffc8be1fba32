// HeapFactories: the allocators the replay, the CLI and the tests can run, by name. Adding an
// implementation is one line in s_factories; `--impl both` means every name in AllNames, in that
// order: the first is the oracle (LockstepHeap's A); the second is checked against in lock step. A
// name listed in AllNames but missing from the factories is a known implementation that is not
// built (a usage error). No Go counterpart: Go has one allocator.
using GoAlloc.Reference;

namespace GoAlloc.Replay;

public static class HeapFactories
{
    public const string Reference = "reference";
    public const string Optimized = "optimized";
    public const string Both = "both";

    /// <summary>Every implementation the project plans, in comparison order.</summary>
    public static IReadOnlyList<string> AllNames { get; } = [Reference, Optimized];

    /// <summary>The values --impl accepts.</summary>
    public static IReadOnlyList<string> ImplChoices { get; } = [Reference, Optimized, Both];

    private static readonly Dictionary<string, Func<HeapOptions, IHeap>> s_factories = new(StringComparer.Ordinal)
    {
        [Reference] = options => new MHeap(options),
        [Optimized] = options => new GoAlloc.Optimized.MHeap(options),
    };

    public static IReadOnlyDictionary<string, Func<HeapOptions, IHeap>> Available => s_factories;

    /// <summary>Resolves an --impl value to the factories to run; false with a message when one is not built.</summary>
    public static bool TryResolve(string impl, out IReadOnlyList<(string Name, Func<HeapOptions, IHeap> Factory)> factories, out string error) =>
        TryResolve(impl, s_factories, out factories, out error);

    /// <summary>TryResolve over another set of factories (tests substitute a deliberately broken heap).</summary>
    public static bool TryResolve(string impl, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>> available,
        out IReadOnlyList<(string Name, Func<HeapOptions, IHeap> Factory)> factories, out string error)
    {
        IReadOnlyList<string> names = impl == Both ? AllNames : [impl];
        var list = new List<(string, Func<HeapOptions, IHeap>)>();
        foreach (string name in names)
        {
            if (!available.TryGetValue(name, out Func<HeapOptions, IHeap>? f))
            {
                factories = [];
                error = AllNames.Contains(name)
                    ? $"the {char.ToUpperInvariant(name[0])}{name[1..]} allocator is not built yet"
                    : $"unknown implementation '{name}' (expected one of: {string.Join(", ", ImplChoices)})";
                return false;
            }
            list.Add((name, f));
        }
        factories = list;
        error = "";
        return true;
    }
}
