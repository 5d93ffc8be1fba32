// ReplayCommand: `alloc replay [trace-file] [--impl reference|optimized|both] [--procs N]
// [--scavenge] [--quiet]`. Reads the trace (default: the bundled sample), pre-scans it once, replays
// it on each selected implementation (HeapFactories), prints the cycle tables (unless --quiet) and
// the summary, and turns the outcome into the exit code: 0 all cycles agree and Verify passed,
// 1 a disagreement / failure / implementations differing, 2 a usage error (bad trace path, an
// implementation that is not built).
using System.CommandLine;
using Spectre.Console;

namespace GoAlloc.Cli;

/// <summary>What `alloc replay` was asked to do.</summary>
public sealed record ReplaySettings(string? TracePath, string Impl, int Procs, bool Scavenge, bool Quiet)
{
    public static ReplaySettings Default { get; } = new(null, HeapFactories.Reference, new HeapOptions().Procs, false, false);
}

public sealed class ReplayCommand
{
    private readonly IAnsiConsole _console;
    private readonly TextWriter _error;

    private readonly Argument<string?> _trace = new("trace-file")
    {
        Description = $"Allocation trace, gzip or plain text (default: the bundled testdata/{SampleTrace.FileName})",
        Arity = ArgumentArity.ZeroOrOne,
    };
    private readonly Option<string> _impl = new("--impl")
    {
        Description = "Allocator to replay on",
        DefaultValueFactory = _ => HeapFactories.Reference,
    };
    private readonly Option<int> _procs = new("--procs")
    {
        Description = "GOMAXPROCS of the heap (the replay allocates on P0; the trace does not say which P allocated)",
        DefaultValueFactory = _ => ReplaySettings.Default.Procs,
    };
    private readonly Option<bool> _scavenge = new("--scavenge") { Description = "Scavenge(all) after each GC cycle" };
    private readonly Option<bool> _quiet = new("--quiet", "-q") { Description = "Print only the summary (and problems)" };

    public ReplayCommand(IAnsiConsole console, TextWriter error)
    {
        _console = console;
        _error = error;
        _impl.AcceptOnlyFromAmong([.. HeapFactories.ImplChoices]);
        _procs.Validators.Add(result =>
        {
            int n = result.GetValueOrDefault<int>();
            if (n is < 1 or > 256)
                result.AddError($"--procs must be 1..256, not {n}");
        });
        Command = new Command("replay", "Replay a Go allocation trace (GODEBUG=allocfreetrace=1) and check every GC cycle's sweep against it")
        {
            _trace, _impl, _procs, _scavenge, _quiet,
        };
        Command.SetAction(parse => Run(new ReplaySettings(
            parse.GetValue(_trace), parse.GetValue(_impl) ?? HeapFactories.Reference, parse.GetValue(_procs),
            parse.GetValue(_scavenge), parse.GetValue(_quiet))));
    }

    public Command Command { get; }

    public int Run(ReplaySettings settings)
    {
        if (!HeapFactories.TryResolve(settings.Impl, out var factories, out string error))
            return UsageError(error);
        string? path = settings.TracePath ?? SampleTrace.Locate();
        if (path == null)
            return UsageError($"the bundled sample trace {SampleTrace.FileName} was not found; pass a trace file");
        if (!File.Exists(path))
            return UsageError($"trace file not found: {path}");

        Trace trace;
        var readWatch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            trace = TraceReader.ReadFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return UsageError($"cannot read {path}: {ex.Message}");
        }
        TimeSpan readTime = readWatch.Elapsed;
        TracePlan plan = TracePlan.Build(trace);
        TimeSpan planTime = readWatch.Elapsed - readTime;
        _console.WriteLine($"trace {path}: {trace.Allocs:N0} allocs, {trace.Frees:N0} frees, {trace.Gcs} GC cycles, {trace.MalformedLines:N0} malformed lines " +
            $"(read in {readTime.TotalMilliseconds:N0} ms, pre-scan {planTime.TotalMilliseconds:N0} ms)");
        ReplayReport.WriteTraceNotes(_console, trace, plan);

        var options = new ReplayOptions { Procs = settings.Procs, Scavenge = settings.Scavenge };
        var results = new List<ReplayResult>();
        foreach ((string name, Func<HeapOptions, IHeap> factory) in factories)
        {
            ReplayResult r = new TraceReplayer(factory, options).Replay(trace, plan, name);
            results.Add(r);
            if (!settings.Quiet)
                ReplayReport.WriteCycles(_console, r);
        }
        ReplayReport.WriteSummary(_console, path, trace, results);

        bool ok = true;
        foreach (ReplayResult r in results)
        {
            ReplayReport.WriteProblems(_console, r);
            ok &= r.Passed;
        }
        for (int i = 1; i < results.Count; i++)
        {
            foreach (string d in ReplayComparison.Compare(results[0], results[i]))
            {
                _console.WriteLine($"DIFFERENT {d}");
                ok = false;
            }
        }
        _console.WriteLine(ok ? "OK: every cycle's sweep freed exactly what the trace frees; Verify passed" : "FAILED");
        return ok ? ExitCodes.Ok : ExitCodes.Disagreement;
    }

    private int UsageError(string message)
    {
        _error.WriteLine($"alloc replay: {message}");
        return ExitCodes.Usage;
    }
}
