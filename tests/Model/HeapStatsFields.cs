// HeapStatsFields: the fields of HeapStats found by reflection, so test heaps that change a snapshot
// (LyingHeap, DivergentHeap) copy every field and the lock-step self-check covers every field,
// including one added later: a stored field is an init-settable property (a long, or the BySize
// array of SizeClassStats); a derived one (HeapIdle, HeapObjects) has no setter and is computed
// from the stored ones. A stored field of any other type is refused (NotSupportedException), so a
// new kind of field cannot slip past the self-check unnoticed.
using System.Reflection;

namespace GoAlloc.Model;

public static class HeapStatsFields
{
    private static readonly PropertyInfo[] s_all = typeof(HeapStats).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>Every stored field (has a setter), in declaration order.</summary>
    public static IReadOnlyList<PropertyInfo> Stored { get; } = [.. s_all.Where(p => p.SetMethod != null).Select(Supported)];

    /// <summary>Every derived field (computed from the stored ones).</summary>
    public static IReadOnlyList<PropertyInfo> Derived { get; } = [.. s_all.Where(p => p.SetMethod == null)];

    /// <summary>The fields of one BySize entry.</summary>
    public static IReadOnlyList<PropertyInfo> SizeClassFields { get; } = typeof(SizeClassStats).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    private static PropertyInfo Supported(PropertyInfo p) =>
        p.PropertyType == typeof(long) || p.PropertyType == typeof(SizeClassStats[]) ? p
            : throw new NotSupportedException($"HeapStats.{p.Name} is a {p.PropertyType.Name}: teach HeapStatsFields (and the lock-step self-check) about it");

    /// <summary>A copy of s with every stored field, the BySize array copied (not shared).</summary>
    public static HeapStats Copy(HeapStats s)
    {
        var c = new HeapStats();
        foreach (PropertyInfo p in Stored)
            p.SetValue(c, p.GetValue(s) is SizeClassStats[] a ? a.Clone() : p.GetValue(s));
        return c;
    }

    /// <summary>A copy of s with one stored long field set to value.</summary>
    public static HeapStats With(HeapStats s, string field, long value)
    {
        HeapStats c = Copy(s);
        PropertyInfo p = Stored.Single(x => x.Name == field && x.PropertyType == typeof(long));
        p.SetValue(c, value);
        return c;
    }

    /// <summary>The value of one stored long field.</summary>
    public static long Get(HeapStats s, string field) =>
        (long)Stored.Single(x => x.Name == field && x.PropertyType == typeof(long)).GetValue(s)!;

    /// <summary>A copy of s whose BySize array is replaced.</summary>
    public static HeapStats WithBySize(HeapStats s, SizeClassStats[] bySize)
    {
        HeapStats c = Copy(s);
        typeof(HeapStats).GetProperty(nameof(HeapStats.BySize))!.SetValue(c, bySize);
        return c;
    }
}
