// ReplayComparison: the equivalence contract seen from two separate replays. Two implementations
// replaying the same trace single-threaded must report the same memstats after every cycle and at
// the end (the contract in IHeap.cs). `--impl both` compares its timed solo runs with it; the
// lockstep replay before them has compared addresses and full stats after every operation already.
// Returns the differences as text, empty when they agree. No Go counterpart.
namespace GoAlloc.Replay;

public static class ReplayComparison
{
    public const int MaxDifferences = 20;

    public static List<string> Compare(ReplayResult a, ReplayResult b)
    {
        var diffs = new List<string>();
        string who = $"{a.Implementation} vs {b.Implementation}";
        if (a.Rows.Count != b.Rows.Count)
            diffs.Add($"{who}: {a.Rows.Count} != {b.Rows.Count} cycles");
        for (int i = 0; i < Math.Min(a.Rows.Count, b.Rows.Count) && diffs.Count < MaxDifferences; i++)
        {
            CycleRow x = a.Rows[i], y = b.Rows[i];
            void Cmp(string name, long u, long v)
            {
                if (u != v)
                    diffs.Add($"{who}: cycle {i}: {name} {u} != {v}");
            }
            Cmp("swept", x.SweepFrees, y.SweepFrees);
            Cmp("heap_sys", x.HeapSys, y.HeapSys);
            Cmp("heap_inuse", x.HeapInuse, y.HeapInuse);
            Cmp("heap_alloc", x.HeapAlloc, y.HeapAlloc);
            Cmp("heap_released", x.HeapReleased, y.HeapReleased);
            Cmp("scavenged", x.ScavengedBytes, y.ScavengedBytes);
            Cmp("live objects", x.LiveObjects, y.LiveObjects);
        }
        foreach (string d in a.FinalStats.Diff(b.FinalStats))
        {
            if (diffs.Count >= MaxDifferences)
                break;
            diffs.Add($"{who}: final stats: {d}");
        }
        return diffs;
    }
}
