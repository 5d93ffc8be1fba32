// SwimLanePlot: the picture of `--swimlane FILE.png` (ScottPlot, headless): one column per lane
// (task = thread, labelled with the Ps it worked for), time running down, one row per allocator
// step in schedule order, so a step of one thread between two of another shows where the
// scheduler switched. Each step is a box in its thread's column, coloured by operation family
// (P hand-over, mcache refill / cacheSpan, uncache, sweep, span freed, stop-the-world), with its
// number, operation, span, span class and sweepgen (SwimLaneData). The failure's first line and the
// verdict go under the last step. Long schedules keep their last MaxSteps steps (the failure is
// at the end); the title says how many were left out.
using GoAlloc.Concurrency;
using ScottPlot;

namespace GoAlloc.Cli;

public static class SwimLanePlot
{
    /// <summary>Steps drawn at most (the last ones).</summary>
    public const int MaxSteps = 400;
    public const int LaneWidth = 360;
    public const int RowHeight = 26;
    private const int MarginWidth = 90;
    private const int MarginHeight = 200;

    /// <summary>The steps drawn: the last MaxSteps.</summary>
    public static IReadOnlyList<SwimStep> Drawn(SwimLaneData data) =>
        data.Steps.Count <= MaxSteps ? data.Steps : [.. data.Steps.Skip(data.Steps.Count - MaxSteps)];

    public static int Width(SwimLaneData data) => MarginWidth + LaneWidth * Math.Max(1, data.Lanes.Count);

    public static int Height(SwimLaneData data) => MarginHeight + RowHeight * (Drawn(data).Count + 2);

    /// <summary>Renders to a PNG at path (PlotFile.Save: written whole or not at all).</summary>
    public static void Save(SwimLaneData data, string path)
    {
        Plot plot = Build(data);
        PlotFile.Save(path, tmp => plot.SavePng(tmp, Width(data), Height(data)));
    }

    public static Plot Build(SwimLaneData data)
    {
        var plot = new Plot();
        IReadOnlyList<SwimStep> steps = Drawn(data);
        var lane = new Dictionary<int, int>();
        for (int i = 0; i < data.Lanes.Count; i++)
            lane[data.Lanes[i].Thread] = i;
        int lanes = Math.Max(1, data.Lanes.Count);

        // Lane separators and headers (time runs down: row r spans y in [-r-1, -r]).
        for (int i = 0; i <= lanes; i++)
        {
            var line = plot.Add.VerticalLine(i);
            line.Color = Colors.Gray.WithAlpha(0.5);
            line.LineWidth = 1;
        }
        for (int i = 0; i < data.Lanes.Count; i++)
        {
            var header = plot.Add.Text(data.Lanes[i].Label, i + 0.5, 0.6);
            header.Alignment = Alignment.MiddleCenter;
            header.LabelFontSize = 14;
            header.LabelBold = true;
        }

        for (int r = 0; r < steps.Count; r++)
        {
            SwimStep s = steps[r];
            int x = lane[s.Thread];
            var box = plot.Add.Rectangle(x + 0.03, x + 0.97, -r - 0.92, -r - 0.08);
            box.FillColor = FamilyColor(s.Operation).WithAlpha(0.35);
            box.LineColor = FamilyColor(s.Operation);
            box.LineWidth = 1;
            var text = plot.Add.Text(Label(s), x + 0.05, -r - 0.5);
            text.Alignment = Alignment.MiddleLeft;
            text.LabelFontSize = 10.5f;
        }
        double bottom = -steps.Count;
        if (data.Failure != null || data.Verdict != null)
        {
            var failure = plot.Add.Text(string.Join("\n", new[] { data.Failure, data.Verdict }.Where(t => t != null).Select(t => Shorten(t!, 40 * lanes))),
                0.02, bottom - 0.4);
            failure.Alignment = Alignment.UpperLeft;
            failure.LabelFontSize = 12;
            failure.LabelFontColor = Colors.DarkRed;
        }

        int omitted = data.Steps.Count - steps.Count;
        string title = $"{data.Scenario ?? "interleaving"}\n{data.Steps.Count} allocator steps on {data.Lanes.Count} threads" +
            (omitted > 0 ? $" (the first {omitted} not drawn)" : "") + "; sweepgen relative to the heap's sg: sg-2 unswept, sg-1 being swept, sg swept, sg+1 stale cached, sg+3 cached";
        plot.Title(Shorten(title, 70 * lanes + 60), size: 13);
        int every = Math.Max(1, steps.Count / 40);
        var ticks = Enumerable.Range(0, steps.Count).Where(r => r % every == 0).ToArray();
        plot.Axes.Left.SetTicks([.. ticks.Select(r => -r - 0.5)], [.. ticks.Select(r => steps[r].Number.ToString())]);
        plot.Axes.Left.Label.Text = "step (schedule order, top to bottom)";
        plot.Axes.Bottom.SetTicks([], []);
        plot.Axes.Bottom.Label.Text = "";
        plot.Grid.IsVisible = false;
        plot.Axes.SetLimits(0, lanes, bottom - 2.2, 1.2);
        return plot;
    }

    /// <summary>"#12 P1 cacheSpan +0x1c000 spc 52 (1024 B) sg-2 -> sg-1" (the fields the step has); a step naming no span: its text.</summary>
    public static string Label(SwimStep s)
    {
        string who = s.P is { } p ? $"P{p}" : "--";
        if (s.SpanOffset == null)
            return Shorten($"#{s.Number} {who} {s.Text}", 56);
        var parts = new List<string> { $"#{s.Number}", who, s.Operation };
        if (s.SpanOffset is { } off)
            parts.Add($"+0x{off:x}");
        if (s.SpanClass != null)
            parts.Add($"spc {s.SpanClass}");
        if (s.SweepGen != null)
            parts.Add(s.SweepGen);
        return Shorten(string.Join(" ", parts), 56);
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";

    private static Color FamilyColor(string operation) => operation switch
    {
        "acquireP" or "releaseP" => Colors.Gray,
        "refill" or "cacheSpan" => Colors.SteelBlue,
        "uncacheSpan" or "flush" or "prepareForSweep" => Colors.DarkOrange,
        "sweepone" or "sweep" or "ensureSwept" or "deductSweepCredit" => Colors.SeaGreen,
        "freeSpan" => Colors.SaddleBrown,
        "StartMark" or "FinishMark" or "SetGcPercent" => Colors.Purple,
        _ => Colors.Black,
    };
}
