// Program.Main: exit codes (0 agree, 2 usage) and the printed tables (single implementation, and the
// default `both`: a lockstep replay with a column per implementation), with Console.Out redirected.
// The tests of this class run one at a time (xunit serialises a class), and no other test class
// touches Console, so swapping Console.Out here is safe.
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliProgramTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int exit = Program.Main(args);
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }

    [Fact]
    public void Main_ReplayOfATinyTrace_ExitsZeroAndPrintsTheCycleAndSummaryTables()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, string err) = Run("replay", path, "--procs", "2");
            Assert.True(exit == ExitCodes.Ok, output + err);
            foreach (string header in ReplayReport.CycleHeaders)
                Assert.Contains(header, output);
            Assert.Contains("summary", output);
            Assert.Contains("allocations/s", output);
            Assert.Contains("unpaired (tolerated): FreeOfUnknownAddress", output);
            Assert.DoesNotContain('\u001b', output); // not a terminal: no ANSI escapes
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Main_Quiet_PrintsTheSummaryButNoCycleTable()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, _) = Run("replay", path, "--quiet", "--scavenge");
            Assert.Equal(ExitCodes.Ok, exit);
            Assert.Contains("summary", output);
            Assert.Contains("scavenged (sum over cycles)", output);
            Assert.DoesNotContain("GC cycles, lockstep", output);
            Assert.DoesNotContain("reference: GC cycles", output);
            Assert.Contains(ReplayReport.LockstepChecksRow, output);
            Assert.DoesNotContain("top classes", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Main_NoArguments_ReplaysTheBundledSample()
    {
        (int exit, string output, string err) = Run();
        Assert.True(exit == ExitCodes.Ok, output + err);
        Assert.Contains(SampleTrace.FileName, output);
        Assert.Contains("159,034", output);
        // Replayed on the recorded Ps with noscan, and the fidelity to Go printed.
        Assert.Matches(@"procs \(Ps replayed\)\s+│\s+2 \(trace's highest P: 1\)", output);
        Assert.Contains("fidelity: tiny offsets", output);
        Assert.Contains("fidelity: span packing", output);
        Assert.Contains("fidelity: live per cycle", output);
        // `alloc` alone is a lockstep replay of the reference and the optimized.
        Assert.Contains("GC cycles, lockstep (reference | optimized", output);
        Assert.Contains("all agree", output);
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void Main_SingleImplementation_ReplaysOnThatAllocatorAlone(string impl)
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, string err) = Run("replay", path, "--impl", impl);
            Assert.True(exit == ExitCodes.Ok, output + err);
            Assert.Contains($"{impl}: GC cycles", output);
            Assert.Contains("Verify", output);
            Assert.Contains("passed (4x)", output);
            Assert.DoesNotContain(ReplayReport.LockstepChecksRow, output);
            Assert.DoesNotContain(impl == "reference" ? "optimized" : "reference", output);
            Assert.Contains("OK: every cycle's sweep freed exactly what the trace frees; Verify passed", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("both")]
    [InlineData(null)]
    public void Main_Both_IsTheDefault_AndPrintsAColumnPerImplementationAndTheLockstepChecks(string? impl)
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, string err) = impl == null
                ? Run("replay", path, "--stats-every", "1")
                : Run("replay", path, "--impl", impl, "--stats-every", "1");
            Assert.True(exit == ExitCodes.Ok, output + err);
            // The cycle table: a row per cycle and implementation.
            Assert.Contains("GC cycles, lockstep (reference | optimized", output);
            Assert.Contains($"│ {ReplayReport.ImplementationHeader} ", output);
            Assert.Contains("│ reference ", output);
            Assert.Contains("│ optimized ", output);
            // The summary: both column headers on one line, the lockstep row, the timed solo runs.
            Assert.Matches(@"│\s+│\s+reference\s+│\s+optimized\s+│", output);
            // The row wraps in its column (its label column blank on the lines that follow): read it flat.
            string flat = System.Text.RegularExpressions.Regex.Replace(output, @"[│\s]+", " ");
            Assert.Matches(@"lockstep checks [\d,]+ operations \(full stats after each; each heap against the heap model after each, its stats identities on the same schedule\): all agree ", flat);
            Assert.Contains("wall time (solo, fastest allocator run)", output);
            Assert.Contains("wall time (solo, median allocator run)", output);
            Assert.Contains("allocator alone: allocations/s (fastest of", output);
            Assert.Contains("allocator alone: allocations/s (median of", output);
            Assert.Contains("allocator alone: speed vs reference", output);
            Assert.Contains("OK: reference and optimized agreed on all", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("replay", "--impl", "fast")]
    [InlineData("replay", "--procs", "0")]
    [InlineData("replay", "--procs", "abc")]
    [InlineData("replay", "--no-such-option")]
    [InlineData("frobnicate")]
    public void Main_UsageError_ExitsTwo(params string[] args)
    {
        (int exit, _, string err) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("alloc", err);
    }

    [Fact]
    public void Main_MissingTraceFile_ExitsTwo()
    {
        (int exit, _, string err) = Run("replay", "/nonexistent/trace.gz");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("trace file not found", err);
    }
}
