// `alloc soak`: a short clean run prints the table and exits 0; a heap that fails Verify makes it
// exit 1 with the seed and the operation log tail; bad options are usage errors (exit 2).
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public sealed class CliSoakTests
{
    [Fact]
    public void Soak_ShortCleanRun_PrintsTheTableAndExitsZero()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["soak", "--impl", "both", "--minutes", "0.01", "--threads", "2", "--seed", "3"], stdout, stderr);
        string text = stdout.ToString();
        Assert.True(code == ExitCodes.Ok, text + stderr);
        Assert.Contains("ops/s", text);
        Assert.Contains("max heap_sys", text);
        Assert.Contains("reference", text);
        Assert.Contains("optimized", text);
        Assert.Contains("0 violations", text);
    }

    [Fact]
    public void Soak_AHeapFailingVerify_ExitsOneWithTheSeedAndTheLogTail()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var factories = new Dictionary<string, Func<HeapOptions, IHeap>>
        {
            [HeapFactories.Reference] = o => new FaultyHeap(o, failVerifyNumber: 1),
        };
        var soak = new SoakCommand(CliTestSupport.StringConsole(stdout), stderr, factories);
        int code = soak.Run(HeapFactories.Reference, minutes: 1, threads: 2, seed: 9, cycleHeavy: true);
        Assert.Equal(ExitCodes.Disagreement, code);
        string err = stderr.ToString();
        Assert.Contains("seed 9", err);
        Assert.Contains("INV-TEST-1", err);
        Assert.Contains("last ", err);
        Assert.Contains("FAILED", stdout.ToString());
    }

    [Theory]
    [InlineData("--minutes", "0")]
    [InlineData("--minutes", "-1")]
    [InlineData("--threads", "0")]
    [InlineData("--threads", "65")]
    [InlineData("--impl", "fast")]
    public void Soak_OptionsOutsideTheirMeaning_AreUsageErrors(string option, string value)
    {
        var stderr = new StringWriter();
        int code = Program.Run(["soak", option, value], new StringWriter(), stderr);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(option == "--impl" ? "fast" : option, stderr.ToString());
    }
}
