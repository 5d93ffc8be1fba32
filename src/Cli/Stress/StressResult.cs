// StressResult / StressViolation: what a stress run measured, and the first thing it caught (with
// the seed and the tail of the operation log, so the run can be read back and repeated).
using System.Text;

namespace GoAlloc.Cli;

public sealed record StressResult(
    string Implementation,
    int Threads,
    ulong Seed,
    TimeSpan Elapsed,
    long Operations,
    int Cycles,
    long MaxHeapSys,
    long FindObjectChecks,
    long PatternChecks,
    long ReaderLookups,
    StressViolation? Violation)
{
    public double OpsPerSecond => Elapsed.TotalSeconds > 0 ? Operations / Elapsed.TotalSeconds : 0;

    public bool Passed => Violation == null;

    public string Summary =>
        $"{Implementation}: {Threads} threads, seed {Seed}: {Operations:N0} operations in {Elapsed.TotalSeconds:F1} s " +
        $"({OpsPerSecond:N0}/s), {Cycles:N0} GC cycles, max heap_sys {MaxHeapSys:N0}, {FindObjectChecks:N0} FindObject checks by owners, " +
        $"{ReaderLookups:N0} by the reader, {PatternChecks:N0} pattern checks, {(Violation == null ? "0 violations" : "1 violation")}";
}

/// <summary>The first violation of a run: who saw it, in which cycle, and the operations that led to it.</summary>
public sealed record StressViolation(string Implementation, ulong Seed, int Threads, string Actor, int Cycle, string Message,
    string? Exception, IReadOnlyList<string> LogTail)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"VIOLATION on {Implementation} ({Threads} threads, seed {Seed}, repeat with --seed {Seed}): " +
            $"{Actor} in cycle {Cycle}: {Message}");
        if (Exception != null)
            sb.AppendLine(Exception);
        sb.AppendLine($"last {LogTail.Count} operations (seq thread cycle op address size):");
        foreach (string line in LogTail)
            sb.AppendLine("  " + line);
        return sb.ToString();
    }
}
