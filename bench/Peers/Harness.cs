// Harness: warm-up, then rounds; in each round every workload runs once on every case, in an
// order rotated by the round number, and the Go program runs one round in each mode.
namespace GoAlloc.Peers;

public sealed class Results
{
    public List<Case> Cases { get; } = [];
    /// <summary>ns per op by workload, case name, round.</summary>
    public Dictionary<Workload, Dictionary<string, List<double>>> Ns { get; } = [];
    /// <summary>Managed bytes per op by workload and case (the last round's).</summary>
    public Dictionary<Workload, Dictionary<string, double>> Managed { get; } = [];
    public Dictionary<string, Dictionary<Workload, List<double>>> Go { get; } = [];
    public List<Workload> Workloads { get; } = [];
    public int Rounds { get; set; }
}

public static class Harness
{
    private const int WarmUpCalls = 80;

    public static Results Run(Options o)
    {
        string? trace = o.Workloads == null || o.Workloads.Contains(Workload.Trace) ? o.TracePath : null;
        var data = new WorkloadData(o.Scale, trace);
        string? plan = null;
        if (data.Trace != null && o.GoBinary != null)
        {
            plan = Path.Combine(Path.GetTempPath(), $"goalloc-peers-{Environment.ProcessId}.plan");
            data.Trace.WriteForGo(plan);
        }
        GoRunner? go = o.GoBinary == null ? null : new GoRunner(o.GoBinary, o.Scale, plan);
        var res = new Results { Rounds = o.Rounds };
        res.Cases.AddRange(Case.All(want: a => o.Allocators == null || o.Allocators.Contains(a))
            .Where(c => o.Variant == null || c.Zero == (o.Variant == "zeroed")));
        res.Workloads.AddRange((o.Workloads ?? Enum.GetValues<Workload>()).Where(w => w != Workload.Trace || data.Trace != null));
        foreach (Workload w in res.Workloads)
        {
            res.Ns[w] = res.Cases.ToDictionary(c => c.Name, _ => new List<double>());
            res.Managed[w] = [];
        }
        // Warm-up: each workload body is called once per round, too few calls for tiered
        // compilation to promote it (and a loop of 200 large objects never reaches OSR), so every
        // case runs WarmUpCalls times on tiny inputs first: the bodies reach Tier1 with their PGO
        // profile (guarded devirtualization of IProcessor.Alloc per implementation), then once at
        // full size so each allocator's heap has grown.
        Console.Error.WriteLine($"warm-up ({res.Cases.Count} cases x {res.Workloads.Count} workloads)");
        var tiny = new WorkloadData(Math.Min(o.Scale, 0.002), trace);
        for (int i = 0; i < WarmUpCalls; i++)
        {
            foreach (Workload w in res.Workloads)
                foreach (Case c in res.Cases)
                    c.Run(w, tiny);
            if (i % 20 == 19)
                Thread.Sleep(200);
        }
        foreach (Workload w in res.Workloads)
            foreach (Case c in res.Cases)
                c.Run(w, data);
        Thread.Sleep(300);
        foreach (string mode in new[] { GoRunner.Off, GoRunner.Hundred })
            res.Go[mode] = res.Workloads.ToDictionary(w => w, _ => new List<double>());
        for (int r = 0; r < o.Rounds; r++)
        {
            Console.Error.WriteLine($"round {r + 1}/{o.Rounds}");
            foreach (Workload w in res.Workloads)
            {
                for (int k = 0; k < res.Cases.Count; k++)
                {
                    Case c = res.Cases[(k + r) % res.Cases.Count];
                    Sample s = c.Run(w, data);
                    res.Ns[w][c.Name].Add(s.NsPerOp);
                    res.Managed[w][c.Name] = (double)s.ManagedBytes / s.Ops;
                }
            }
            if (go != null)
            {
                foreach ((string mode, string arg) in new[] { (GoRunner.Off, "off"), (GoRunner.Hundred, "100") })
                {
                    Dictionary<Workload, double> g = go.Round(arg);
                    foreach (Workload w in res.Workloads)
                        if (g.TryGetValue(w, out double ns))
                            res.Go[mode][w].Add(ns);
                }
            }
        }
        foreach (Case c in res.Cases)
            c.Owner?.Dispose();
        if (plan != null)
            File.Delete(plan);
        return res;
    }
}
