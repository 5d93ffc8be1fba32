// MemoryRun: peak memory per workload. Each (allocator, workload) runs once in a fresh child
// process (this program with --child), so no allocator's retained memory leaks into another's
// figure: the child sets up the inputs (touching them), records VmRSS, resets the peak
// (/proc/self/clear_refs 5), runs the workload and reports VmHWM - baseline.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace GoAlloc.Peers;

public static class MemoryRun
{
    public sealed record Row(Workload Workload, string Allocator, long Rss, long Sys, long InUse);

    public static int SpanRecordBytes => Unsafe.SizeOf<GoAlloc.Optimized.MSpan>();
    public static int HeapArenaBytes => Unsafe.SizeOf<GoAlloc.Optimized.HeapArena>();

    private static readonly Workload[] Measured =
        [Workload.Batch16, Workload.Mixed, Workload.Large, Workload.Pairs16, Workload.LiveSet, Workload.Threads2, Workload.Trace];

    public static List<Row> All(Options o)
    {
        var rows = new List<Row>();
        // Run this assembly again through the dotnet host that runs this process.
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        string dll = typeof(MemoryRun).Assembly.Location;
        string? plan = null;
        GoRunner? go = null;
        if (o.GoBinary != null && o.TracePath != null)
        {
            plan = Path.Combine(Path.GetTempPath(), $"goalloc-peers-mem-{Environment.ProcessId}.plan");
            TraceReplay.Load(o.TracePath, o.Scale).WriteForGo(plan);
        }
        if (o.GoBinary != null)
            go = new GoRunner(o.GoBinary, o.Scale, plan);
        foreach (Workload w in Measured)
        {
            if (w == Workload.Trace && o.TracePath == null)
                continue;
            Console.Error.WriteLine($"memory: {w}");
            foreach (string a in Case.Allocators)
            {
                string args = $"--child {a} zeroed {w} --scale {o.Scale.ToString(CultureInfo.InvariantCulture)}" + (o.TracePath == null ? "" : $" --trace {o.TracePath}");
                var psi = new ProcessStartInfo(host, $"{dll} {args}") { RedirectStandardOutput = true };
                using Process p = Process.Start(psi)!;
                string[] f = p.StandardOutput.ReadToEnd().Trim().Split(' ');
                p.WaitForExit();
                if (p.ExitCode != 0 || f.Length < 3)
                    throw new InvalidOperationException($"memory child {args} failed ({p.ExitCode})");
                rows.Add(new Row(w, a, long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture)));
            }
            if (go != null)
            {
                var (rss, sys, inuse) = go.Memory(w);
                rows.Add(new Row(w, "go", rss, sys, inuse));
            }
        }
        if (plan != null)
            File.Delete(plan);
        return rows;
    }

    /// <summary>--child allocator zeroed|raw workload: prints "rssGrowth heapSys heapInuse".</summary>
    public static int Child(Options o)
    {
        string[] c = o.Child!;
        var data = new WorkloadData(o.Scale, c[2] == nameof(Workload.Trace) ? o.TracePath : null) { FillObjects = true };
        Touch(data);
        Case k = Case.Make(c[0], c[1] == "zeroed", probe: true);
        GC.Collect();
        long baseline = Status("VmRSS");
        File.WriteAllText("/proc/self/clear_refs", "5");
        k.Run(Enum.Parse<Workload>(c[2]), data);
        long peak = Status("VmHWM") - baseline;
        var (sys, inuse) = k.HeapBytes();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{peak} {sys} {inuse}"));
        k.Owner?.Dispose();
        return 0;
    }

    private static void Touch(WorkloadData d)
    {
        Array.Fill(d.Ptrs, 1);
        Array.Fill(d.Survivors, 1);
        Array.Fill(d.PrevSurvivors, 1);
        foreach (nint[] t in d.ThreadPtrs)
            Array.Fill(t, 1);
        if (d.Trace != null)
        {
            Array.Fill(d.Trace.Ptrs, 1);
            Array.Fill(d.Trace.LiveBuffer, 1);
        }
    }

    private static long Status(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
