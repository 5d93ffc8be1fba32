// Report: the markdown the harness prints: the ratio table (Optimized / each peer, medians of
// per-round ratios), thread scaling, the targets of issue 19 with met / missed, the memory table
// and the scaling plot's figures; headed by date, machine, load and commit.
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace GoAlloc.Peers;

public sealed class Report
{
    private static readonly string[] s_retainSettings = ["MIMALLOC_ALLOW_DECOMMIT", "MALLOC_CONF", "TCMALLOC_RELEASE_RATE", "GLIBC_TUNABLES"];

    private readonly StringBuilder _sb = new();
    private readonly List<(string Target, double Value, double Limit, bool Below)> _targets = [];

    public Report(Options o)
    {
        _sb.AppendLine(CultureInfo.InvariantCulture, $"## Side by side ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC)");
        _sb.AppendLine();
        _sb.AppendLine(CultureInfo.InvariantCulture, $"- commit {Sh("git", "rev-parse --short HEAD")}{(Sh("git", "status --porcelain --untracked-files=no").Length > 0 ? " (+ uncommitted changes)" : "")}");
        _sb.AppendLine(CultureInfo.InvariantCulture, $"- machine: {Cpu()}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Sh("go", "version")}");
        _sb.AppendLine(CultureInfo.InvariantCulture, $"- load at start: {File.ReadAllText("/proc/loadavg").Trim()} (1, 5, 15 min; only same-round ratios are meaningful)");
        _sb.AppendLine(CultureInfo.InvariantCulture, $"- {o.Rounds} rounds, scale {o.Scale}; peers: Debian libmimalloc2.0, libjemalloc2, libtcmalloc-minimal4, glibc");
        // bench/peers --retain: the peers keep the memory they free, as GoAlloc does between cycles.
        // The settings are printed as this process received them (bench/peers sets them).
        string[] retain = [.. s_retainSettings
            .Select(v => (v, Environment.GetEnvironmentVariable(v)))
            .Where(e => e.Item2 != null && (e.v != "GLIBC_TUNABLES" || e.Item2.Contains("glibc.malloc", StringComparison.Ordinal)))
            .Select(e => $"{e.v}={e.Item2}")];
        _sb.AppendLine(retain.Length > 0
            ? $"- peers configured to keep freed memory (bench/peers --retain: {string.Join(", ", retain)})"
            : "- peers with their default options (they give freed memory back to the system on their own schedules; see bench/peers --retain)");
        _sb.AppendLine();
    }

    public void Timing(Results r)
    {
        _sb.AppendLine("Ratios are Optimized / peer (below 1: Optimized faster), each the median over rounds of that round's ratio. ");
        _sb.AppendLine("zeroed: Optimized `Alloc(size)` (scan, needzero) vs `calloc`; raw: `Alloc(size, noscan: true, needzero: false)` vs `malloc`. ");
        _sb.AppendLine("Go 1.19 allocates zeroed objects only (its columns are on the zeroed rows). GoAlloc's cost per op includes the GC cycle that frees the objects; the peers' includes `free`.");
        _sb.AppendLine();
        string[] peers = [.. Case.Allocators.Skip(1)];
        _sb.Append("| workload | variant | optimized ns/op |");
        foreach (string p in peers)
            _sb.Append(CultureInfo.InvariantCulture, $" / {p} |");
        _sb.AppendLine(" / Go GOGC=off + GC | / Go GOGC=100 | managed B/op |");
        _sb.Append("| --- | --- | ---: |");
        foreach (string _ in peers)
            _sb.Append(" ---: |");
        _sb.AppendLine(" ---: | ---: | ---: |");
        foreach (Workload w in r.Workloads)
        {
            foreach (bool zero in new[] { true, false })
            {
                Case opt = r.Cases.First(c => c.Allocator == "optimized" && c.Zero == zero);
                List<double> o = r.Ns[w][opt.Name];
                _sb.Append(CultureInfo.InvariantCulture, $"| {w} | {(zero ? "zeroed" : "raw")} | {Stats.Median(o):F2} |");
                foreach (string p in peers)
                {
                    Case pc = r.Cases.First(c => c.Allocator == p && c.Zero == zero);
                    _sb.Append(CultureInfo.InvariantCulture, $" {Stats.MedianRatio(o, r.Ns[w][pc.Name]):F2} |");
                }
                foreach (string mode in new[] { GoRunner.Off, GoRunner.Hundred })
                {
                    if (zero && r.Go.TryGetValue(mode, out var g) && g[w].Count > 0)
                        _sb.Append(CultureInfo.InvariantCulture, $" {Stats.MedianRatio(o, g[w]):F2} |");
                    else
                        _sb.Append(" - |");
                }
                _sb.AppendLine(CultureInfo.InvariantCulture, $" {r.Managed[w][opt.Name]:F4} |");
            }
        }
        _sb.AppendLine();
        Scaling1To2(r);
        Targets(r);
    }

    /// <summary>A subset run: median ns/op per case and workload, no ratios.</summary>
    public void Raw(Results r)
    {
        _sb.AppendLine("| workload | case | median ns/op |");
        _sb.AppendLine("| --- | --- | ---: |");
        foreach (Workload w in r.Workloads)
            foreach (Case c in r.Cases)
                _sb.AppendLine(CultureInfo.InvariantCulture, $"| {w} | {c.Name} | {Stats.Median(r.Ns[w][c.Name]):F2} |");
    }

    private void Scaling1To2(Results r)
    {
        if (!r.Workloads.Contains(Workload.Threads2))
            return;
        _sb.AppendLine("Thread scaling, 16 B objects (throughput with 2 threads / with 1 thread, each thread its own P; median over rounds):");
        _sb.AppendLine();
        _sb.AppendLine("| allocator | zeroed | raw |");
        _sb.AppendLine("| --- | ---: | ---: |");
        foreach (string a in Case.Allocators)
        {
            _sb.Append(CultureInfo.InvariantCulture, $"| {a} |");
            foreach (bool zero in new[] { true, false })
                _sb.Append(CultureInfo.InvariantCulture, $" {ThreadScaling(r, a, zero):F2} |");
            _sb.AppendLine();
        }
        if (r.Go.TryGetValue(GoRunner.Off, out var g) && g[Workload.Threads1].Count > 0)
        {
            foreach (string mode in new[] { GoRunner.Off, GoRunner.Hundred })
                _sb.AppendLine(CultureInfo.InvariantCulture, $"| {mode} | {Stats.MedianRatio(r.Go[mode][Workload.Threads1], r.Go[mode][Workload.Threads2]):F2} | - |");
        }
        _sb.AppendLine();
    }

    private static double ThreadScaling(Results r, string allocator, bool zero)
    {
        string name = r.Cases.First(c => c.Allocator == allocator && c.Zero == zero).Name;
        return Stats.MedianRatio(r.Ns[Workload.Threads1][name], r.Ns[Workload.Threads2][name]);
    }

    private void Targets(Results r)
    {
        double Ratio(Workload w, bool zero, string peer)
        {
            string o = r.Cases.First(c => c.Allocator == "optimized" && c.Zero == zero).Name;
            string p = r.Cases.First(c => c.Allocator == peer && c.Zero == zero).Name;
            return Stats.MedianRatio(r.Ns[w][o], r.Ns[w][p]);
        }
        void T(string what, double v, double limit, bool below = true) => _targets.Add((what, v, limit, below));
        T("batch 16 B zeroed / mimalloc calloc", Ratio(Workload.Batch16, true, "mimalloc"), 0.6);
        T("batch 16 B raw / mimalloc malloc", Ratio(Workload.Batch16, false, "mimalloc"), 1.0);
        T("mixed 8..1024 B zeroed / mimalloc calloc", Ratio(Workload.Mixed, true, "mimalloc"), 0.8);
        T("large 64 KiB..1 MiB raw / mimalloc malloc", Ratio(Workload.Large, false, "mimalloc"), 1.0);
        T("large 64 KiB..1 MiB zeroed / mimalloc calloc", Ratio(Workload.Large, true, "mimalloc"), 0.8);
        T("2 threads 16 B: scaling 1 -> 2 threads (zeroed)", ThreadScaling(r, "optimized", true), 1.8, below: false);
        T("2 threads 16 B zeroed / mimalloc calloc per object", Ratio(Workload.Threads2, true, "mimalloc"), 1.0);
        if (r.Go.TryGetValue(GoRunner.Off, out var g))
        {
            string o = r.Cases.First(c => c.Allocator == "optimized" && c.Zero).Name;
            foreach (Workload w in r.Workloads)
                if (g[w].Count > 0)
                    T($"{w} zeroed / Go GOGC=off + GC", Stats.MedianRatio(r.Ns[w][o], g[w]), 1.0 / 3);
        }
    }

    public void Memory(List<MemoryRun.Row> rows)
    {
        _sb.AppendLine("Memory, each workload once in a fresh process (zeroed variant): peak RSS growth over the workload, and for GoAlloc the largest heap_sys / heap_inuse at a cycle's start; ratio = RSS / mimalloc's RSS.");
        _sb.AppendLine();
        string[] allocs = [.. Case.Allocators, "go"];
        _sb.Append("| workload |");
        foreach (string a in allocs)
            _sb.Append(CultureInfo.InvariantCulture, $" {a} RSS MiB |");
        _sb.AppendLine(" optimized heap_sys / heap_inuse MiB | optimized RSS / mimalloc |");
        _sb.Append("| --- |");
        foreach (string _ in allocs)
            _sb.Append(" ---: |");
        _sb.AppendLine(" ---: | ---: |");
        foreach (var g in rows.GroupBy(x => x.Workload))
        {
            _sb.Append(CultureInfo.InvariantCulture, $"| {g.Key} |");
            foreach (string a in allocs)
            {
                var row = g.FirstOrDefault(x => x.Allocator == a);
                _sb.Append(row == null ? " - |" : string.Create(CultureInfo.InvariantCulture, $" {row.Rss / 1048576.0:F1} |"));
            }
            var opt = g.First(x => x.Allocator == "optimized");
            var mi = g.First(x => x.Allocator == "mimalloc");
            double ratio = (double)opt.Rss / Math.Max(1, mi.Rss);
            _sb.AppendLine(CultureInfo.InvariantCulture, $" {opt.Sys / 1048576.0:F1} / {opt.InUse / 1048576.0:F1} | {ratio:F2} |");
            T2($"{g.Key}: optimized peak RSS / mimalloc", ratio, 1.2);
        }
        _sb.AppendLine();
        _sb.AppendLine(CultureInfo.InvariantCulture, $"Metadata per span (Optimized): the native span record, {MemoryRun.SpanRecordBytes} B ({(MemoryRun.SpanRecordBytes + 15) & ~15} B as fixalloc hands it out; each P keeps up to 128 free records, Go's p.mspancache), plus two bitmaps of nelems/8 B rounded to 8 (alloc and gcmark bits) from the heap's gcBits arenas; per arena: the heapArena record ({MemoryRun.HeapArenaBytes} B per 64 MiB).");
        _sb.AppendLine();
        void T2(string what, double v, double limit) => _targets.Add((what, v, limit, true));
    }

    public void Scaling(List<ScalingRun.Point> points)
    {
        _sb.AppendLine("Scaling with heap size (Optimized; ns per operation, median of rounds; plot: docs/scaling.png):");
        _sb.AppendLine();
        _sb.AppendLine("| operation | x | ns/op |");
        _sb.AppendLine("| --- | ---: | ---: |");
        foreach (var p in points)
            _sb.AppendLine(CultureInfo.InvariantCulture, $"| {p.Series} | {p.X} {p.XUnit} | {p.Ns:F1} |");
        _sb.AppendLine();
    }

    public override string ToString()
    {
        var sb = new StringBuilder(_sb.ToString());
        if (_targets.Count > 0)
        {
            sb.AppendLine("Targets (issue 19):");
            sb.AppendLine();
            sb.AppendLine("| target | measured | limit | met |");
            sb.AppendLine("| --- | ---: | ---: | --- |");
            foreach (var t in _targets)
            {
                bool met = t.Below ? t.Value <= t.Limit : t.Value >= t.Limit;
                string by = met ? "yes" : string.Create(CultureInfo.InvariantCulture, $"no ({(t.Below ? t.Value / t.Limit : t.Limit / t.Value):F2}x off)");
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {t.Target} | {t.Value:F2} | {(t.Below ? "<=" : ">=")} {t.Limit:F2} | {by} |");
            }
        }
        return sb.ToString();
    }

    private static string Cpu()
    {
        string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line == null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
    }

    private static string Sh(string file, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            using Process p = Process.Start(psi)!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return s;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "(not found)";
        }
    }
}
