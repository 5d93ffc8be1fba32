// MemProfileSampler: Go's fastrand (xorshift64+ on two 32-bit words, shifts 17/7/16) and
// nextSample's exponential distance, pinned to values computed independently from Go's formulas
// (a Python transcription of runtime/stubs.go fastrand and malloc.go fastexprand), so a changed
// shift, sum or rounding shows up as a different sequence.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class MemProfileSamplerTests
{
    [Fact]
    public void FastRand_IsGosXorshiftSequence()
    {
        var s = new MemProfileSampler(42, 0);
        uint[] got = Enumerable.Range(0, 6).Select(_ => s.FastRand()).ToArray();
        Assert.Equal([214603231u, 3855518913u, 3039102901u, 4183121515u, 1416224099u, 3602912095u], got);
    }

    [Fact]
    public void NextSample_IsGosExponentialDistance()
    {
        var s = new MemProfileSampler(42, 3);
        long[] got = Enumerable.Range(0, 6).Select(_ => s.NextSample(512 * 1024)).ToArray();
        Assert.Equal([703797L, 123047L, 116582L, 465357L, 176788L, 1179268L], got);
    }

    [Fact]
    public void NextSample_LargeRatesAreCappedAtGosMaximumMean()
    {
        // At the largest mean (0x7000000) one unit of q moves the result by tens of bytes, so the
        // exact uniform draw (q in 1..2^26) shows; larger rates use the same mean.
        var s = new MemProfileSampler(9, 1);
        long[] got = [s.NextSample(0x7000000), s.NextSample(0x7000000), s.NextSample(0x7000000), s.NextSample(0x7000000),
                      s.NextSample(int.MaxValue), s.NextSample(int.MaxValue)];
        Assert.Equal([488474795L, 44549446L, 141492577L, 65249595L, 338541688L, 112911712L], got);
    }

    [Fact]
    public void NextSample_RateEdges()
    {
        var s = new MemProfileSampler(1, 0);
        Assert.Equal(long.MaxValue, s.NextSample(0));   // sampling off
        Assert.Equal(long.MaxValue, s.NextSample(-5));
        Assert.Equal(0, s.NextSample(1));               // every allocation
        long d = s.NextSample(2);
        Assert.InRange(d, 1, 64);
    }

    [Fact]
    public void NextSample_MeanIsTheRate()
    {
        var s = new MemProfileSampler(7, 1);
        const int rate = 4096, n = 20_000;
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += s.NextSample(rate);
        Assert.InRange(sum / n, rate * 0.95, rate * 1.05);
    }

    [Fact]
    public void Seeds_GiveEachPItsOwnSequence()
    {
        var a = new MemProfileSampler(42, 0);
        var b = new MemProfileSampler(42, 1);
        var c = new MemProfileSampler(43, 0);
        uint fa = a.FastRand(), fb = b.FastRand(), fc = c.FastRand();
        Assert.NotEqual(fa, fb);
        Assert.NotEqual(fa, fc);
    }
}
