// Size classes: the Optimized lookups against the obviously right model (the smallest class whose
// size holds the request, found by a search of class_to_size) and Go's divmagic against plain
// division. The two exhaustive checks cover every input there is (every size up to 32768, every
// byte offset of every class's span); the property checks the same facts end to end through the
// public API of both heaps (FindObject reports the class the allocation used).
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Model;
using Xunit;
using GenF = FsCheck.FSharp.Gen;

namespace GoAlloc.Properties.Components;

public sealed unsafe class SizeClassProperties
{
    [Fact]
    public void SizeToClass_SmallestClassThatFits()
    {
        // Exhaustive: every size there is, including the lookup-table switch at 1016 / 1024.
        for (long size = 1; size <= SizeClasses.MaxSmallSize; size++)
        {
            int got = GoAlloc.Optimized.P.SizeToClass(size);
            int want = SizeOracle.SizeClassOf(size);
            if (got != want)
                Assert.Fail($"SizeToClass({size}) = {got} (size {SizeClasses.ClassToSize[got]}), the smallest class that fits is {want} (size {SizeClasses.ClassToSize[want]})");
        }
    }

    [Fact]
    public void DivMagic_ExactForEveryOffset()
    {
        // Exhaustive: every byte offset of a span of every class, through the Optimized span's
        // objIndex (shift, or multiply and shift), against offset / elemsize.
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            long size = SizeClasses.ClassToSize[c];
            long spanBytes = SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize;
            DivMagic m = SizeClasses.ClassToDivMagic[c];
            var s = new GoAlloc.Optimized.MSpan
            {
                StartAddr = 0x10000,
                ElemSize = size,
                DivShift = m.Shift,
                DivShift2 = m.Shift2,
                DivMul = m.Mul,
                BaseMask = m.BaseMask,
            };
            for (long off = 0; off < spanBytes; off++)
            {
                int got = s.ObjIndex(s.StartAddr + (nint)off);
                if (got != off / size)
                    Assert.Fail($"class {c} (size {size}, {m}): objIndex(offset {off}) = {got}, expected {off / size}");
            }
        }
    }

    /// <summary>A small size: mostly anywhere, often at a class edge or the table boundaries.</summary>
    private static readonly string[] s_heaps = ["reference", "optimized"];

    private static readonly Gen<long> s_smallSize = Gen.Frequency(
        (3, GenF.Choose64(1, SizeClasses.MaxSmallSize)),
        (2, Gen.Choose(1, SizeClasses.NumSizeClasses - 1).SelectMany(c => Gen.Elements<long>(SizeClasses.ClassToSize[c], SizeClasses.ClassToSize[c] + 1L))
            .Where(x => x <= SizeClasses.MaxSmallSize)),
        (1, Gen.Elements(1016L, 1017L, 1023L, 1024L, 1025L, 32767L, 32768L)));

    [Fact]
    public void SizeToClass_AllocUsesSmallestClassThatFits()
    {
        Property property = Prop.ForAll(s_smallSize.ArrayOf().ToArbitrary(), sizes =>
        {
            foreach (string which in s_heaps)
            {
                using IHeap heap = which == "reference" ? new GoAlloc.Reference.MHeap(new HeapOptions { Procs = 1 }) : new GoAlloc.Optimized.MHeap(new HeapOptions { Procs = 1 });
                IProcessor p = heap.AcquireP();
                foreach (long size in sizes)
                {
                    bool noscan = (size & 1) == 0;
                    nint x = p.Alloc(size, noscan: noscan && size >= SizeClasses.MaxTinySize);
                    int c = SizeOracle.SizeClassOf(size);
                    bool tinyFree = noscan && size >= SizeClasses.MaxTinySize;
                    if (!heap.FindObject(x, out ObjectInfo info) || info.Base != x || info.Size != SizeClasses.ClassToSize[c]
                        || info.SpanClass != SpanClass.Make(c, tinyFree))
                    {
                        return false.Label($"{which}: Alloc({size}) -> span class {info.SpanClass}, slot {info.Size}; expected class {c} (size {SizeClasses.ClassToSize[c]})");
                    }
                }
                p.Release();
                heap.Verify();
            }
            return true.ToProperty();
        });
        PropertyRunner.Check(nameof(SizeToClass_AllocUsesSmallestClassThatFits), 100, property);
    }
}
