// ReplayReport: renders replay results with Spectre.Console, in tables that fit 100 columns (the
// width Program fixes when stdout is not a terminal): the GC cycles in three narrow tables (trace
// against sweep, memstats in bytes, largest size classes; for a lockstep replay a row per cycle and
// implementation, stats read from each heap), the summary in two (what is the same for every
// implementation, then the figures with a column per implementation: memstats, the timings of the
// solo runs), the unpaired trace events, the disagreements and, when several implementations ran,
// where they differ. Number columns never wrap. Rendering only: it decides nothing (the exit code is
// ReplayCommand's). Every cell is a Text, never markup, so trace text (Go types with brackets)
// prints verbatim; plain lines (Line) bypass Spectre's wrapping. Spectre drops ANSI when the output
// is redirected.
using GoAlloc.Replay;
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

    /// <summary>The extra column of a table of several implementations, shown after cycle.</summary>
    public const string ImplementationHeader = "impl";

    /// <summary>The summary row with the outcome of the lockstep comparison.</summary>
    public const string LockstepChecksRow = "lockstep checks";

    public static void WriteCycles(IAnsiConsole console, ReplayResult r) => WriteCycles(console, [r]);

    /// <summary>
    /// The GC cycles of one replay, in three narrow tables that fit 100 columns: the trace against
    /// our sweep, the heap's memstats in bytes, and the largest size classes. With several results
    /// (the heaps of a lockstep replay) each has a row per cycle and implementation, so equal
    /// stats sit one above the other. Numbers never wrap (their columns do not shrink).
    /// </summary>
    public static void WriteCycles(IAnsiConsole console, IReadOnlyList<ReplayResult> results)
    {
        bool several = results.Count > 1;
        bool scavenge = results[0].Options.Scavenge;
        string title = several
            ? $"GC cycles, lockstep ({string.Join(" | ", results.Select(r => r.Implementation))}; stats read from each heap)"
            : $"{results[0].Implementation}: GC cycles";
        string[] sweepHeaders = ["cycle", "allocs", "trace frees", "swept", "unpaired", "live objects", "disagreements"];
        List<string> heapHeaders = ["cycle", "heap_sys", "heap_inuse", "heap_alloc", "heap_released"];
        if (scavenge)
            heapHeaders.Add(ScavengedHeader);
        string[] classHeaders = ["cycle", "top classes (live objects)"];

        Table sweep = NewTable(title, sweepHeaders, several);
        Table heap = NewTable("heap after each cycle's sweep (bytes)", heapHeaders, several);
        Table classes = NewTable("largest size classes after each cycle (size:objects)", classHeaders, several);
        int cycles = results.Max(r => r.Rows.Count);
        for (int i = 0; i < cycles; i++)
        {
            foreach (ReplayResult r in results)
            {
                if (i >= r.Rows.Count)
                    continue;
                CycleRow row = r.Rows[i];
                string[] lead = several ? [row.Cycle.ToString(), r.Implementation] : [row.Cycle.ToString()];
                sweep.AddRow(Cells([.. lead, N(row.AllocsSinceLastCycle), N(row.TraceFrees), N(row.SweepFrees), N(row.Unpaired),
                    N(row.LiveObjects), N(row.Disagreements)]));
                List<string> bytes = [.. lead, N(row.HeapSys), N(row.HeapInuse), N(row.HeapAlloc), N(row.HeapReleased)];
                if (scavenge)
                    bytes.Add(N(row.ScavengedBytes));
                heap.AddRow(Cells([.. bytes]));
                classes.AddRow(Cells([.. lead, string.Join(" ", row.TopClasses)]));
            }
        }
        console.Write(sweep);
        console.Write(heap);
        console.Write(classes);
    }

    /// <summary>A table with right-aligned, never-wrapping columns (text columns: left-aligned, wrapping at spaces).</summary>
    private static Table NewTable(string title, IReadOnlyList<string> headers, bool withImplementation)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        var all = new List<string>(headers);
        if (withImplementation)
            all.Insert(1, ImplementationHeader);
        foreach (string h in all)
        {
            var column = new TableColumn(new Text(h));
            if (h.StartsWith("top classes", StringComparison.Ordinal))
                column.Padding(1, 0); // words: wraps at spaces
            else if (h == ImplementationHeader)
                column.NoWrap();
            else
                column.RightAligned().NoWrap();
            table.AddColumn(column);
        }
        return table;
    }

    /// <summary>The summary of single-implementation replays: a column each, with its own timings.</summary>
    public static void WriteSummary(IAnsiConsole console, string tracePath, Trace trace, IReadOnlyList<ReplayResult> results) =>
        WriteSummary(console, tracePath, trace, results, lockstep: null, timed: results, soloRounds: 1);

    /// <summary>
    /// The summary of a lockstep replay: a column per implementation with the stats read from its
    /// heap and the lockstep outcome, then the wall time and allocations/s of the solo runs
    /// (<paramref name="solo"/>: the fastest of <paramref name="soloRounds"/> timed replays per
    /// implementation, in the same order).
    /// </summary>
    public static void WriteLockstepSummary(IAnsiConsole console, string tracePath, Trace trace, LockstepReplayResult lockstep,
        IReadOnlyList<ReplayResult> solo, int soloRounds = 1, IReadOnlyList<ReplayResult>? median = null, int aloneRounds = 1) =>
        WriteSummary(console, tracePath, trace, [lockstep.A, lockstep.B], lockstep, solo, soloRounds, median, aloneRounds);

    /// <summary>
    /// The summary, compact: with several implementations, the rows whose text is the same for all
    /// (the trace, the lockstep outcome, fidelity, Verify) go to a two-column "summary" table, and
    /// the figures (memstats, timings) to a table with a column per implementation, so neither
    /// needs more than 100 columns. One implementation: one two-column table.
    /// </summary>
    private static void WriteSummary(IAnsiConsole console, string tracePath, Trace trace, IReadOnlyList<ReplayResult> results,
        LockstepReplayResult? lockstep, IReadOnlyList<ReplayResult> timed, int soloRounds, IReadOnlyList<ReplayResult>? median = null,
        int aloneRounds = 1)
    {
        // (name, a value per implementation, a figure: always in the per-implementation table)
        var rows = new List<(string Name, string[] Values, bool Figure)>();
        void Row(string name, Func<int, string> value, bool figure = false) =>
            rows.Add((name, [.. Enumerable.Range(0, results.Count).Select(value)], figure));
        void Stat(string name, Func<ReplayResult, string> value, bool figure = false) => Row(name, i => value(results[i]), figure);

        Stat("trace", _ => Path.GetFileName(tracePath));
        Stat("trace events (malformed lines)", _ => $"{N(trace.Events.Count)} ({N(trace.MalformedLines)})");
        Stat("trace format", _ => trace.Extended ? "extended (p=, noscan=)" : "old (no p=, noscan=: P0, scan)");
        Stat("procs (Ps replayed)", r => $"{r.Procs} (trace's highest P: {trace.MaxP})");
        Stat("allocations: tiny / noscan / p=-1", _ => $"{N(trace.TinyAllocs)} / {N(trace.NoscanAllocs)} / {N(trace.NoPAllocs)} (p=-1 on P0)");
        Stat("GC cycles", r => N(r.Cycles));
        Stat("allocations", r => N(r.Allocations));
        Stat("frees (trace, paired)", r => N(r.Plan.PairedFrees));
        Stat("frees (our sweep)", r => N(r.SweepFrees), figure: true);
        Stat("heap_sys", r => N(r.FinalStats.HeapSys), figure: true);
        Stat("heap_inuse", r => N(r.FinalStats.HeapInuse), figure: true);
        Stat("heap_alloc", r => N(r.FinalStats.HeapAlloc), figure: true);
        Stat("heap_released", r => N(r.FinalStats.HeapReleased), figure: true);
        if (results.Any(r => r.Options.Scavenge))
            Stat("scavenged (sum over cycles)", r => N(r.Rows.Sum(row => row.ScavengedBytes)), figure: true);
        Stat("live objects", r => N(r.FinalStats.HeapObjects), figure: true);
        Stat("unpaired trace events tolerated", r => UnpairedSummary(r.Plan));
        Stat("fidelity: tiny offsets", r => r.Fidelity.TinyText());
        Stat("fidelity: span packing", r => r.Fidelity.PackingText());
        Stat("fidelity: live per cycle", r => r.Fidelity.LiveText());
        Stat("disagreements", r => N(r.DisagreementCount));
        string stopped = lockstep is { Agreed: false } ? ", replay stopped at the lockstep disagreement" : "";
        Stat("Verify", r => r.Failure == null ? $"passed ({r.VerifyPasses}x{stopped})" : "FAILED");
        if (lockstep != null)
        {
            Row(LockstepChecksRow, _ => LockstepOutcome(lockstep));
            Row("lockstep wall time (both heaps)", _ => $"{lockstep.WallTime.TotalMilliseconds:N0} ms");
            Row("  of which the replayer", _ => $"{lockstep.A.ReplayerTime.TotalMilliseconds:N0} ms (bookkeeping, checks, lockstep comparisons)");
            Row($"solo runs (warm; {(soloRounds == 1 ? "1 run" : $"fastest of {soloRounds}")})",
                i => timed[i].Passed ? "passed" : "FAILED");
            Row("wall time (solo, fastest allocator run)", i => Ms(timed[i].WallTime), figure: true);
            if (median != null)
                Row("wall time (solo, median allocator run)", i => Ms(median[i].WallTime), figure: true);
        }
        else
        {
            Row("wall time", i => Ms(timed[i].WallTime), figure: true);
        }
        Row("  of which Verify", i => Ms(timed[i].VerifyTime), figure: true);
        Row("  of which the allocator (timed per call)", i => Ms(timed[i].AllocatorTime), figure: true);
        Row("  of which the replayer", i => Ms(timed[i].ReplayerTime), figure: true);
        Row("allocations/s (Verify excluded)", i => N((long)timed[i].AllocationsPerSecond), figure: true);
        if (timed.Any(r => r.AllocatorAloneTime != null))
        {
            Row($"allocator alone: wall time (fastest of {aloneRounds})", i => timed[i].AllocatorAloneTime is { } t ? $"{t.TotalMilliseconds:N1} ms" : "-", figure: true);
            Row($"allocator alone: allocations/s (fastest of {aloneRounds})", i => N((long)timed[i].AllocatorAloneAllocationsPerSecond), figure: true);
            if (median != null)
                Row($"allocator alone: allocations/s (median of {aloneRounds})", i => N((long)median[i].AllocatorAloneAllocationsPerSecond), figure: true);
            if (timed.Count > 1)
                Row($"allocator alone: speed vs {timed[0].Implementation}", i => Ratio(timed[i].AllocatorAloneAllocationsPerSecond, timed[0].AllocatorAloneAllocationsPerSecond), figure: true);
        }
        else
        {
            Row("allocations/s (allocator, timed per call)", i => N((long)timed[i].AllocatorAllocationsPerSecond), figure: true);
        }

        bool several = results.Count > 1;
        bool Shared((string Name, string[] Values, bool Figure) row) => several && !row.Figure && row.Values.All(v => v == row.Values[0]);
        if (several)
        {
            var shared = new Table { Title = new TableTitle($"summary (the same for {string.Join(" and ", results.Select(r => r.Implementation))})"), Border = TableBorder.Rounded };
            shared.ShowHeaders = false;
            shared.AddColumn(new TableColumn(new Text("")).NoWrap());
            shared.AddColumn(new TableColumn(new Text("")));
            foreach (var row in rows.Where(Shared))
                shared.AddRow(new Text(row.Name), new Text(row.Values[0]));
            console.Write(shared);
        }
        var table = new Table { Title = new TableTitle(several ? "summary per implementation" : "summary"), Border = TableBorder.Rounded };
        table.AddColumn(new TableColumn(new Text("")));
        foreach (ReplayResult r in results)
        {
            var column = new TableColumn(new Text(r.Implementation)).RightAligned();
            if (several)
                column.NoWrap();
            table.AddColumn(column);
        }
        foreach (var row in rows.Where(r => !Shared(r)))
            table.AddRow([new Text(row.Name), .. row.Values.Select(v => (IRenderable)new Text(v))]);
        console.Write(table);
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:N0} ms";

    /// <summary>"N operations, all agree" or where the heaps first differed.</summary>
    public static string LockstepOutcome(LockstepReplayResult lockstep) =>
        lockstep.Disagreement is { } d
            ? $"{N(lockstep.Operations)} operations: DISAGREED at {d.Where}"
            : $"{N(lockstep.Operations)} operations ({LockstepCompared(lockstep)}): all agree";

    /// <summary>What the lockstep heap compared, given its StatsEvery.</summary>
    public static string LockstepCompared(LockstepReplayResult lockstep) => (lockstep.StatsEvery == 1
        ? "full stats after each"
        : $"addresses after each, full stats every {lockstep.StatsEvery} allocations or marks and at each cycle")
        + (lockstep.ModelChecked ? "; each heap against the heap model after each, its stats identities on the same schedule" : "");

    private static string Ratio(double x, double baseline) => baseline > 0 ? $"{x / baseline:0.00}x" : "-";

    /// <summary>Malformed lines and unpaired events: they are tolerated, but worth seeing.</summary>
    public static void WriteTraceNotes(IAnsiConsole console, Trace trace, TracePlan plan)
    {
        foreach (MalformedLine m in trace.FirstMalformed)
            Line(console, $"malformed line {m.Line}: {m.Text}");
        if (trace.MalformedLines > trace.FirstMalformed.Count)
            Line(console, $"... {trace.MalformedLines - trace.FirstMalformed.Count} more malformed lines");
        foreach (UnpairedEvent u in plan.FirstUnpaired)
            Line(console, $"unpaired (tolerated): {u.Kind} after tracegc #{u.Window}: {u.Event}");
        if (plan.UnpairedEvents > plan.FirstUnpaired.Count)
            Line(console, $"... {plan.UnpairedEvents - plan.FirstUnpaired.Count} more unpaired events");
    }

    public static void WriteProblems(IAnsiConsole console, ReplayResult r) => WriteProblems(console, r, r.Implementation);

    /// <summary>The trace disagreements and the failure of a replay, each line prefixed with <paramref name="who"/>.</summary>
    public static void WriteProblems(IAnsiConsole console, ReplayResult r, string who)
    {
        foreach (Disagreement d in r.Disagreements)
            Line(console, $"{who}: DISAGREEMENT {d}");
        if (r.DisagreementCount > r.Disagreements.Count)
            Line(console, $"{who}: ... {r.DisagreementCount - r.Disagreements.Count} more disagreements");
        if (r.Failure != null)
            Line(console, $"{who}: FAILURE {r.Failure}");
    }

    /// <summary>Where the heaps of a lockstep replay first differed, and the replay's own problems (shared by both heaps).</summary>
    public static void WriteLockstepProblems(IAnsiConsole console, LockstepReplayResult lockstep)
    {
        string who = $"lockstep {lockstep.A.Implementation} vs {lockstep.B.Implementation}";
        if (lockstep.Disagreement is { } d)
            Line(console, $"{who}: DISAGREEMENT after {N(lockstep.Operations)} operations {d}");
        WriteProblems(console, lockstep.A, who);
    }

    public static string UnpairedSummary(TracePlan plan)
    {
        if (plan.UnpairedEvents == 0)
            return "0";
        var parts = plan.UnpairedByKind.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value}");
        return $"{N(plan.UnpairedEvents)} ({string.Join(", ", parts)})";
    }

    /// <summary>
    /// A plain line, verbatim and unwrapped (console.WriteLine would wrap it at the console width,
    /// splitting a long disagreement where grep could not find it).
    /// </summary>
    public static void Line(IAnsiConsole console, string text) => console.Profile.Out.Writer.WriteLine(text);

    private static IRenderable[] Cells(string[] values) => [.. values.Select(v => (IRenderable)new Text(v))];

    private static string N(long v) => v.ToString("N0");
}
