// Stats: medians, and the median of per-round ratios (the only comparison that survives a loaded,
// shared machine: both numbers of a ratio come from the same round).
namespace GoAlloc.Peers;

public static class Stats
{
    public static double Median(IReadOnlyList<double> xs)
    {
        if (xs.Count == 0)
            return double.NaN;
        var s = xs.OrderBy(x => x).ToArray();
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /// <summary>Median over rounds of a[r] / b[r].</summary>
    public static double MedianRatio(IReadOnlyList<double> a, IReadOnlyList<double> b) =>
        Median(Enumerable.Range(0, Math.Min(a.Count, b.Count)).Select(r => a[r] / b[r]).ToList());
}
