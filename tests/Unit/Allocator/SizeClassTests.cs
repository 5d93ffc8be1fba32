// SizeClassTests: Go 1.16's size classes (SizeClasses, MallocConstants) against the verbatim data
// file and against a re-run of Go's generator algorithm; the lookup and divMagic facts the
// allocators rely on, checked exhaustively; and the heap-profile sampler (MemProfileSampler).
using GoAlloc.Model;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests;

public sealed class SizeClassTests
{
    private static GoSizeClassData Go => GoSizeClassData.Default;
    private const int PageSize = (int)MallocConstants.PageSize;

    private static int[] Ints(ReadOnlySpan<ushort> s) => s.ToArray().Select(x => (int)x).ToArray();
    private static int[] Ints(ReadOnlySpan<byte> s) => s.ToArray().Select(x => (int)x).ToArray();

    /// <summary>Go's size -> class dispatch (malloc.go): the 8-byte table up to 1016, the 128-byte table above.</summary>
    private static int LookupClass(int size) =>
        size <= SizeClasses.SmallLookupMax
            ? SizeClasses.SizeToClass8[(size + SizeClasses.SmallSizeDiv - 1) / SizeClasses.SmallSizeDiv]
            : SizeClasses.SizeToClass128[(size - SizeClasses.SmallSizeMax + SizeClasses.LargeSizeDiv - 1) / SizeClasses.LargeSizeDiv];

    /// <summary>mspan.objIndex of Go 1.16: the object number of a span offset via divMagic (mask path for powers of two).</summary>
    private static long ObjIndex(DivMagic m, long offset) =>
        m.BaseMask != 0 ? offset >> m.Shift : ((offset >> m.Shift) * m.Mul) >> m.Shift2;

    /// <summary>The comment-table row computed from the allocator's own tables.</summary>
    private static List<ClassRow> RowsOfSizeClasses()
    {
        var rows = new List<ClassRow>();
        int prev = 0;
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            int size = SizeClasses.ClassToSize[c];
            int span = SizeClasses.ClassToAllocNPages[c] * PageSize;
            int objects = span / size;
            int tail = span - objects * size;
            double maxWaste = (double)((size - prev - 1) * objects + tail) / span;
            rows.Add(new ClassRow(c, size, span, objects, tail, (100 * maxWaste).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));
            prev = size;
        }
        return rows;
    }

    // ---------------------------------------------------------------- the tables themselves

    [Fact]
    public void SizeClasses_MatchReferenceData()
    {
        Assert.Equal(SizeClasses.MaxSmallSize, Go.Constants["_MaxSmallSize"]);
        Assert.Equal(SizeClasses.SmallSizeDiv, Go.Constants["smallSizeDiv"]);
        Assert.Equal(SizeClasses.SmallSizeMax, Go.Constants["smallSizeMax"]);
        Assert.Equal(SizeClasses.LargeSizeDiv, Go.Constants["largeSizeDiv"]);
        Assert.Equal(SizeClasses.NumSizeClasses, Go.Constants["_NumSizeClasses"]);
        Assert.Equal(MallocConstants.PageShift, Go.Constants["_PageShift"]);

        Assert.Equal(Go.ClassToSize, Ints(SizeClasses.ClassToSize));
        Assert.Equal(Go.ClassToAllocNPages, Ints(SizeClasses.ClassToAllocNPages));
        Assert.Equal(Go.SizeToClass8, Ints(SizeClasses.SizeToClass8));
        Assert.Equal(Go.SizeToClass128, Ints(SizeClasses.SizeToClass128));
        Assert.Equal(Go.ClassToDivMagic, SizeClasses.ClassToDivMagic.ToArray());
        Assert.Equal(SizeClasses.NumSizeClasses - 1, Go.Table.Count);
        Assert.Equal(Go.Table, RowsOfSizeClasses());
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
            Assert.Equal(Go.NElems[c], SizeClasses.ClassToAllocNPages[c] * PageSize / SizeClasses.ClassToSize[c]);
    }

    [Fact]
    public void SizeClasses_RegeneratedByGoAlgorithm()
    {
        GeneratedSizeClasses gen = SizeClassGenerator.Generate();
        Assert.Equal(68, gen.ClassToSize.Length);
        // Against Go's file...
        Assert.Equal(Go.ClassToSize, gen.ClassToSize);
        Assert.Equal(Go.ClassToAllocNPages, gen.ClassToAllocNPages);
        Assert.Equal(Go.ClassToDivMagic, gen.ClassToDivMagic);
        Assert.Equal(Go.SizeToClass8, gen.SizeToClass8);
        Assert.Equal(Go.SizeToClass128, gen.SizeToClass128);
        Assert.Equal(Go.Table, gen.Table);
        // ...and against the allocator's copy.
        Assert.Equal(gen.ClassToSize, Ints(SizeClasses.ClassToSize));
        Assert.Equal(gen.ClassToAllocNPages, Ints(SizeClasses.ClassToAllocNPages));
        Assert.Equal(gen.ClassToDivMagic, SizeClasses.ClassToDivMagic.ToArray());
        Assert.Equal(gen.SizeToClass8, Ints(SizeClasses.SizeToClass8));
        Assert.Equal(gen.SizeToClass128, Ints(SizeClasses.SizeToClass128));
    }

    [Fact]
    public void SizeClasses_Go115AlignmentRule_Has67ClassesWithout24()
    {
        // The one rule Go 1.16 changed: 16-byte alignment from 32 bytes instead of 16 admits 24.
        GeneratedSizeClasses go115 = SizeClassGenerator.Generate(SizeClassGenerator.Go115Align16From);
        Assert.Equal(67, go115.ClassToSize.Length);
        Assert.DoesNotContain(24, go115.ClassToSize);
        Assert.Equal(Go.ClassToSize.Where(s => s != 24), go115.ClassToSize);
        Assert.Equal(24, SizeClasses.ClassToSize[3]);
    }

    [Fact]
    public void SizeClasses_TailWasteAtMostOneEighthOfSpan()
    {
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            int size = SizeClasses.ClassToSize[c];
            int span = SizeClasses.ClassToAllocNPages[c] * PageSize;
            Assert.True(span % size <= span / 8, $"class {c}: size {size}, span {span}, tail {span % size}");
            Assert.True(size > SizeClasses.ClassToSize[c - 1], $"class {c} is not larger than class {c - 1}");
            // Alignment: 8 below 32 bytes, 16 up to 128, a multiple of 128 from 1024 on (size_to_class128).
            int align = size < 32 ? 8 : size < 1024 ? 16 : SizeClasses.LargeSizeDiv;
            Assert.True(size % align == 0, $"class {c}: size {size} is not {align}-aligned");
        }
        Assert.Equal(SizeClasses.MaxSmallSize, SizeClasses.ClassToSize[SizeClasses.NumSizeClasses - 1]);
        Assert.Equal(SizeClasses.MaxTinySize, SizeClasses.ClassToSize[SizeClasses.TinySizeClass]);
    }

    [Fact]
    public void MallocConstants_MatchGo116LinuxAmd64()
    {
        Assert.Equal(8192, MallocConstants.PageSize);
        Assert.Equal(136, MallocConstants.NumSpanClasses);
        Assert.Equal(5, MallocConstants.TinySpanClass);
        Assert.Equal(64L << 20, MallocConstants.HeapArenaBytes);
        Assert.Equal(8192, MallocConstants.PagesPerArena);
        Assert.Equal(4L << 20, MallocConstants.PallocChunkBytes);
        Assert.Equal(16 << 10, MallocConstants.FixAllocChunk);
        Assert.Equal(0x00c0L << 32, MallocConstants.ArenaHint(0));
        Assert.Equal(0x7fc0L << 32, MallocConstants.ArenaHint(MallocConstants.ArenaHintCount - 1));
        Assert.Equal(1016, SizeClasses.SmallLookupMax);
        Assert.Equal(129, SizeClasses.SizeToClass8.Length);
        Assert.Equal(249, SizeClasses.SizeToClass128.Length);
        for (int c = 0; c < SizeClasses.NumSizeClasses; c++)
        {
            foreach (bool noscan in new[] { false, true })
            {
                int spc = SpanClass.Make(c, noscan);
                Assert.InRange(spc, 0, MallocConstants.NumSpanClasses - 1);
                Assert.Equal(c, SpanClass.SizeClass(spc));
                Assert.Equal(noscan, SpanClass.NoScan(spc));
            }
        }
    }

    // ---------------------------------------------------------------- lookups

    [Fact]
    public void SizeToClass_EverySmallSize_GetsSmallestFittingClass()
    {
        for (int size = 1; size <= SizeClasses.MaxSmallSize; size++)
        {
            int expected = SizeOracle.SizeClassOf(size);
            int got = LookupClass(size);
            if (got != expected)
                Assert.Fail($"size {size}: lookup gives class {got} ({SizeClasses.ClassToSize[got]} B), smallest fit is class {expected} ({SizeClasses.ClassToSize[expected]} B)");
        }
    }

    [Theory]
    [InlineData(1, 1, 8)]
    [InlineData(8, 1, 8)]
    [InlineData(9, 2, 16)]
    [InlineData(16, 2, 16)]
    [InlineData(17, 3, 24)]
    [InlineData(24, 3, 24)]
    [InlineData(25, 4, 32)]
    [InlineData(897, 32, 1024)]
    [InlineData(1016, 32, 1024)] // last size served by size_to_class8 (index 127)
    [InlineData(1017, 32, 1024)] // first size served by size_to_class128 (index 0)
    [InlineData(1024, 32, 1024)]
    [InlineData(1025, 33, 1152)]
    [InlineData(32767, 67, 32768)]
    [InlineData(32768, 67, 32768)] // last entry of size_to_class128 (index 248)
    public void SizeToClass_Boundaries(int size, int sizeClass, int classSize)
    {
        Assert.Equal(sizeClass, LookupClass(size));
        Assert.Equal(classSize, SizeClasses.ClassToSize[sizeClass]);
    }

    // ---------------------------------------------------------------- divMagic

    [Fact]
    public void DivMagic_ExactDivisionForEveryOffsetOfEverySpan()
    {
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            DivMagic m = SizeClasses.ClassToDivMagic[c];
            int size = SizeClasses.ClassToSize[c];
            long span = SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize;
            for (long off = 0; off < span; off++)
            {
                // The general formula must be exact too (the mask path only short-cuts it).
                long general = ((off >> m.Shift) * m.Mul) >> m.Shift2;
                long idx = ObjIndex(m, off);
                if (idx != off / size || general != off / size)
                    Assert.Fail($"class {c} (size {size}): offset {off} -> {idx} / {general}, want {off / size} ({m})");
            }
        }
    }

    [Fact]
    public void DivMagic_BaseMaskNonzeroExactlyForPowersOfTwo()
    {
        Assert.Equal(default, SizeClasses.ClassToDivMagic[0]);
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            DivMagic m = SizeClasses.ClassToDivMagic[c];
            int size = SizeClasses.ClassToSize[c];
            bool pow2 = (size & (size - 1)) == 0;
            Assert.True(pow2 == (m.BaseMask != 0), $"class {c} (size {size}): baseMask {m.BaseMask}");
            if (!pow2)
                continue;
            // Mask path: the mask clears the offset bits below the size, and the shift is log2(size).
            Assert.Equal(size, 1 << m.Shift);
            long span = SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize;
            for (long off = 0; off < span; off++)
            {
                if ((off & m.BaseMask) != off - off % size)
                    Assert.Fail($"class {c} (size {size}): offset {off} & 0x{m.BaseMask:x} = {off & m.BaseMask}, want {off - off % size}");
            }
        }
    }

    // ---------------------------------------------------------------- MemProfileSampler

    private static long[] Draw(MemProfileSampler s, int rate, int count)
    {
        var v = new long[count];
        for (int i = 0; i < count; i++)
            v[i] = s.NextSample(rate);
        return v;
    }

    [Fact]
    public void MemProfileSampler_SameSeedAndP_SameSequence()
    {
        var a = new MemProfileSampler(42, 3);
        var b = new MemProfileSampler(42, 3);
        Assert.Equal(Draw(a, 512 * 1024, 1000), Draw(b, 512 * 1024, 1000));
        var fa = new MemProfileSampler(42, 3);
        var fb = new MemProfileSampler(42, 3);
        for (int i = 0; i < 1000; i++)
            Assert.Equal(fa.FastRand(), fb.FastRand());
    }

    [Fact]
    public void MemProfileSampler_DifferentPOrSeed_DifferentSequence()
    {
        long[] p0 = Draw(new MemProfileSampler(42, 0), 512 * 1024, 100);
        long[] p1 = Draw(new MemProfileSampler(42, 1), 512 * 1024, 100);
        long[] seed = Draw(new MemProfileSampler(43, 0), 512 * 1024, 100);
        Assert.NotEqual(p0, p1);
        Assert.NotEqual(p0, seed);
        // Not merely shifted copies of one stream: the first draws of 64 Ps are (almost) all distinct.
        var firsts = Enumerable.Range(0, 64).Select(p => new MemProfileSampler(7, p).FastRand()).Distinct().Count();
        Assert.True(firsts >= 63, $"{firsts} distinct first values over 64 Ps");
    }

    [Theory]
    [InlineData(64)]
    [InlineData(4096)]
    [InlineData(512 * 1024)]
    public void MemProfileSampler_MeanOfNextSampleIsRate(int rate)
    {
        const int draws = 100_000;
        var s = new MemProfileSampler(0x9E3779B97F4A7C15UL, 0);
        long[] v = Draw(s, rate, draws);
        double mean = v.Average();
        Assert.True(Math.Abs(mean - rate) < 0.03 * rate, $"mean {mean} for rate {rate}");
        // An exponential distribution: its median is rate * ln 2.
        Array.Sort(v);
        double median = v[draws / 2];
        Assert.True(Math.Abs(median - rate * Math.Log(2)) < 0.03 * rate, $"median {median} for rate {rate}");
        // Every draw is in [1, 26 ln2 * rate + 1]: q ranges over 1..2^26.
        Assert.True(v[0] >= 1, $"min {v[0]}");
        Assert.True(v[^1] <= 26 * Math.Log(2) * rate + 1, $"max {v[^1]}");
    }

    [Fact]
    public void MemProfileSampler_Rate1SamplesEverything_Rate0Never()
    {
        var s = new MemProfileSampler(1, 0);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(0, s.NextSample(1));
            Assert.Equal(long.MaxValue, s.NextSample(0));
            Assert.Equal(long.MaxValue, s.NextSample(-5));
        }
    }
}
