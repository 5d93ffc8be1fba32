// The tiny allocator's rules (mallocgc, malloc.go), checked through the public API of both heaps
// against a model of the P's tiny block: a noscan object under 16 bytes is aligned in the block
// by its size (8 if size % 8 == 0, 4 if % 4, 2 if even, else 1) and goes at the aligned offset
// when it fits; otherwise it takes a fresh 16-byte block (16-aligned, a tiny-class slot, zeroed),
// which replaces the current block only if it has more room left (size < old offset, or no block).
// Objects never overlap, combined allocations count as TinyAllocs, other allocations and sizes do
// not disturb the block, and Flush drops it. (Go's TestTinyAlloc and #37262 are contract tests.)
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed unsafe class TinyAllocProperties
{
    /// <summary>Size 1..15: a tiny noscan allocation; 0: Flush; other values: a non-tiny allocation of that size.</summary>
    public sealed record TinyCase(string Heap, long[] Steps)
    {
        public override string ToString() =>
            $"{Heap}: {string.Join(", ", Steps.Select(s => s switch { 0 => "Flush", < 16 => $"tiny({s})", _ => $"other({s})" }))}";
    }

    public static Gen<TinyCase> CaseGen { get; } =
        from heap in Gen.Elements("reference", "optimized")
        from steps in Gen.Frequency(
            (12, Gen.Choose(1, 15).Select(x => (long)x)),
            (1, Gen.Constant(0L)),
            (2, Gen.Elements(16L, 24L, 8L + 1000, 4096L, 40_000L))).ArrayOf()
        select new TinyCase(heap, steps);

    private static long Align(long off, long size) =>
        (size & 7) == 0 ? (off + 7) & ~7L
        : (size & 3) == 0 ? (off + 3) & ~3L
        : (size & 1) == 0 ? (off + 1) & ~1L
        : off;

    [Fact]
    public void TinyAlloc_AlignmentRules()
    {
        Property property = Prop.ForAll(CaseGen.ToArbitrary(), tc =>
        {
            using IHeap heap = tc.Heap == "reference" ? new GoAlloc.Reference.MHeap(new HeapOptions { Procs = 1 }) : new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1 });
            IProcessor p = heap.AcquireP();
            nint block = 0;        // the model's current tiny block (0: none)
            long offset = 0;
            long combined = 0;
            var objects = new List<(nint Addr, long Size)>();
            var blocks = new HashSet<nint>();
            for (int i = 0; i < tc.Steps.Length; i++)
            {
                long size = tc.Steps[i];
                if (size == 0)
                {
                    p.Flush();
                    block = 0;
                    offset = 0;
                    continue;
                }
                if (size >= SizeClasses.MaxTinySize)
                {
                    p.Alloc(size, noscan: true);
                    continue;
                }
                nint x = p.Alloc(size, noscan: true);
                long off = Align(offset, size);
                if (block != 0 && off + size <= SizeClasses.MaxTinySize)
                {
                    if (x != block + (nint)off)
                        return false.Label($"step {i}: tiny({size}) at 0x{x:x}, the model puts it in the current block at 0x{block:x} + {off}");
                    offset = off + size;
                    combined++;
                }
                else
                {
                    // A fresh block: 16-aligned, a whole allocated tiny-class slot, never handed out before.
                    if (x % SizeClasses.MaxTinySize != 0 || !blocks.Add(x))
                        return false.Label($"step {i}: tiny({size}) needs a fresh block, got 0x{x:x} (misaligned or reused)");
                    if (!heap.FindObject(x, out ObjectInfo info) || info.Base != x || info.Size != SizeClasses.MaxTinySize
                        || info.SpanClass != MallocConstants.TinySpanClass || !info.Allocated)
                        return false.Label($"step {i}: fresh tiny block 0x{x:x} is not an allocated 16-byte tiny-class slot: {info}");
                    if (block == 0 || size < offset)
                    {
                        block = x;
                        offset = size;
                    }
                }
                foreach ((nint a, long n) in objects)
                {
                    if (x < a + (nint)n && a < x + (nint)size)
                        return false.Label($"step {i}: tiny({size}) at 0x{x:x} overlaps the object at 0x{a:x} of {n} bytes");
                }
                objects.Add((x, size));
            }
            p.Release();
            HeapStats st = heap.ReadStats();
            if (st.TinyAllocs != combined)
                return false.Label($"TinyAllocs = {st.TinyAllocs}, the model combined {combined}");
            heap.Verify();
            return true.ToProperty();
        });
        PropertyRunner.Check(nameof(TinyAlloc_AlignmentRules), 300, property);
    }
}
