// pallocBits (mpallocbits.go) against a 512-entry bool array: find / find1 / findSmallN /
// findLargeN return the lowest run of n free pages and the first free page seen, and summarize
// returns (free pages at the start, longest free run, free pages at the end), Go's SummarizeSlow
// idea written over the bool array. Bitmaps are built from runs so long free and used stretches,
// word-straddling runs and full / empty chunks are common.
// Compiled once the radix-tree page allocator (src/Optimized/PallocBits.cs) has landed; until then
// the Optimized PageAlloc is a stand-in without pallocBits (see Properties.csproj, HAS_PALLOCBITS).
#if HAS_PALLOCBITS
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed class PallocBitsProperties
{
    private const int N = MallocConstants.PallocChunkPages;

    /// <summary>A chunk's in-use bitmap as alternating runs (true = in use).</summary>
    public sealed record Chunk(bool[] InUse)
    {
        public override string ToString()
        {
            var runs = new List<string>();
            for (int i = 0; i < N;)
            {
                int j = i;
                while (j < N && InUse[j] == InUse[i])
                    j++;
                runs.Add($"{(InUse[i] ? "used" : "free")}[{i}..{j})");
                i = j;
            }
            return string.Join(" ", runs);
        }

        internal PallocBits ToPallocBits()
        {
            PallocBits b = default;
            for (int w = 0; w < N / 64; w++)
            {
                ulong x = 0;
                for (int k = 0; k < 64; k++)
                {
                    if (InUse[w * 64 + k])
                        x |= 1UL << k;
                }
                b[w] = x;
            }
            return b;
        }
    }

    public static Gen<Chunk> ChunkGen { get; } =
        from freeBias in Gen.Elements(0.1, 0.5, 0.9)
        from lens in Gen.Frequency((4, Gen.Choose(1, 8)), (3, Gen.Choose(9, 70)), (1, Gen.Choose(71, 512))).ArrayOf()
        from whole in Gen.Frequency((12, Gen.Constant(-1)), (1, Gen.Constant(0)), (1, Gen.Constant(1)))
        from seed in Gen.Choose(0, int.MaxValue)
        select new Chunk(Build(freeBias, lens, whole, seed));

    private static bool[] Build(double freeBias, int[] lens, int whole, int seed)
    {
        var bits = new bool[N];
        if (whole >= 0 || lens.Length == 0)
        {
            Array.Fill(bits, whole != 0);
            return bits;
        }
        var rng = new Random(seed);
        int i = 0, r = 0;
        while (i < N)
        {
            bool used = rng.NextDouble() >= freeBias;
            for (int k = 0; k < lens[r % lens.Length] && i < N; k++, i++)
                bits[i] = used;
            r++;
        }
        return bits;
    }

    private static int FirstFree(bool[] inUse, int from)
    {
        for (int i = from; i < N; i++)
        {
            if (!inUse[i])
                return i;
        }
        return PallocBits.NotFound;
    }

    private static int FirstRun(bool[] inUse, int npages)
    {
        int run = 0;
        for (int i = 0; i < N; i++)
        {
            run = inUse[i] ? 0 : run + 1;
            if (run == npages)
                return i - npages + 1;
        }
        return PallocBits.NotFound;
    }

    [Fact]
    public void PallocBits_FindMatchesBoolArrayModel()
    {
        Gen<(Chunk, int, int)> cases =
            from c in ChunkGen
            from npages in Gen.Frequency((3, Gen.Constant(1)), (3, Gen.Choose(2, 64)), (2, Gen.Choose(65, N)), (1, Gen.Elements(63, 64, 65, 128, 511, 512)))
            from pick in Gen.Choose(0, N)
            select (c, npages, pick);
        Property property = Prop.ForAll(cases.ToArbitrary(), t =>
        {
            (Chunk c, int npages, int pick) = t;
            // The caller's promise: every page before searchIdx is in use. Any index up to the first free page keeps it.
            int firstFree = FirstFree(c.InUse, 0);
            int searchIdx = Math.Min(pick, firstFree == PallocBits.NotFound ? N - 1 : firstFree);
            PallocBits b = c.ToPallocBits();
            (int index, int newSearch) = b.Find(npages, searchIdx);
            int want = FirstRun(c.InUse, npages);
            if (index != want)
                return false.Label($"find({npages}, {searchIdx}) = {index}, the lowest run of {npages} free pages starts at {want}");
            if (want != PallocBits.NotFound && newSearch != firstFree)
                return false.Label($"find({npages}, {searchIdx}) found {index} but reports first free page {newSearch}, the model's is {firstFree}");
            if (want == PallocBits.NotFound && newSearch != PallocBits.NotFound && newSearch != firstFree)
                return false.Label($"find({npages}, {searchIdx}) found nothing and reports first free page {newSearch}, the model's is {firstFree}");
            return true.Classify(want == PallocBits.NotFound, "no fit");
        });
        PropertyRunner.Check(nameof(PallocBits_FindMatchesBoolArrayModel), 3000, property);
    }

    [Fact]
    public void PallocBits_SummarizeMatchesBoolArrayModel()
    {
        Property property = Prop.ForAll(ChunkGen.ToArbitrary(), c =>
        {
            int start = 0, end = 0, max = 0, run = 0;
            while (start < N && !c.InUse[start])
                start++;
            while (end < N && !c.InUse[N - 1 - end])
                end++;
            for (int i = 0; i < N; i++)
            {
                run = c.InUse[i] ? 0 : run + 1;
                max = Math.Max(max, run);
            }
            PallocSum got = c.ToPallocBits().Summarize();
            if (got.Start != start || got.Max != max || got.End != end)
                return false.Label($"summarize = (start {got.Start}, max {got.Max}, end {got.End}), model (start {start}, max {max}, end {end})");
            return true.ToProperty();
        });
        PropertyRunner.Check(nameof(PallocBits_SummarizeMatchesBoolArrayModel), 3000, property);
    }
}
#endif
