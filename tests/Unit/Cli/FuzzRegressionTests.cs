// The fuzz targets (tools/fuzz, issue #20 item 4) on every seed of the corpus and every saved
// regression input: each runs clean. And the heap-ops decoder's oracle works: on a heap that
// drops a Mark, the decoded sequence reports the live object it lost.
using GoAlloc.Cli;
using Xunit;

namespace GoAlloc.Tests;

public sealed class FuzzRegressionTests
{
    private static string FuzzFolder => Path.Combine(AppContext.BaseDirectory, "Fuzz");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string kind in new[] { "corpus", "regressions" })
        {
            foreach (string target in FuzzTargets.Names)
            {
                string dir = Path.Combine(FuzzFolder, kind, target);
                if (!Directory.Exists(dir))
                    continue;
                foreach (string file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                    data.Add(target, Path.GetRelativePath(FuzzFolder, file));
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void FuzzInput_RunsCleanThroughItsTarget(string target, string file) =>
        FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(FuzzFolder, file)));

    [Fact]
    public void SeedCorpus_IsCopiedForBothTargets()
    {
        foreach (string target in FuzzTargets.Names)
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(FuzzFolder, "corpus", target)));
    }

    [Fact]
    public void HeapOpDecoder_ReportsALiveObjectTheHeapLost()
    {
        // alloc 64 B on P0; StartMark; Mark live[0] (dropped by the heap); FinishMark; FinishSweep; FindObject live[0].
        byte[] ops = [2, 0, 0, 64, 5, 6, 0, 0, 7, 9, 11, 0, 0];
        HeapOpDecoder.Run(ops, o => new GoAlloc.Reference.MHeap(o));
        var ex = Assert.Throws<FuzzFindingException>(() => HeapOpDecoder.Run(ops, o => new FaultyHeap(o, skipMarkNumber: 0)));
        Assert.Contains("FindObject", ex.Message);
    }

    [Fact]
    public void TraceTarget_IgnoresWhatIsNotATrace()
    {
        FuzzTargets.Run("trace", []);
        FuzzTargets.Run("trace", [0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0]);
        FuzzTargets.Run("trace", "tracealloc(0xc0000, zz)\n"u8.ToArray());
    }
}
