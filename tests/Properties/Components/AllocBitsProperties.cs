// Alloc bits, allocCache and nextFreeIndex against a bool-array model of a span's slots.
// NextFreeIndex_MatchesBoolArrayModel drives the Optimized MSpan directly: alloc bits in native
// memory, allocCache aligned to freeindex as cacheSpan leaves it, then nextFreeIndex again and
// again (the model: the first free slot at or after freeindex). nextFreeFast is private to the
// Optimized P, so AllocCache_NextFreeFastMatchesModel checks it through the public API of both
// heaps: fill one span of a class, mark a random subset, collect, and allocate again - the span
// comes back from the partial set and every allocation must take the next unmarked slot in address
// order, across the 64-slot allocCache groups, until the span is full.
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed unsafe class AllocBitsProperties
{
    /// <summary>A span geometry and its alloc bits as bool runs (runs make long free / used stretches likely).</summary>
    public sealed record SpanBits(int NElems, bool[] Allocated, int FreeIndex)
    {
        public override string ToString()
        {
            var runs = new List<string>();
            for (int i = 0; i < NElems;)
            {
                int j = i;
                while (j < NElems && Allocated[j] == Allocated[i])
                    j++;
                runs.Add($"{(Allocated[i] ? "used" : "free")}[{i}..{j})");
                i = j;
            }
            return $"nelems={NElems} freeindex={FreeIndex} {string.Join(" ", runs)}";
        }
    }

    private static readonly Gen<int> s_nelems = Gen.Frequency(
        (2, Gen.Choose(1, SizeClasses.NumSizeClasses - 1).Select(c => (int)(SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize / SizeClasses.ClassToSize[c]))),
        (1, Gen.Elements(1, 63, 64, 65, 127, 128, 129, 1023, 1024)),
        (1, Gen.Choose(1, 1024)));

    private static Gen<bool[]> Bits(int n) =>
        from density in Gen.Elements(0.0, 0.1, 0.5, 0.9, 1.0)
        from runLens in Gen.Choose(1, 70).ArrayOf(n)
        from seed in Gen.Choose(0, int.MaxValue)
        select MakeRuns(n, density, runLens, seed);

    private static bool[] MakeRuns(int n, double density, int[] runLens, int seed)
    {
        var rng = new Random(seed);
        var bits = new bool[n];
        int i = 0, r = 0;
        while (i < n)
        {
            bool used = rng.NextDouble() < density;
            int len = runLens[r++ % runLens.Length];
            for (int k = 0; k < len && i < n; k++, i++)
                bits[i] = used;
        }
        return bits;
    }

    public static Gen<SpanBits> SpanBitsGen { get; } =
        from n in s_nelems
        from bits in Bits(n)
        from fi in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(0, n)))
        select new SpanBits(n, bits, fi);

    [Fact]
    public void NextFreeIndex_MatchesBoolArrayModel()
    {
        Property property = Prop.ForAll(SpanBitsGen.ToArbitrary(), sb =>
        {
            // 128 bytes of bits for 1024 objects, plus room for an 8-byte read at the last group.
            byte* bits = (byte*)NativeMemory.AllocZeroed(256);
            try
            {
                for (int i = 0; i < sb.NElems; i++)
                {
                    if (sb.Allocated[i])
                        bits[i >> 3] |= (byte)(1 << (i & 7));
                }
                var s = new GoAlloc.Optimized.MSpan { AllocBits = bits, NElems = sb.NElems, FreeIndex = sb.FreeIndex };
                // As mcentral.cacheSpan leaves it: allocCache holds the group of freeindex, shifted to it.
                s.RefillAllocCache((s.FreeIndex & ~63) / 8);
                s.AllocCache >>= s.FreeIndex % 64;
                int modelFree = sb.FreeIndex;
                for (int call = 0; call <= sb.NElems + 1; call++)
                {
                    int want = modelFree;
                    while (want < sb.NElems && sb.Allocated[want])
                        want++;
                    modelFree = want < sb.NElems ? want + 1 : sb.NElems;
                    int got = s.NextFreeIndex();
                    if (got != want || s.FreeIndex != modelFree)
                        return false.Label($"call {call}: nextFreeIndex = {got} (freeindex {s.FreeIndex}), model {want} (freeindex {modelFree})");
                    if (want == sb.NElems)
                        break;
                }
                return true.ToProperty();
            }
            finally
            {
                NativeMemory.Free(bits);
            }
        });
        PropertyRunner.Check(nameof(NextFreeIndex_MatchesBoolArrayModel), 2000, property);
    }

    /// <summary>One span's worth of a class, which of its objects survive a GC, and the heap to run on.</summary>
    public sealed record ReuseCase(int SizeClass, bool Noscan, bool[] Survives, string Heap)
    {
        public override string ToString() =>
            $"{Heap}: class {SizeClass} (size {SizeClasses.ClassToSize[SizeClass]}, {(Noscan ? "noscan" : "scan")}, {Survives.Length} objects/span), survivors {new SpanBits(Survives.Length, Survives, 0)}";
    }

    public static Gen<ReuseCase> ReuseGen { get; } =
        from c in Gen.Frequency(
            (3, Gen.Choose(1, SizeClasses.NumSizeClasses - 1)),
            (2, Gen.Elements(1, 2, 3, 4, 5, 6)))   // the classes with 512..1024 slots: many 64-slot groups
        let n = (int)(SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize / SizeClasses.ClassToSize[c])
        from survives in Bits(n)
        from noscan in Gen.Elements(false, true)
        from heap in Gen.Elements("reference", "optimized")
        select new ReuseCase(c, noscan && SizeClasses.ClassToSize[c] >= SizeClasses.MaxTinySize, survives, heap);

    [Fact]
    public void AllocCache_NextFreeFastMatchesModel()
    {
        Property property = Prop.ForAll(ReuseGen.ToArbitrary(), rc =>
        {
            int n = rc.Survives.Length;
            long size = SizeClasses.ClassToSize[rc.SizeClass];
            using IHeap heap = rc.Heap == "reference" ? new GoAlloc.Reference.MHeap(new HeapOptions { Procs = 1 }) : new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1 });
            // Fill exactly one span: a fresh heap's first span of the class, slot after slot.
            IProcessor p = heap.AcquireP();
            var slots = new nint[n];
            for (int i = 0; i < n; i++)
            {
                slots[i] = p.Alloc(size, rc.Noscan);
                if (slots[i] != slots[0] + (nint)(i * size))
                    return false.Label($"first fill: object {i} at +0x{slots[i] - slots[0]:x}, expected +0x{i * size:x}");
            }
            p.Release();
            // Collect: the survivors are the model's allocated slots.
            heap.StartMark();
            for (int i = 0; i < n; i++)
            {
                if (rc.Survives[i])
                    heap.Mark(slots[i]);
            }
            heap.FinishMark();
            heap.FinishSweep();
            int free = rc.Survives.Count(x => !x);
            if (free == 0 || free == n)
            {
                // A full span stays full; an empty one went back to the heap: nothing to reuse in order.
                heap.Verify();
                return true.Classify(true, free == 0 ? "span full" : "span freed");
            }
            // Allocate again: the partial span is reused, next free slot first.
            p = heap.AcquireP();
            int step = 0;
            for (int i = 0; i < n; i++)
            {
                if (rc.Survives[i])
                    continue;
                nint x = p.Alloc(size, rc.Noscan);
                if (x != slots[i])
                    return false.Label($"reuse {step}: got slot {(x - slots[0]) / size} (+0x{x - slots[0]:x}), the model's next free slot is {i}");
                step++;
            }
            nint next = p.Alloc(size, rc.Noscan);
            if (next >= slots[0] && next < slots[0] + (nint)(n * size))
                return false.Label($"after {step} reuses the span is full, but the next allocation got slot {(next - slots[0]) / size}");
            p.Release();
            heap.Verify();
            return true.Classify(true, "partial span reused");
        });
        PropertyRunner.Check(nameof(AllocCache_NextFreeFastMatchesModel), 200, property);
    }
}
