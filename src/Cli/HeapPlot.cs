// HeapPlot: the picture of `alloc replay --plot FILE.png` (ScottPlot, rendered headless with
// SkiaSharp). Top panel: per GC cycle (the cycle rows, stats read after each cycle's sweep),
// heap_inuse, heap_alloc and heap_released of each implementation (the first as lines, the others
// as markers over them, so equal stats show as markers on the line), and the trace's own live bytes
// after the cycle (what Go's heap held, TracePlan.TraceLiveBytes). heap_released is on the right
// axis: it is tens of MiB of an arena next to the few MiB in use. Below: span occupancy by size
// class at the end of the replay (SpanOccupancy), a heat map of spans per (size class, fill
// ratio), one panel per implementation unless it is the same as the previous one's. HeapPlotData
// holds exactly the figures drawn, so tests check them against the replay. Rendering only: the
// replay and the walk are done before.
using GoAlloc.Replay;
using ScottPlot;

namespace GoAlloc.Cli;

/// <summary>One implementation's per-cycle figures, in bytes, one point per GC cycle.</summary>
public sealed record HeapSeries(string Implementation, double[] Cycles, double[] HeapInuse, double[] HeapAlloc, double[] HeapReleased, double[] TraceLiveBytes);

/// <summary>What HeapPlot draws.</summary>
public sealed class HeapPlotData
{
    public required string Title { get; init; }
    public required IReadOnlyList<HeapSeries> Series { get; init; }
    /// <summary>Span occupancy at the end, per implementation (in the order of Series; missing when the walk did not run).</summary>
    public required IReadOnlyList<(string Implementation, SpanOccupancy Occupancy)> Occupancy { get; init; }

    /// <summary>The series from the replays' cycle rows, and the occupancy walks by implementation name.</summary>
    public static HeapPlotData From(string title, IReadOnlyList<ReplayResult> results, IReadOnlyDictionary<string, SpanOccupancy> occupancy) => new()
    {
        Title = title,
        Series = [.. results.Select(r => new HeapSeries(
            r.Implementation,
            [.. r.Rows.Select(x => (double)x.Cycle)],
            [.. r.Rows.Select(x => (double)x.HeapInuse)],
            [.. r.Rows.Select(x => (double)x.HeapAlloc)],
            [.. r.Rows.Select(x => (double)x.HeapReleased)],
            [.. r.Rows.Select(x => (double)x.TraceLiveBytes)]))],
        Occupancy = [.. results.Where(r => occupancy.ContainsKey(r.Implementation)).Select(r => (r.Implementation, occupancy[r.Implementation]))],
    };
}

public static class HeapPlot
{
    public const int Width = 1200;
    /// <summary>Height of the top panel; each heat map gets its own height from its rows.</summary>
    public const int LinesHeight = 520;

    private const double MiB = 1 << 20;

    /// <summary>The picture's height for this data: the lines panel and one per heat map drawn.</summary>
    public static int Height(HeapPlotData data) => LinesHeight + HeatMaps(data).Sum(h => HeatMapHeight(h.Occupancy));

    /// <summary>Renders the picture to a PNG at path (PlotFile.Save: written whole or not at all).</summary>
    public static void Save(HeapPlotData data, string path)
    {
        Multiplot multiplot = Build(data);
        PlotFile.Save(path, tmp => multiplot.SavePng(tmp, Width, Height(data)));
    }

    public static Multiplot Build(HeapPlotData data)
    {
        var maps = HeatMaps(data);
        var multiplot = new Multiplot();
        // A new Multiplot holds one empty plot: the lines go there.
        Plot lines = multiplot.Count() > 0 ? multiplot.GetPlot(0) : multiplot.AddPlot();
        DrawLines(lines, data);
        var heights = new List<float> { LinesHeight };
        foreach (var (name, occupancy, note) in maps)
        {
            DrawHeatMap(multiplot.AddPlot(), name, occupancy, note);
            heights.Add(HeatMapHeight(occupancy));
        }
        var layout = new ScottPlot.MultiplotLayouts.DraggableRows();
        layout.SetHeights(heights);
        multiplot.Layout = layout;
        return multiplot;
    }

    /// <summary>The heat maps drawn: the first implementation's, then each one that differs from the one before it.</summary>
    private static List<(string Implementation, SpanOccupancy Occupancy, string Note)> HeatMaps(HeapPlotData data)
    {
        var maps = new List<(string, SpanOccupancy, string)>();
        for (int i = 0; i < data.Occupancy.Count; i++)
        {
            var (name, occupancy) = data.Occupancy[i];
            if (i > 0 && occupancy.SameAs(data.Occupancy[i - 1].Occupancy))
                continue;
            var same = data.Occupancy.Skip(i + 1).TakeWhile(o => o.Occupancy.SameAs(occupancy)).Select(o => o.Implementation).ToList();
            maps.Add((name, occupancy, same.Count == 0 ? "" : $"; {string.Join(", ", same)}: the same spans"));
        }
        return maps;
    }

    private static int HeatMapHeight(SpanOccupancy occupancy) => 140 + 20 * Math.Max(4, occupancy.SizeClassesPresent().Count);

    private static void DrawLines(Plot plot, HeapPlotData data)
    {
        (string Name, Color Color)[] metrics =
        [
            ("heap_inuse", Colors.C0),
            ("heap_alloc", Colors.C1),
            ("heap_released (right axis)", Colors.C2),
        ];
        for (int s = 0; s < data.Series.Count; s++)
        {
            HeapSeries series = data.Series[s];
            double[][] values = [series.HeapInuse, series.HeapAlloc, series.HeapReleased];
            for (int m = 0; m < metrics.Length; m++)
            {
                var scatter = plot.Add.Scatter(series.Cycles, [.. values[m].Select(v => v / MiB)]);
                scatter.Color = metrics[m].Color;
                scatter.LegendText = $"{metrics[m].Name}, {series.Implementation}";
                if (s == 0)
                {
                    scatter.LineWidth = 2.5f;
                    scatter.MarkerSize = 0;
                }
                else
                {
                    // Later implementations: markers only, so they show on the first one's line when equal.
                    scatter.LineWidth = 0;
                    scatter.MarkerSize = 9;
                    scatter.MarkerShape = s % 2 == 1 ? MarkerShape.OpenCircle : MarkerShape.OpenSquare;
                }
                if (m == 2)
                {
                    scatter.Axes.YAxis = plot.Axes.Right;
                    scatter.LinePattern = LinePattern.DenselyDashed;
                }
            }
        }
        if (data.Series.Count > 0)
        {
            HeapSeries first = data.Series[0];
            var live = plot.Add.Scatter(first.Cycles, [.. first.TraceLiveBytes.Select(v => v / MiB)]);
            live.Color = Colors.Black;
            live.LinePattern = LinePattern.Dashed;
            live.LineWidth = 2;
            live.MarkerSize = 5;
            live.LegendText = "live bytes in the trace (Go's heap)";
        }
        bool noCycle = data.Series.All(s => s.Cycles.Length == 0);
        plot.Title(data.Title + (noCycle ? ": the trace has no GC cycle (span occupancy below)" : ""), size: 15);
        plot.Axes.Bottom.Label.Text = "GC cycle (stats after its sweep)";
        plot.Axes.Left.Label.Text = "MiB";
        plot.Axes.Right.Label.Text = "heap_released, MiB";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Edge.Right);
    }

    private static void DrawHeatMap(Plot plot, string implementation, SpanOccupancy occupancy, string note)
    {
        IReadOnlyList<int> classes = occupancy.SizeClassesPresent();
        int[,] counts = occupancy.Histogram();
        int max = 1;
        foreach (int c in counts)
            max = Math.Max(max, c);
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int row = 0; row < classes.Count; row++)
        {
            for (int bin = 0; bin < SpanOccupancy.Bins; bin++)
            {
                int n = counts[row, bin];
                var cell = plot.Add.Rectangle(bin, bin + 1, row, row + 1);
                cell.LineWidth = 0.5f;
                cell.LineColor = Colors.White;
                // Colour on a log scale: a few classes hold most spans.
                double level = n == 0 ? 0 : Math.Log(1 + n) / Math.Log(1 + max);
                cell.FillColor = n == 0 ? Colors.WhiteSmoke : colormap.GetColor(0.15 + 0.85 * level);
                if (n > 0)
                {
                    var text = plot.Add.Text($"{n}", bin + 0.5, row + 0.5);
                    text.Alignment = Alignment.MiddleCenter;
                    text.LabelFontSize = 11;
                    text.LabelFontColor = level > 0.6 ? Colors.Black : Colors.White;
                }
            }
        }
        string[] binNames = [.. Enumerable.Range(0, SpanOccupancy.Bins - 1).Select(b => $"{b * 10}-{(b == 9 ? 99 : b * 10 + 10)}%"), "full"];
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, SpanOccupancy.Bins).Select(b => b + 0.5)], binNames);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, classes.Count).Select(r => r + 0.5)],
            [.. classes.Select(c => $"{SizeClasses.ClassToSize[c]} B")]);
        plot.Axes.SetLimits(0, SpanOccupancy.Bins, 0, Math.Max(1, classes.Count));
        plot.Axes.Bottom.Label.Text = "fill ratio of the span (allocated objects / objects the span holds)";
        plot.Axes.Left.Label.Text = "size class (object size)";
        plot.Grid.IsVisible = false;
        string complete = occupancy.Complete ? "" : $" (INCOMPLETE: walk found {occupancy.PagesFound:N0} of {occupancy.PagesInUse:N0} pages in use)";
        plot.Title($"In-use spans at the end of the replay by size class and fill ratio ({implementation}{note}): " +
            $"{occupancy.Spans.Count:N0} small spans, {occupancy.LargeSpans:N0} large{complete}", size: 13);
    }
}
