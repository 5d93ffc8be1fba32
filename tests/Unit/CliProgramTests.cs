// Program.Main: exit codes (0 agree, 2 usage) and the printed tables, with Console.Out redirected.
// The tests of this class run one at a time (xunit serialises a class), and no other test class
// touches Console, so swapping Console.Out here is safe.
using GoAlloc.Cli;
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
            Assert.DoesNotContain("reference: GC cycles", output);
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
        Assert.Contains("117,355", output);
    }

    [Theory]
    [InlineData("optimized")]
    [InlineData("both")]
    public void Main_ImplNotBuiltYet_ExitsTwoWithAClearMessage(string impl)
    {
        (int exit, _, string err) = Run("replay", "--impl", impl);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("the Optimized allocator is not built yet", err);
    }

    [Theory]
    [InlineData("replay", "--impl", "fast")]
    [InlineData("replay", "--procs", "0")]
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
