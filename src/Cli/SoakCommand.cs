// SoakCommand: `alloc soak [--impl reference|optimized|both] [--minutes N] [--threads T] [--seed S]
// [--cycle-heavy]` runs the real-thread stress workload (StressWorkload: T threads each with its
// own P, the background sweeper, a FindObject / ReadStats reader, stop-the-world GC cycles, Verify
// and a pattern and FindObject check of every live object at every cycle) for N minutes per
// implementation, printing a progress line to stderr every 10 seconds and a final table
// (operations, ops/s, GC cycles, max heap_sys, violations). A violation is printed with its seed
// and the tail of the operation log. Exit codes: 0 no violation, 1 a violation, 2 bad options.
using System.CommandLine;
using System.Globalization;
using GoAlloc.Replay;
using Spectre.Console;

namespace GoAlloc.Cli;

public sealed class SoakCommand
{
    private readonly IAnsiConsole _console;
    private readonly TextWriter _error;
    private readonly IReadOnlyDictionary<string, Func<HeapOptions, IHeap>> _factories;

    private readonly Option<string> _impl = new("--impl")
    {
        Description = "Allocator to soak; both = the reference, then the optimized, each for --minutes",
        DefaultValueFactory = _ => HeapFactories.Both,
    };
    private readonly Option<double> _minutes = new("--minutes")
    {
        Description = "Wall-clock minutes per implementation (fractions allowed); no new GC cycle starts after it",
        DefaultValueFactory = _ => 1,
    };
    private readonly Option<int> _threads = new("--threads")
    {
        Description = "Allocating threads, each holding its own P (1..64)",
        DefaultValueFactory = _ => 4,
    };
    private readonly Option<ulong> _seed = new("--seed")
    {
        Description = "Seed of the random operations (printed with any violation)",
        DefaultValueFactory = _ => 1,
    };
    private readonly Option<bool> _cycleHeavy = new("--cycle-heavy")
    {
        Description = "64 operations per thread between GC cycles (many cycle boundaries) instead of 3,000",
    };

    public SoakCommand(IAnsiConsole console, TextWriter error, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null)
    {
        _console = console;
        _error = error;
        _factories = factories ?? HeapFactories.Available;
        _impl.AcceptOnlyFromAmong([.. HeapFactories.ImplChoices]);
        Command = new Command("soak", "Run the random real-thread workload (own P per thread, background sweeper, FindObject reader, " +
            "stop-the-world cycles; Verify and pattern checks every cycle) for a while; exit 1 on any violation")
        {
            _impl, _minutes, _threads, _seed, _cycleHeavy,
        };
        Command.SetAction(parse => Run(parse.GetValue(_impl) ?? HeapFactories.Both, parse.GetValue(_minutes), parse.GetValue(_threads),
            parse.GetValue(_seed), parse.GetValue(_cycleHeavy)));
    }

    public Command Command { get; }

    public int Run(string impl, double minutes, int threads, ulong seed, bool cycleHeavy)
    {
        if (!(minutes > 0) || minutes > 7 * 24 * 60)
        {
            _error.WriteLine($"alloc soak: --minutes {minutes.ToString(CultureInfo.InvariantCulture)}: expected more than 0 (at most a week)");
            return ExitCodes.Usage;
        }
        if (threads is < 1 or > 64)
        {
            _error.WriteLine($"alloc soak: --threads {threads}: expected 1..64");
            return ExitCodes.Usage;
        }
        if (!HeapFactories.TryResolve(impl, _factories, out var factories, out string error))
        {
            _error.WriteLine($"alloc soak: {error}");
            return ExitCodes.Usage;
        }
        var results = new List<StressResult>();
        foreach ((string name, Func<HeapOptions, IHeap> factory) in factories)
        {
            var options = new StressOptions
            {
                Threads = threads,
                Seed = seed,
                Duration = TimeSpan.FromMinutes(minutes),
                ProgressEvery = TimeSpan.FromSeconds(10),
                Progress = p => _error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"soak {name}: {p.Elapsed:hh\\:mm\\:ss} {p.Operations:N0} operations ({p.Operations / Math.Max(p.Elapsed.TotalSeconds, 1e-9):N0}/s), " +
                    $"{p.Cycles:N0} GC cycles, max heap_sys {p.MaxHeapSys:N0}, 0 violations")),
            };
            if (cycleHeavy)
                options = options.CycleHeavy();
            StressResult r = StressWorkload.Run(name, factory, options);
            results.Add(r);
            if (r.Violation != null)
            {
                _error.WriteLine(r.Violation.ToString());
                break;
            }
        }
        PrintTable(results, cycleHeavy);
        bool clean = results.All(r => r.Passed);
        _console.WriteLine(clean
            ? $"OK: {results.Sum(r => r.Operations):N0} operations, {results.Sum(r => r.Cycles):N0} GC cycles, 0 violations"
            : $"FAILED: a violation on {results.Last().Implementation} (seed {seed}); see above");
        return clean ? ExitCodes.Ok : ExitCodes.Disagreement;
    }

    /// <summary>One row per figure, one column per implementation: fits 100 columns, numbers never split.</summary>
    private void PrintTable(IReadOnlyList<StressResult> results, bool cycleHeavy)
    {
        var table = new Table { Title = new TableTitle($"soak ({(cycleHeavy ? "cycle-heavy" : "long epochs")})") };
        table.AddColumn("figure");
        foreach (StressResult r in results)
            table.AddColumn(new TableColumn(r.Implementation).RightAligned().NoWrap());
        static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
        (string Name, Func<StressResult, string> Value)[] rows =
        [
            ("threads", r => r.Threads.ToString(CultureInfo.InvariantCulture)),
            ("seed", r => r.Seed.ToString(CultureInfo.InvariantCulture)),
            ("wall time", r => r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s"),
            ("operations", r => N(r.Operations)),
            ("ops/s", r => r.OpsPerSecond.ToString("N0", CultureInfo.InvariantCulture)),
            ("GC cycles", r => N(r.Cycles)),
            ("max heap_sys", r => N(r.MaxHeapSys)),
            ("FindObject checks", r => N(r.FindObjectChecks + r.ReaderLookups)),
            ("pattern checks", r => N(r.PatternChecks)),
            ("violations", r => r.Passed ? "0" : "1"),
        ];
        foreach (var (name, value) in rows)
            table.AddRow([name, .. results.Select(value)]);
        _console.Write(table);
    }
}
