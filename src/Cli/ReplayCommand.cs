// ReplayCommand: `alloc replay [trace-file] [--impl reference|optimized|both] [--procs N]
// [--stats-every N] [--lenient] [--scavenge] [--quiet] [--plot FILE.png]`. Reads the trace (default: the bundled
// sample), rejects a file that is not a trace (TraceReader.Check: exit 2), and pre-scans it once.
// --impl reference / optimized: one replay on that allocator, checked against the trace (each
// cycle's sweep, Verify after each cycle, the tiny offsets against Go's). --impl both (the
// default): one LOCKSTEP replay on a LockstepHeap(reference, optimized, --stats-every), so after
// every trace event both allocators are compared (addresses as arena offsets, frees, samples; full
// stats every N allocations or marks and after every other call) besides the trace checks; then
// the trace on each implementation alone, checked and warm (a JIT warm-up run, then SoloRounds
// timed runs: fastest and median), and the allocator alone (TraceReplayer.TimeAllocatorAlone: no
// replayer bookkeeping) for allocations/s. Prints the cycle tables (unless --quiet) and the
// summary, and turns the outcome into the exit code: 0 all cycles agree and Verify passed (and both
// heaps agreed on every operation), 1 a disagreement / failure / unexplained tiny offset /
// implementations differing, 2 a usage error (bad trace path, a file that is not a trace, an
// implementation that is not built, a --plot path that cannot be written). --plot: ReplayPlotter.
using System.CommandLine;
using Spectre.Console;

namespace GoAlloc.Cli;

/// <summary>What `alloc replay` was asked to do.</summary>
public sealed record ReplaySettings(string? TracePath, string Impl, int Procs, bool Scavenge, bool Quiet)
{
    /// <summary>Procs 0 = the trace's highest P + 1.</summary>
    public static ReplaySettings Default { get; } = new(null, HeapFactories.Both, 0, false, false);

    /// <summary>Full stats compared every N allocations in lock step (and always at each cycle); 1 = after every operation.</summary>
    public int StatsEvery { get; init; } = ReplayCommand.LockstepStatsEvery;

    /// <summary>The fraction of malformed lines tolerated (0 = none; --lenient = LenientFraction).</summary>
    public double MalformedTolerance { get; init; }

    /// <summary>--plot: the PNG to draw the heap per cycle and the span occupancy into (ReplayPlotter), or null.</summary>
    public string? PlotPath { get; init; }
}

public sealed class ReplayCommand
{
    /// <summary>Default LockstepHeap.StatsEvery of `--impl both`: full stats every 1,000 allocations (addresses after each).</summary>
    public const int LockstepStatsEvery = 1000;

    /// <summary>Checked solo runs per implementation after a lockstep replay (after a warm-up run); the fastest and the median are reported.</summary>
    public const int SoloRounds = 3;

    /// <summary>Timed runs of the allocator alone per implementation (after a warm-up run); the fastest and the median are reported.</summary>
    public const int AloneRounds = 7;

    /// <summary>The fraction of malformed lines --lenient tolerates.</summary>
    public const double LenientFraction = 0.01;

    private readonly IAnsiConsole _console;
    private readonly TextWriter _error;
    private readonly IReadOnlyDictionary<string, Func<HeapOptions, IHeap>> _factories;

    private readonly Argument<string?> _trace = new("trace-file")
    {
        Description = $"Allocation trace, gzip or plain text (default: the bundled testdata/{SampleTrace.FileName})",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<string> _impl = new("--impl")
    {
        Description = "Allocator to replay on; both = the reference and the optimized in lock step (compared after every event), then each alone for its timing",
        DefaultValueFactory = _ => ReplaySettings.Default.Impl,
    };
    private readonly Option<int> _procs = new("--procs")
    {
        Description = "GOMAXPROCS of the heap (default: the trace's highest P + 1; each allocation runs on its recorded P, modulo this)",
        DefaultValueFactory = _ => ReplaySettings.Default.Procs,
    };
    private readonly Option<int> _statsEvery = new("--stats-every")
    {
        Description = "Lock step: compare full stats every N allocations (1 = after every operation); addresses are compared after every one",
        DefaultValueFactory = _ => LockstepStatsEvery,
    };
    private readonly Option<bool> _lenient = new("--lenient") { Description = "Tolerate up to 1% malformed lines (default: none)" };
    private readonly Option<bool> _scavenge = new("--scavenge") { Description = "Scavenge(all) after each GC cycle" };
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "Print only the summary (and problems)" };
    private readonly Option<string?> _plot = new("--plot") { Description = "Draw heap_inuse / heap_alloc / heap_released per GC cycle and the span occupancy at the end into this PNG", HelpName = "file.png" };

    /// <param name="factories">The allocators by name (default: HeapFactories.Available; tests substitute a broken one).</param>
    public ReplayCommand(IAnsiConsole console, TextWriter error, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null)
    {
        _console = console;
        _error = error;
        _factories = factories ?? HeapFactories.Available;
        _impl.AcceptOnlyFromAmong([.. HeapFactories.ImplChoices]);
        _procs.Validators.Add(result =>
        {
            // Reads the token: GetValueOrDefault throws when it is not a number (that conversion
            // error is reported on its own); no token = the default, which is valid.
            if (result.Tokens is [{ Value: string v }] && int.TryParse(v, out int n) && n is < 1 or > 256)
                result.AddError($"--procs must be 1..256, not {n}");
        });
        _statsEvery.Validators.Add(result =>
        {
            if (result.Tokens is [{ Value: string v }] && int.TryParse(v, out int n) && n < 1)
                result.AddError($"--stats-every must be at least 1, not {n}");
        });
        Command = new Command("replay", "Replay a Go allocation trace (GODEBUG=allocfreetrace=1) and check every GC cycle's sweep against it")
        {
            _trace, _impl, _procs, _statsEvery, _lenient, _scavenge, _quiet, _plot,
        };
        Command.SetAction(parse => Run(new ReplaySettings(
            parse.GetValue(_trace), parse.GetValue(_impl) ?? ReplaySettings.Default.Impl, parse.GetValue(_procs),
            parse.GetValue(_scavenge), parse.GetValue(_quiet))
        {
            StatsEvery = parse.GetValue(_statsEvery),
            MalformedTolerance = parse.GetValue(_lenient) ? LenientFraction : 0,
            PlotPath = parse.GetValue(_plot),
        }));
    }

    public Command Command { get; }

    public int Run(ReplaySettings settings)
    {
        if (!HeapFactories.TryResolve(settings.Impl, _factories, out var factories, out string error))
            return UsageError(error);
        string? path = settings.TracePath ?? SampleTrace.Locate();
        if (path == null)
            return UsageError($"the bundled sample trace {SampleTrace.FileName} was not found; pass a trace file");
        if (!File.Exists(path))
            return UsageError($"trace file not found: {path}");
        if (settings.PlotPath != null && PlotFile.Check(settings.PlotPath) is { } plotProblem)
            return UsageError($"--plot {plotProblem}");

        Trace trace;
        var readWatch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            trace = TraceReader.ReadFile(path);
            TraceReader.Check(trace, settings.MalformedTolerance);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or TraceFormatException)
        {
            return UsageError($"cannot read {path}: {ex.Message}");
        }
        TimeSpan readTime = readWatch.Elapsed;
        TracePlan plan = TracePlan.Build(trace);
        TimeSpan planTime = readWatch.Elapsed - readTime;
        ReplayReport.Line(_console, $"trace {path}: {trace.Allocs:N0} allocs, {trace.Frees:N0} frees, {trace.Gcs} GC cycles, {trace.MalformedLines:N0} malformed lines " +
            $"(read in {readTime.TotalMilliseconds:N0} ms, pre-scan {planTime.TotalMilliseconds:N0} ms)");
        ReplayReport.WriteTraceNotes(_console, trace, plan);

        var options = new ReplayOptions { Procs = settings.Procs, Scavenge = settings.Scavenge };
        return factories.Count == 1
            ? RunOne(settings, path, trace, plan, options, factories[0])
            : RunLockstep(settings, path, trace, plan, options, factories);
    }

    /// <summary>One implementation: the replay checked against the trace, with its timing.</summary>
    private int RunOne(ReplaySettings settings, string path, Trace trace, TracePlan plan, ReplayOptions options,
        (string Name, Func<HeapOptions, IHeap> Factory) impl)
    {
        ReplayPlotter? plotter = settings.PlotPath == null ? null : new ReplayPlotter(settings.PlotPath);
        ReplayResult r = new TraceReplayer(impl.Factory, plotter?.Attach(options) ?? options).Replay(trace, plan, impl.Name);
        if (!settings.Quiet)
            ReplayReport.WriteCycles(_console, r);
        ReplayReport.WriteSummary(_console, path, trace, [r]);
        ReplayReport.WriteProblems(_console, r);
        ReplayReport.Line(_console, r.Passed ? "OK: every cycle's sweep freed exactly what the trace frees; Verify passed" : "FAILED");
        int plotted = plotter?.Write(_console, _error, path, [r]) ?? ExitCodes.Ok;
        return r.Passed ? plotted : ExitCodes.Disagreement;
    }

    /// <summary>
    /// The first implementation (the oracle) and the second in lock step, compared after every
    /// operation; then each alone for its timing. (AllNames has two implementations; a third would
    /// need a lockstep run of its own against the first.)
    /// </summary>
    private int RunLockstep(ReplaySettings settings, string path, Trace trace, TracePlan plan, ReplayOptions options,
        IReadOnlyList<(string Name, Func<HeapOptions, IHeap> Factory)> factories)
    {
        if (factories.Count != 2)
            throw new InvalidOperationException($"a lockstep replay compares two implementations, not {factories.Count}");
        ReplayPlotter? plotter = settings.PlotPath == null ? null : new ReplayPlotter(settings.PlotPath);
        LockstepReplayResult lockstep = TraceReplayer.ReplayLockstep(trace, plan, factories[0], factories[1], plotter?.Attach(options) ?? options, settings.StatsEvery);
        if (!settings.Quiet)
            ReplayReport.WriteCycles(_console, [lockstep.A, lockstep.B]);

        // The timed runs: each implementation alone (no lockstep, no stats read per event), SoloRounds
        // times, interleaved, keeping each one's fastest (Verify excluded): one ~100 ms run on a busy
        // machine is mostly noise. They run after the lockstep replay, so both have been through the
        // JIT by then, and each starts after a full collection so none pays for another's garbage.
        // Every run is checked against the trace like a single-implementation replay.
        // One untimed warm-up run each first, so the timed runs use the JIT's tier-1 code.
        var runs = new List<ReplayResult>[factories.Count];
        var soloFailed = new List<ReplayResult>();
        for (int round = -1; round < SoloRounds; round++)
        {
            for (int i = 0; i < factories.Count; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                ReplayResult r = new TraceReplayer(factories[i].Factory, options).Replay(trace, plan, factories[i].Name);
                if (!r.Passed && !soloFailed.Any(f => f.Implementation == r.Implementation))
                    soloFailed.Add(r);
                if (round >= 0)
                    (runs[i] ??= []).Add(r);
            }
        }
        // Ordered by the allocator's own time: fastest first, the median in the middle.
        var byTime = runs.Select(l => l.OrderBy(r => r.AllocatorTime).ToArray()).ToArray();
        ReplayResult[] solo = [.. byTime.Select(a => a[0])];
        ReplayResult[] median = [.. byTime.Select(a => a[a.Length / 2])];
        // The allocator alone (no replayer bookkeeping, no checks): a warm-up round, then AloneRounds
        // timed rounds, interleaved; fastest and median.
        var alone = new List<TimeSpan>[factories.Count];
        for (int round = -1; round < AloneRounds; round++)
        {
            for (int i = 0; i < factories.Count; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                TimeSpan? t = TraceReplayer.TimeAllocatorAlone(trace, solo[i].MarkOffsets, factories[i].Factory, solo[i].Procs);
                if (round >= 0 && t is { } time)
                    (alone[i] ??= []).Add(time);
            }
        }
        for (int i = 0; i < factories.Count; i++)
        {
            if (alone[i] is not { Count: > 0 } times)
                continue;
            times.Sort();
            solo[i].AllocatorAloneTime = times[0];
            median[i].AllocatorAloneTime = times[times.Count / 2];
        }
        ReplayReport.WriteLockstepSummary(_console, path, trace, lockstep, solo, SoloRounds, median, AloneRounds);

        ReplayReport.WriteLockstepProblems(_console, lockstep);
        bool ok = lockstep.Passed;
        foreach (ReplayResult r in soloFailed)
        {
            ReplayReport.WriteProblems(_console, r, $"{r.Implementation} (solo run)");
            ok = false;
        }
        foreach (string d in ReplayComparison.Compare(solo[0], solo[1]))
        {
            ReplayReport.Line(_console, $"DIFFERENT (solo runs) {d}");
            ok = false;
        }
        ReplayReport.Line(_console, ok
            ? $"OK: {lockstep.A.Implementation} and {lockstep.B.Implementation} agreed on all {lockstep.Operations:N0} operations in lock step " +
              $"({ReplayReport.LockstepCompared(lockstep)}); every cycle's sweep freed exactly what the trace frees; " +
              $"{lockstep.A.Procs} Ps; tiny offsets: {lockstep.A.Fidelity.TinyText()}; Verify passed"
            : "FAILED");
        int plotted = plotter?.Write(_console, _error, path, [lockstep.A, lockstep.B]) ?? ExitCodes.Ok;
        return ok ? plotted : ExitCodes.Disagreement;
    }

    private int UsageError(string message)
    {
        _error.WriteLine($"alloc replay: {message}");
        return ExitCodes.Usage;
    }
}
