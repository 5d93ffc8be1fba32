// Cost rules of the Optimized SpanSet: Push and Pop allocate nothing managed once the blocks exist,
// and a rough ns per push+pop pair, printed for the record (not asserted).
using System.Diagnostics;
using GoAlloc.Optimized;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

public class SpanSetCostTests(ITestOutputHelper output)
{
    [Fact]
    public void SpanSet_PushPopAllocateNothingManaged()
    {
        using var sp = new SetWithPool();
        PushPopPairs(sp.Set, 100_000); // warm-up: blocks carved, methods jitted
        for (int i = 0; i < 1000; i++)
            sp.Set.Push(FakeSpan.Of(i)); // keep a backlog so pops cross blocks too
        PushPopPairs(sp.Set, 10_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        PushPopPairs(sp.Set, 10_000);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(0, after - before);
    }

    [Fact]
    public void SpanSet_PushPopPairCostIsPrinted()
    {
        using var sp = new SetWithPool();
        PushPopPairs(sp.Set, 1_000_000);
        const int pairs = 10_000_000;
        var sw = Stopwatch.StartNew();
        PushPopPairs(sp.Set, pairs);
        sw.Stop();
        output.WriteLine($"SpanSet push+pop pair: {sw.Elapsed.TotalNanoseconds / pairs:F1} ns ({pairs:N0} pairs, one thread)");
    }

    private static void PushPopPairs(SpanSet set, int n)
    {
        for (int i = 1; i <= n; i++)
        {
            set.Push(i);
            if (set.Pop() == 0)
                throw new InvalidOperationException("pop found nothing after a push");
        }
    }
}
