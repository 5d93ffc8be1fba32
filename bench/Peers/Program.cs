// GoAlloc.Peers: the side-by-side harness (issue 19). Runs the same workloads on Optimized,
// Reference, mimalloc, jemalloc, tcmalloc and glibc (zeroed and raw variants) in one process,
// interleaved in rounds with the order rotated each round, plus Go 1.19's allocator as a child
// process per round; prints one ratio table (medians of per-round ratios). bench/peers is the one
// command that installs what this needs and runs it.
//   --rounds N    timed rounds (default 11)      --scale S   multiplies every count (default 1)
//   --go PATH     the built bench/go binary      --trace P   allocation trace (default: testdata)
//   --out FILE    also write the markdown there  --memory    peak RSS table (child processes)
//   --scaling PNG the heap-size scaling plot     --child A Z W   (internal) one memory run
//   --allocators a,b  --workloads W1,W2  --variant zeroed|raw   a subset (for a perf profile)
using System.Globalization;

namespace GoAlloc.Peers;

public static class Program
{
    public static int Main(string[] args)
    {
        var o = Options.Parse(args);
        if (o.Child != null)
            return MemoryRun.Child(o);
        var report = new Report(o);
        if (o.Rounds > 0)
        {
            Results r = Harness.Run(o);
            if (o.Allocators == null && o.Workloads == null && o.Variant == null)
                report.Timing(r);
            else
                report.Raw(r);
        }
        // Each part is written out as soon as it is done, so a later part's failure keeps the earlier ones.
        Emit(report, o, final: !o.Memory && o.ScalingPng == null);
        if (o.Memory)
        {
            report.Memory(MemoryRun.All(o));
            Emit(report, o, final: o.ScalingPng == null);
        }
        if (o.ScalingPng != null)
        {
            report.Scaling(ScalingRun.Run(o));
            Emit(report, o, final: true);
        }
        return 0;
    }

    private static void Emit(Report report, Options o, bool final)
    {
        string text = report.ToString();
        if (final)
            Console.WriteLine(text);
        if (o.Out != null)
            File.WriteAllText(o.Out, text);
    }
}

public sealed class Options
{
    public int Rounds { get; private set; } = 11;
    public double Scale { get; private set; } = 1;
    public string? GoBinary { get; private set; }
    public string? TracePath { get; private set; }
    public string? Out { get; private set; }
    public bool Memory { get; private set; }
    public string? ScalingPng { get; private set; }
    public string[]? Child { get; private set; }
    /// <summary>Only these allocators (comma-separated names), e.g. for a perf profile of one.</summary>
    public string[]? Allocators { get; private set; }
    /// <summary>Only the "zeroed" or the "raw" cases (a subset run).</summary>
    public string? Variant { get; private set; }
    /// <summary>Only these workloads (comma-separated).</summary>
    public Workload[]? Workloads { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--rounds": o.Rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--scale": o.Scale = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--go": o.GoBinary = Next(); break;
                case "--trace": o.TracePath = Next(); break;
                case "--out": o.Out = Next(); break;
                case "--memory": o.Memory = true; break;
                case "--scaling": o.ScalingPng = Next(); break;
                case "--child": o.Child = [Next(), Next(), Next()]; break;
                case "--allocators": o.Allocators = Next().Split(','); break;
                case "--variant": o.Variant = Next(); break;
                case "--workloads": o.Workloads = [.. Next().Split(',').Select(Enum.Parse<Workload>)]; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        o.TracePath ??= FindTrace();
        return o;
    }

    private static string? FindTrace()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string p = Path.Combine(dir.FullName, "testdata", "gofmt-go-ast-parser-gogc5.trace.gz");
            if (File.Exists(p))
                return p;
        }
        return null;
    }
}
