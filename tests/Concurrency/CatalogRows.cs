// CatalogRows: the seeded-bug catalog's entries (src/Concurrency/SeededBugCatalog.cs) as xunit
// theory rows for SeededBugCatalogTests and SeededBugCatalogSequentialTests (seeded build only).
#if SEEDED_BUGS
using Xunit;

namespace GoAlloc.Concurrency;

public static class CatalogRows
{
    /// <summary>Theory rows (bug, scenario, allocator: serializable, so each entry is its own test case).</summary>
    public static TheoryData<SeededBug, string, string> Data(IReadOnlyList<CatalogEntry> entries)
    {
        var d = new TheoryData<SeededBug, string, string>();
        foreach (CatalogEntry e in entries)
            d.Add(e.Bug, e.Scenario, e.Impl);
        return d;
    }
}
#endif
