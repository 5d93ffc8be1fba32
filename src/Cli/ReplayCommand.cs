// ReplayCommand: `alloc replay [trace-file] [--impl reference|optimized|both] [--procs N]
// [--stats-every N] [--lenient] [--scavenge] [--quiet] [--json] [--json-file F] [--plot F.png]`
// (--plot: ReplayPlotter draws the heap per cycle and the span occupancy). Reads the trace
// (default: the bundled sample; "-": standard input), rejects a file that is not a trace
// (TraceReader.Check: exit 2), and pre-scans it once. --json prints the result as JSON on stdout
// (ReplayJson, docs/alloc-replay.schema.json) instead of the tables; --json-file writes it to a
// file (complete or not at all: AtomicFile). A long replay on a terminal shows a progress bar with
// an ETA (ReplayProgress; off when stdout is not a terminal).
// --impl reference / optimized: one replay on that allocator, checked against the trace (each
// cycle's sweep, Verify after each cycle, the tiny offsets against Go's). --impl both (the
// default): one LOCKSTEP replay on a LockstepHeap(reference, optimized, --stats-every), so after
// every trace event both allocators are compared (addresses as arena offsets, frees, samples; full
// stats every N allocations or marks and after every other call) and each is checked against the
// heap model (src/Model ModelCheckedHeap: the stats identities on the same schedule, the sweep
// set, zeroing, Mark / FindObject answers after every call) besides the trace checks; then
// the trace on each implementation alone, checked and warm (a JIT warm-up run, then SoloRounds
// timed runs: fastest and median), and the allocator alone (TraceReplayer.TimeAllocatorAlone: no
// replayer bookkeeping) for allocations/s. Prints the cycle tables (unless --quiet) and the
// summary, and turns the outcome into the exit code: 0 all cycles agree and Verify passed (and both
// heaps agreed on every operation), 1 a disagreement / failure / unexplained tiny offset /
// implementations differing, 2 a usage error (bad trace path, a file that is not a trace, an
// implementation that is not built); out of memory propagates (Program: exit 3, no re-runs).
using System.CommandLine;
using GoAlloc.Replay;
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

    /// <summary>--json: the result as JSON on stdout instead of the tables.</summary>
    public bool Json { get; init; }

    /// <summary>--json-file: also write the JSON result to this file.</summary>
    public string? JsonFile { get; init; }

    /// <summary>--plot: the PNG to draw the heap per cycle and the span occupancy into (ReplayPlotter), or null.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
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
    private readonly bool _model;

    /// <summary>The trace path that reads standard input.</summary>
    public const string StdinPath = "-";

    private readonly Argument<string?> _trace = new("trace-file")
    {
        Description = $"Allocation trace, gzip or plain text; - reads standard input (optional: default the bundled testdata/{SampleTrace.FileName})",
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
    private readonly Option<bool> _json = new("--json") { Description = "Print the result as JSON (docs/alloc-replay.schema.json, schemaVersion 1) instead of the tables" };
    private readonly Option<string?> _plot = new("--plot") { Description = "Draw heap_inuse / heap_alloc / heap_released per GC cycle and the span occupancy at the end into this PNG", HelpName = "file.png" };
    private readonly Option<string?> _jsonFile = new("--json-file") { Description = "Also write the JSON result to this file (written whole or not at all)", HelpName = "file" };

    /// <param name="factories">The allocators by name (default: HeapFactories.Available; tests substitute a broken one).</param>
    /// <param name="model">Check each heap of the lock-step replay against the heap model (default: only
    /// the real allocators; a test's substitute is not, so its deliberate difference reaches the lock-step comparison).</param>
    public ReplayCommand(IAnsiConsole console, TextWriter error, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null, bool? model = null)
    {
        _console = console;
        _error = error;
        _factories = factories ?? HeapFactories.Available;
        _model = model ?? factories == null;
        CliValidation.Choices(_impl, [.. HeapFactories.ImplChoices]);
        CliValidation.WholeNumber(_procs, 1, 256, fallback: ReplaySettings.Default.Procs);
        CliValidation.WholeNumber(_statsEvery, 1, int.MaxValue, fallback: LockstepStatsEvery);
        CliValidation.NotAnOption(_trace, () => Command!);
        Command = new Command("replay", "Replay a Go allocation trace (GODEBUG=allocfreetrace=1) and check every GC cycle's sweep against it; " +
            "with no trace-file, the bundled sample")
        {
            _trace, _impl, _procs, _statsEvery, _lenient, _scavenge, _quiet, _json, _jsonFile, _plot,
        };
        Command.SetAction(parse => Run(new ReplaySettings(
            parse.GetValue(_trace), parse.GetValue(_impl) ?? ReplaySettings.Default.Impl, parse.GetValue(_procs),
            parse.GetValue(_scavenge), parse.GetValue(_quiet))
        {
            StatsEvery = parse.GetValue(_statsEvery),
            MalformedTolerance = parse.GetValue(_lenient) ? LenientFraction : 0,
            Json = parse.GetValue(_json),
            JsonFile = parse.GetValue(_jsonFile),
            PlotPath = parse.GetValue(_plot),
        }));
    }

    public Command Command { get; }

    /// <summary>What "-" reads (Program sets the process's standard input; tests a stream of their own).</summary>
    public Func<Stream> Stdin { get; init; } = Console.OpenStandardInput;

    /// <summary>Where --json writes (Program's stdout).</summary>
    public TextWriter? Stdout { get; init; }

    public int Run(ReplaySettings settings)
    {
        if (!HeapFactories.TryResolve(settings.Impl, _factories, out var factories, out string error))
            return UsageError(error);
        bool stdin = settings.TracePath == StdinPath;
        string? path = settings.TracePath ?? SampleTrace.Locate();
        if (path == null)
            return UsageError($"the bundled sample trace {SampleTrace.FileName} was not found; pass a trace file");
        if (!stdin && !File.Exists(path))
            return UsageError($"trace file not found: {path}");
        string shownPath = stdin ? "(standard input)" : path;
        if (settings.PlotPath != null && PlotFile.Check(settings.PlotPath) is { } plotProblem)
            return UsageError($"--plot {plotProblem}");

        // --json: the tables go nowhere, the JSON document to stdout.
        IAnsiConsole console = settings.Json ? NullConsole() : _console;
        Trace trace;
        var readWatch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            if (stdin)
            {
                using Stream input = Stdin();
                trace = TraceReader.Read(input);
            }
            else
            {
                trace = TraceReader.ReadFile(path);
            }
            TraceReader.Check(trace, settings.MalformedTolerance);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or TraceFormatException)
        {
            return UsageError($"cannot read {shownPath}: {ex.Message}");
        }
        TimeSpan readTime = readWatch.Elapsed;
        TracePlan plan = TracePlan.Build(trace);
        TimeSpan planTime = readWatch.Elapsed - readTime;
        ReplayReport.Line(console, $"trace {shownPath}");
        ReplayReport.Line(console, $"  {trace.Allocs:N0} allocs, {trace.Frees:N0} frees, {trace.Gcs} GC cycles, {trace.MalformedLines:N0} malformed lines " +
            $"(read in {readTime.TotalMilliseconds:N0} ms, pre-scan {planTime.TotalMilliseconds:N0} ms)");
        ReplayReport.WriteTraceNotes(console, trace, plan);

        var options = new ReplayOptions { Procs = settings.Procs, Scavenge = settings.Scavenge };
        var progress = ReplayProgress.For(_console, enabled: !settings.Json, trace.Events.Count);
        ReplayPlotter? plotter = settings.PlotPath == null ? null : new ReplayPlotter(settings.PlotPath);
        ReplayOutcome outcome = factories.Count == 1
            ? RunOne(console, progress, settings, shownPath, trace, plan, options, plotter, factories[0])
            : RunLockstep(console, progress, settings, shownPath, trace, plan, options, plotter, factories, _model);
        int plotted = plotter?.Write(console, _error, shownPath, outcome.Results) ?? ExitCodes.Ok;
        int code = Finish(settings, outcome);
        return code == ExitCodes.Ok ? plotted : code;
    }

    /// <summary>Writes the JSON result where asked (stdout, a file); returns the outcome's exit code.</summary>
    private int Finish(ReplaySettings settings, ReplayOutcome outcome)
    {
        if (settings.Json)
        {
            TextWriter stdout = Stdout ?? _console.Profile.Out.Writer;
            stdout.WriteLine(ReplayJson.Serialize(outcome));
            stdout.Flush();
        }
        if (settings.JsonFile is { } file)
        {
            try
            {
                AtomicFile.Write(file, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(ReplayJson.Serialize(outcome) + "\n")));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return UsageError($"cannot write {file}: {ex.Message}");
            }
        }
        return outcome.ExitCode;
    }

    private static IAnsiConsole NullConsole() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Ansi = AnsiSupport.No });

    /// <summary>One implementation: the replay checked against the trace, with its timing.</summary>
    private static ReplayOutcome RunOne(IAnsiConsole console, ReplayProgress progress, ReplaySettings settings, string path, Trace trace,
        TracePlan plan, ReplayOptions options, ReplayPlotter? plotter, (string Name, Func<HeapOptions, IHeap> Factory) impl)
    {
        ReplayResult r = progress.Run(phase =>
        {
            Action<double> replayed = phase($"replay ({impl.Name})", trace.Events.Count);
            return new TraceReplayer(impl.Factory, (plotter?.Attach(options) ?? options) with { OnProgress = n => replayed(n) }).Replay(trace, plan, impl.Name);
        });
        if (!settings.Quiet)
            ReplayReport.WriteCycles(console, r);
        ReplayReport.WriteSummary(console, path, trace, [r]);
        ReplayReport.WriteProblems(console, r);
        ReplayReport.Line(console, r.Passed ? "OK: every cycle's sweep freed exactly what the trace frees; Verify passed" : "FAILED");
        return new ReplayOutcome(path, trace, settings, [r], null, [r], null, [], [], r.Passed ? ExitCodes.Ok : ExitCodes.Disagreement);
    }

    /// <summary>
    /// A heap of this implementation checked against the heap model (src/Model ModelCheckedHeap)
    /// after every call: Alloc's address and zeroing, Mark's and FindObject's answers, every free
    /// against the cycle's unmarked set, the sweep set at each sweep-done point; the full stats
    /// identities after every call but Alloc and Mark, and after every <paramref name="every"/>-th
    /// of those (as the lock-step stats comparison). A violation on both heaps ends the replay as a
    /// failure naming the identity; on one heap only, as a lock-step difference.
    /// </summary>
    private static (string Name, Func<HeapOptions, IHeap> Factory) ModelChecked((string Name, Func<HeapOptions, IHeap> Factory) impl, int every, bool model) =>
        !model ? impl : (impl.Name, o => new GoAlloc.Model.ModelCheckedHeap(impl.Factory, o, checkEvery: every));

    /// <summary>
    /// The first implementation (the oracle) and the second in lock step, compared after every
    /// operation; then each alone for its timing. (AllNames has two implementations; a third would
    /// need a lockstep run of its own against the first.)
    /// </summary>
    private static ReplayOutcome RunLockstep(IAnsiConsole console, ReplayProgress progress, ReplaySettings settings, string path, Trace trace,
        TracePlan plan, ReplayOptions options, ReplayPlotter? plotter, IReadOnlyList<(string Name, Func<HeapOptions, IHeap> Factory)> factories, bool model)
    {
        if (factories.Count != 2)
            throw new InvalidOperationException($"a lockstep replay compares two implementations, not {factories.Count}");
        var (lockstep, solo, median, soloFailed) = progress.Run(phase =>
        {
            Action<double> replayed = phase("lockstep replay", trace.Events.Count);
            Action<double> soloDone = phase("timed solo runs", (SoloRounds + 1) * factories.Count);
            Action<double> aloneDone = phase("allocator alone", (AloneRounds + 1) * factories.Count);
            LockstepReplayResult lockstep = TraceReplayer.ReplayLockstep(trace, plan,
                ModelChecked(factories[0], settings.StatsEvery, model), ModelChecked(factories[1], settings.StatsEvery, model),
                (plotter?.Attach(options) ?? options) with { OnProgress = n => replayed(n) }, settings.StatsEvery, modelChecked: model);

            // The timed runs: each implementation alone (no lockstep, no stats read per event), SoloRounds
            // times, interleaved, keeping each one's fastest (Verify excluded): one ~100 ms run on a busy
            // machine is mostly noise. They run after the lockstep replay, so both have been through the
            // JIT by then, and each starts after a full collection so none pays for another's garbage.
            // Every run is checked against the trace like a single-implementation replay.
            // One untimed warm-up run each first, so the timed runs use the JIT's tier-1 code.
            var runs = new List<ReplayResult>[factories.Count];
            var soloFailed = new List<ReplayResult>();
            int done = 0;
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
                    soloDone(++done);
                }
            }
            // Ordered by the allocator's own time: fastest first, the median in the middle.
            var byTime = runs.Select(l => l.OrderBy(r => r.AllocatorTime).ToArray()).ToArray();
            ReplayResult[] solo = [.. byTime.Select(a => a[0])];
            ReplayResult[] median = [.. byTime.Select(a => a[a.Length / 2])];
            // The allocator alone (no replayer bookkeeping, no checks): a warm-up round, then AloneRounds
            // timed rounds, interleaved; fastest and median.
            var alone = new List<TimeSpan>[factories.Count];
            done = 0;
            for (int round = -1; round < AloneRounds; round++)
            {
                for (int i = 0; i < factories.Count; i++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    TimeSpan? t = TraceReplayer.TimeAllocatorAlone(trace, solo[i].MarkOffsets, factories[i].Factory, solo[i].Procs);
                    if (round >= 0 && t is { } time)
                        (alone[i] ??= []).Add(time);
                    aloneDone(++done);
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
            return (lockstep, solo, median, soloFailed);
        });
        if (!settings.Quiet)
            ReplayReport.WriteCycles(console, [lockstep.A, lockstep.B]);
        ReplayReport.WriteLockstepSummary(console, path, trace, lockstep, solo, SoloRounds, median, AloneRounds);

        ReplayReport.WriteLockstepProblems(console, lockstep);
        bool ok = lockstep.Passed;
        foreach (ReplayResult r in soloFailed)
        {
            ReplayReport.WriteProblems(console, r, $"{r.Implementation} (solo run)");
            ok = false;
        }
        List<string> differences = ReplayComparison.Compare(solo[0], solo[1]);
        foreach (string d in differences)
        {
            ReplayReport.Line(console, $"DIFFERENT (solo runs) {d}");
            ok = false;
        }
        ReplayReport.Line(console, ok
            ? $"OK: {lockstep.A.Implementation} and {lockstep.B.Implementation} agreed on all {lockstep.Operations:N0} operations in lock step;" +
              Environment.NewLine + "    every sweep freed what the trace frees; Verify passed"
            : "FAILED");
        return new ReplayOutcome(path, trace, settings, [lockstep.A, lockstep.B], lockstep, solo, median, differences, soloFailed,
            ok ? ExitCodes.Ok : ExitCodes.Disagreement);
    }

    private int UsageError(string message)
    {
        _error.WriteLine($"alloc replay: {message}");
        return ExitCodes.Usage;
    }
}
