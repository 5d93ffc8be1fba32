// ReplayReport: renders replay results with Spectre.Console: a table of GC cycles per
// implementation, one summary table with a column per implementation, the unpaired trace events,
// the disagreements and, when several implementations ran, where they differ. Rendering only: it
// decides nothing (the exit code is ReplayCommand's). Every cell is a Text, never markup, so trace
// text (Go types with brackets) prints verbatim. Spectre drops ANSI when the output is redirected.
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GoAlloc.Cli;

public static class ReplayReport
{
    public static readonly string[] CycleHeaders =
    [
        "cycle", "allocs", "trace frees", "swept", "unpaired", "heap_sys", "heap_inuse", "heap_alloc",
        "heap_released", "live objects", "top classes (live objects)", "disagreements",
    ];

    /// <summary>The extra column of a --scavenge replay, shown after heap_released.</summary>
    public const string ScavengedHeader = "scavenged";

    public static void WriteCycles(IAnsiConsole console, ReplayResult r)
    {
        bool scavenge = r.Options.Scavenge;
        var headers = new List<string>(CycleHeaders);
        if (scavenge)
            headers.Insert(headers.IndexOf("heap_released") + 1, ScavengedHeader);
        var table = new Table { Title = new TableTitle($"{r.Implementation}: GC cycles"), Border = TableBorder.Rounded };
        foreach (string h in headers)
        {
            var column = new TableColumn(new Text(h));
            if (!h.StartsWith("top classes", StringComparison.Ordinal))
                column.RightAligned();
            table.AddColumn(column);
        }
        foreach (CycleRow row in r.Rows)
        {
            var cells = new List<string>
            {
                row.Cycle.ToString(),
                N(row.AllocsSinceLastCycle),
                N(row.TraceFrees),
                N(row.SweepFrees),
                N(row.Unpaired),
                N(row.HeapSys),
                N(row.HeapInuse),
                N(row.HeapAlloc),
                N(row.HeapReleased),
            };
            if (scavenge)
                cells.Add(N(row.ScavengedBytes));
            cells.Add(N(row.LiveObjects));
            cells.Add(string.Join(" ", row.TopClasses));
            cells.Add(N(row.Disagreements));
            table.AddRow(Cells([.. cells]));
        }
        console.Write(table);
    }

    public static void WriteSummary(IAnsiConsole console, string tracePath, Trace trace, IReadOnlyList<ReplayResult> results)
    {
        var table = new Table { Title = new TableTitle("summary"), Border = TableBorder.Rounded };
        table.AddColumn(new TableColumn(new Text("")));
        foreach (ReplayResult r in results)
            table.AddColumn(new TableColumn(new Text(r.Implementation)).RightAligned());

        void Row(string name, Func<ReplayResult, string> value)
        {
            var cells = new List<IRenderable> { new Text(name) };
            foreach (ReplayResult r in results)
                cells.Add(new Text(value(r)));
            table.AddRow(cells);
        }

        Row("trace", _ => Path.GetFileName(tracePath));
        Row("trace events (malformed lines)", _ => $"{N(trace.Events.Count)} ({N(trace.MalformedLines)})");
        Row("GC cycles", r => N(r.Cycles));
        Row("allocations", r => N(r.Allocations));
        Row("frees (trace, paired)", r => N(r.Plan.PairedFrees));
        Row("frees (our sweep)", r => N(r.SweepFrees));
        Row("heap_sys", r => N(r.FinalStats.HeapSys));
        Row("heap_inuse", r => N(r.FinalStats.HeapInuse));
        Row("heap_alloc", r => N(r.FinalStats.HeapAlloc));
        Row("heap_released", r => N(r.FinalStats.HeapReleased));
        if (results.Any(r => r.Options.Scavenge))
            Row("scavenged (sum over cycles)", r => N(r.Rows.Sum(row => row.ScavengedBytes)));
        Row("live objects", r => N(r.FinalStats.HeapObjects));
        Row("unpaired trace events tolerated", r => UnpairedSummary(r.Plan));
        Row("disagreements", r => N(r.DisagreementCount));
        Row("Verify", r => r.Failure == null ? $"passed ({r.VerifyPasses}x)" : "FAILED");
        Row("wall time", r => $"{r.WallTime.TotalMilliseconds:N0} ms");
        Row("  of which Verify", r => $"{r.VerifyTime.TotalMilliseconds:N0} ms");
        Row("allocations/s (Verify excluded)", r => N((long)r.AllocationsPerSecond));
        console.Write(table);
    }

    /// <summary>Malformed lines and unpaired events: they are tolerated, but worth seeing.</summary>
    public static void WriteTraceNotes(IAnsiConsole console, Trace trace, TracePlan plan)
    {
        foreach (MalformedLine m in trace.FirstMalformed)
            console.WriteLine($"malformed line {m.Line}: {m.Text}");
        if (trace.MalformedLines > trace.FirstMalformed.Count)
            console.WriteLine($"... {trace.MalformedLines - trace.FirstMalformed.Count} more malformed lines");
        foreach (UnpairedEvent u in plan.FirstUnpaired)
            console.WriteLine($"unpaired (tolerated): {u.Kind} after tracegc #{u.Window}: {u.Event}");
        if (plan.UnpairedEvents > plan.FirstUnpaired.Count)
            console.WriteLine($"... {plan.UnpairedEvents - plan.FirstUnpaired.Count} more unpaired events");
    }

    public static void WriteProblems(IAnsiConsole console, ReplayResult r)
    {
        foreach (Disagreement d in r.Disagreements)
            console.WriteLine($"{r.Implementation}: DISAGREEMENT {d}");
        if (r.DisagreementCount > r.Disagreements.Count)
            console.WriteLine($"{r.Implementation}: ... {r.DisagreementCount - r.Disagreements.Count} more disagreements");
        if (r.Failure != null)
            console.WriteLine($"{r.Implementation}: FAILURE {r.Failure}");
    }

    public static string UnpairedSummary(TracePlan plan)
    {
        if (plan.UnpairedEvents == 0)
            return "0";
        var parts = plan.UnpairedByKind.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}");
        return $"{N(plan.UnpairedEvents)} ({string.Join(", ", parts)})";
    }

    private static IRenderable[] Cells(string[] values) => [.. values.Select(v => (IRenderable)new Text(v))];

    private static string N(long v) => v.ToString("N0");
}
