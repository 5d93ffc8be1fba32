// `alloc replay --impl both` checks each heap of its lock-step replay against the heap model: a bug
// both allocators share and that neither the lock-step comparison nor the replay's own trace checks
// can see (the replay never reads an object's bytes) fails the replay, naming the identity. Without
// the model the same pair of heaps passes: the model is what catches it.
using GoAlloc.Cli;
using GoAlloc.Model;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Model;

public sealed class ModelReplayCommandTests
{
    /// <summary>Both allocators, each behind the same LyingHeap.</summary>
    private static Dictionary<string, Func<HeapOptions, IHeap>> BothLying(HeapLie lie) => new()
    {
        [HeapFactories.Reference] = o => new LyingHeap(x => new GoAlloc.Reference.MHeap(x), o, lie),
        [HeapFactories.Optimized] = o => new LyingHeap(x => new GoAlloc.Optimized.MHeap(x), o, lie),
    };

    private static (int Exit, string Output) Replay(Dictionary<string, Func<HeapOptions, IHeap>> factories, bool? model, int statsEvery)
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var command = new ReplayCommand(CliTestSupport.StringConsole(stdout), stderr, factories, model);
            int exit = command.Run(ReplaySettings.Default with { TracePath = path, StatsEvery = statsEvery });
            return (exit, stdout + stderr.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    public void ReplayCommand_BothHeapsSkipZeroingAfterACycle_FailsNamingZeroing(int statsEvery)
    {
        (int exit, string output) = Replay(BothLying(HeapLie.SkipsZeroingAfterACycle), model: true, statsEvery);

        Assert.True(exit == ExitCodes.Disagreement, output);
        Assert.Contains($"ModelViolationException: [{ModelIdentity.Zeroing}]", output);
    }

    [Fact]
    public void ReplayCommand_BothHeapsSkipZeroingAfterACycle_PassWithoutTheModel()
    {
        (int exit, string output) = Replay(BothLying(HeapLie.SkipsZeroingAfterACycle), model: false, statsEvery: 1);

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.DoesNotContain(nameof(ModelViolationException), output);
    }

    [Fact]
    public void ReplayCommand_RealAllocators_PassTheModelOnTheHandTrace()
    {
        var real = new Dictionary<string, Func<HeapOptions, IHeap>>(HeapFactories.Available);
        (int exit, string output) = Replay(real, model: true, statsEvery: 1);

        Assert.True(exit == ExitCodes.Ok, output);
    }
}
