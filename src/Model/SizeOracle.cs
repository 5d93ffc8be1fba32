// SizeOracle: the one size-rounding rule every test and the heap model use (SPEC 1.1, 4.5, 4.7),
// written as a search of Go 1.16's class table (sizeclasses.go: class_to_size) and not with either
// allocator's lookup tables (size_to_class8/128), so it can check them. A small size takes the
// smallest class whose slot holds it; a large size takes whole 8 KiB pages.
namespace GoAlloc.Model;

public static class SizeOracle
{
    /// <summary>The smallest size class whose slot holds size bytes (1..MaxSmallSize; 0 takes class 1).</summary>
    public static int SizeClassOf(long size)
    {
        if (size < 0 || size > SizeClasses.MaxSmallSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, "not a small size");
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            if (SizeClasses.ClassToSize[c] >= size)
                return c;
        }
        throw new InvalidOperationException("unreachable: the last class is MaxSmallSize");
    }

    /// <summary>The pages a large allocation of size bytes spans.</summary>
    public static long Pages(long size) => (size + MallocConstants.PageMask) >> MallocConstants.PageShift;

    /// <summary>The bytes an allocation of size really occupies: its class's slot, or whole pages when large.</summary>
    public static long RoundedSize(long size) =>
        size > SizeClasses.MaxSmallSize ? Pages(size) * MallocConstants.PageSize : SizeClasses.ClassToSize[SizeClassOf(size)];
}
