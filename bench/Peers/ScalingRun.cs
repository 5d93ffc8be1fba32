// ScalingRun: how Optimized's costs grow with the heap (issue 19, deliverable 3). Heaps of 1, 16
// and 256 arenas' worth of chunks (16, 256, 4,096 chunks of 4 MiB): page allocation in a full page
// heap whose only hole is in the last chunk (Go's radix tree of summaries: logarithmic), large
// objects (64 KiB..1 MiB) in a heap whose arenas are filled by 32 MiB objects, and the sweep of
// such a heap per span; and the mark + sweep cost per live object for live sets of 10k, 100k and
// 1M 16-byte objects. Rendered with ScottPlot to docs/scaling.png.
using System.Diagnostics;

namespace GoAlloc.Peers;

public static class ScalingRun
{
    public sealed record Point(string Series, long X, string XUnit, double Ns);

    private static readonly int[] Arenas = [1, 16, 256];
    private const int Rounds = 7;

    public static List<Point> Run(Options o)
    {
        var points = new List<Point>();
        // Warm-up: the first heap size must not pay for tiering up the page allocator's code.
        PageAlloc(16, 1);
        PageAlloc(16, 64);
        LargeAndSweep(1);
        MarkSweep(10_000);
        foreach (int arenas in Arenas)
            points.Add(new Point("page alloc+free, 1 page", arenas, "arenas", PageAlloc(arenas * 16, 1)));
        foreach (int arenas in Arenas)
            points.Add(new Point("page alloc+free, 64 pages", arenas, "arenas", PageAlloc(arenas * 16, 64)));
        foreach (int arenas in Arenas)
        {
            (double large, double sweep) = LargeAndSweep(arenas);
            points.Add(new Point("large object alloc 64 KiB..1 MiB", arenas, "arenas", large));
            points.Add(new Point("sweep, per span", arenas, "arenas", sweep));
        }
        foreach (int live in new[] { 10_000, 100_000, 1_000_000 })
            points.Add(new Point("mark + sweep, per live 16 B object", live, "live objects", MarkSweep(live)));
        Plot(points, o.ScalingPng!);
        return points;
    }

    private static double PageAlloc(int chunks, int npages)
    {
        nint @base = unchecked((nint)0x3c0000000000L);
        long bytes = (long)chunks * MallocConstants.PallocChunkBytes;
        int pages = chunks * MallocConstants.PallocChunkPages;
        using var pa = new GoAlloc.Optimized.PageAlloc();
        pa.Grow(@base, bytes);
        pa.AllocRange(@base, pages);
        pa.Free(@base + (nint)((long)(pages - 128) * MallocConstants.PageSize), 128);
        const int n = 20_000;
        var rounds = new List<double>();
        for (int r = 0; r < Rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
                pa.Free(pa.Alloc(npages, out _), npages);
            rounds.Add(Stopwatch.GetElapsedTime(t0).TotalNanoseconds / n);
        }
        return Stats.Median(rounds);
    }

    private static (double Large, double Sweep) LargeAndSweep(int arenas)
    {
        using var heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1, MemProfileRate = 0 });
        long[] sizes = WorkloadData.Sizes(200, 64 << 10, 1 << 20, 2);
        IProcessor p = heap.AcquireP(0);
        var fillers = new List<nint>();
        const long filler = 30L << 20;
        for (int i = 0; i < arenas * 2; i++)
            fillers.Add(p.Alloc(filler, noscan: true, needzero: false));
        p.Release();
        var large = new List<double>();
        var sweep = new List<double>();
        for (int r = 0; r < Rounds; r++)
        {
            p = heap.AcquireP(0);
            long t0 = Stopwatch.GetTimestamp();
            foreach (long s in sizes)
                p.Alloc(s, noscan: true, needzero: false);
            large.Add(Stopwatch.GetElapsedTime(t0).TotalNanoseconds / sizes.Length);
            p.Release();
            heap.StartMark();
            foreach (nint f in fillers)
                heap.Mark(f);
            heap.FinishMark();
            t0 = Stopwatch.GetTimestamp();
            heap.FinishSweep();
            sweep.Add(Stopwatch.GetElapsedTime(t0).TotalNanoseconds / (fillers.Count + sizes.Length));
        }
        return (Stats.Median(large), Stats.Median(sweep));
    }

    private static double MarkSweep(int live)
    {
        using var heap = new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1, MemProfileRate = 0 });
        var ptrs = new nint[live];
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < live; i++)
            ptrs[i] = p.Alloc(16, noscan: true);
        p.Release();
        var rounds = new List<double>();
        for (int r = 0; r < Rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            heap.StartMark();
            foreach (nint x in ptrs)
                heap.Mark(x);
            heap.FinishMark();
            heap.FinishSweep();
            rounds.Add(Stopwatch.GetElapsedTime(t0).TotalNanoseconds / live);
        }
        return Stats.Median(rounds);
    }

    private static void Plot(List<Point> points, string path)
    {
        var plt = new ScottPlot.Plot();
        foreach (var g in points.GroupBy(x => x.Series))
        {
            // Both kinds of series step by 16x or 10x per point: put point i at log10(16^i).
            double[] xs = [.. g.Select((_, i) => i * Math.Log10(16))];
            double[] ys = [.. g.Select(x => Math.Log10(x.Ns))];
            var s = plt.Add.Scatter(xs, ys);
            s.LegendText = g.Key;
            s.LineWidth = 2;
            s.MarkerSize = 8;
        }
        plt.Axes.Bottom.SetTicks([0, Math.Log10(16), Math.Log10(256)],
            ["1 arena (16 chunks)\n10k live objects", "16 arenas (256 chunks)\n100k live objects", "256 arenas (4,096 chunks)\n1M live objects"]);
        plt.Axes.Bottom.Label.Text = "heap size (log scale) / live-set size for mark + sweep (log scale)";
        plt.Axes.Left.Label.Text = "ns per operation (Optimized, log scale)";
        plt.Axes.Left.SetTicks([0, 1, 2, 3, 4, 5], ["1 ns", "10 ns", "100 ns", "1 us", "10 us", "100 us"]);
        plt.Title("GoAlloc Optimized: cost against heap size and live-set size");
        plt.ShowLegend(ScottPlot.Alignment.LowerRight);
        plt.Axes.SetLimits(-0.35, 2 * Math.Log10(16) + 0.35, 0, Math.Ceiling(Math.Log10(points.Max(x => x.Ns))) + 0.5);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plt.SavePng(path, 1100, 650);
    }
}
