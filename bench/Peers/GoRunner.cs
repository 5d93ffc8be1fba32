// GoRunner: runs bench/go's binary (Go 1.19's runtime allocator) as a child process for one round
// of every workload, in both modes, and parses its "workload ns_per_op" lines.
using System.Diagnostics;
using System.Globalization;

namespace GoAlloc.Peers;

public sealed class GoRunner(string binary, double scale, string? tracePlan)
{
    public const string Off = "go GOGC=off+GC";
    public const string Hundred = "go GOGC=100";

    /// <summary>One round in one mode ("off" or "100"): ns per op by workload.</summary>
    public Dictionary<Workload, double> Round(string mode) =>
        Parse(RunChild($"-mode {mode} -rounds 1 -scale {scale.ToString(CultureInfo.InvariantCulture)}" + TraceArg()));

    /// <summary>Peak RSS growth, heap_sys and heap_inuse of one workload (GOGC=off mode).</summary>
    public (long Rss, long Sys, long InUse) Memory(Workload w)
    {
        string[] f = RunChild($"-mode off -memory {w} -scale {scale.ToString(CultureInfo.InvariantCulture)}" + TraceArg()).Trim().Split(' ');
        return (long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture));
    }

    private string TraceArg() => tracePlan == null ? "" : $" -trace {tracePlan}";

    private string RunChild(string args)
    {
        var psi = new ProcessStartInfo(binary, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {binary}");
        string output = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{binary} {args} exited {p.ExitCode}: {err}");
        return output;
    }

    private static Dictionary<Workload, double> Parse(string output)
    {
        var r = new Dictionary<Workload, double>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            r[Enum.Parse<Workload>(f[0])] = double.Parse(f[1], CultureInfo.InvariantCulture);
        }
        return r;
    }
}
