// SizeClassGenerator: an independent re-derivation of Go 1.16's size-class tables, following the
// algorithm of runtime/mksizeclasses.go (go1.16). The allocator's SizeClasses are copied numbers;
// this derives the same numbers from the rules, so a typo in either shows up as a mismatch.
//
// The rules, in order:
//  1. Candidate sizes step by an alignment that grows at each power of two: 8 bytes, then 16 from
//     32 bytes (Go 1.15 and earlier switched to 16 already at 16 bytes, which skipped 24 and left
//     67 classes), size/8 from 128 bytes, 256 bytes from 2048.
//  2. Each candidate's span is the fewest 8 KiB pages whose leftover tail is at most 1/8 of the span.
//  3. A candidate with the same page count and objects per span as the previous class replaces it
//     (the larger size costs nothing).
//  4. Every size is then raised to the largest multiple of 128 that still fits the same number of
//     objects in the span.
//  5. divMagic: power-of-two sizes get a mask; every size gets a pre-shift (its factor of two) and
//     the smallest post-shift k whose multiplier ceil(2^k / d) divides exactly over the span.
//  6. size_to_class8 / size_to_class128 hold, per 8- / 128-byte step, the smallest class that fits.
namespace GoAlloc.Tests.Helpers;

public sealed record GeneratedSizeClasses(
    int[] ClassToSize,
    int[] ClassToAllocNPages,
    DivMagic[] ClassToDivMagic,
    int[] SizeToClass8,
    int[] SizeToClass128,
    IReadOnlyList<ClassRow> Table);

public static class SizeClassGenerator
{
    private const int MaxSmallSize = 32 << 10;
    private const int SmallSizeDiv = 8;
    private const int SmallSizeMax = 1024;
    private const int LargeSizeDiv = 128;
    private const int PageShift = 13;
    private const int PageSize = 1 << PageShift;

    /// <summary>Go 1.16 starts 16-byte alignment at 32 bytes; Go 1.15 started it at 16.</summary>
    public const int Go116Align16From = 32;
    public const int Go115Align16From = 16;

    private static bool IsPowerOfTwo(int x) => x != 0 && (x & (x - 1)) == 0;

    /// <summary>Runs every step of the generator. Class 0 is the "large object" placeholder (size 0, 0 pages).</summary>
    public static GeneratedSizeClasses Generate(int align16From = Go116Align16From)
    {
        List<(int Size, int NPages)> classes = ChooseClasses(align16From);
        int[] sizes = classes.Select(c => c.Size).ToArray();
        int[] npages = classes.Select(c => c.NPages).ToArray();
        DivMagic[] magic = classes.Select(c => DivMagicFor(c.Size, c.NPages)).ToArray();
        int[] small = LookupTable(sizes, SmallSizeMax / SmallSizeDiv + 1, i => i * SmallSizeDiv);
        int[] large = LookupTable(sizes, (MaxSmallSize - SmallSizeMax) / LargeSizeDiv + 1, i => SmallSizeMax + i * LargeSizeDiv);
        return new GeneratedSizeClasses(sizes, npages, magic, small, large, CommentTable(classes));
    }

    /// <summary>Steps 1-4: the (size, pages per span) list.</summary>
    private static List<(int Size, int NPages)> ChooseClasses(int align16From)
    {
        var classes = new List<(int Size, int NPages)> { (0, 0) };
        int align = 8;
        for (int size = align; size <= MaxSmallSize; size += align)
        {
            // Step 1: coarser steps as sizes grow, changed only at powers of two.
            if (IsPowerOfTwo(size))
            {
                if (size >= 2048)
                    align = 256;
                else if (size >= 128)
                    align = size / 8;
                else if (size >= align16From)
                    align = 16;
            }
            if (!IsPowerOfTwo(align))
                throw new InvalidOperationException($"alignment {align} at size {size} is not a power of two");

            // Step 2: grow the span a page at a time until the tail waste is within 1/8.
            int spanBytes = PageSize;
            while (spanBytes % size > spanBytes / 8)
                spanBytes += PageSize;
            int pages = spanBytes / PageSize;

            // Step 3: same pages and same object count as the previous class: widen that class instead.
            (int prevSize, int prevPages) = classes[^1];
            if (classes.Count > 1 && pages == prevPages && spanBytes / size == spanBytes / prevSize)
            {
                classes[^1] = (size, pages);
                continue;
            }
            classes.Add((size, pages));
        }

        // Step 4: use up the tail if the same object count still fits, keeping 128-byte granularity
        // so that size_to_class128 stays exact.
        for (int c = 1; c < classes.Count; c++)
        {
            (int size, int pages) = classes[c];
            int spanBytes = pages * PageSize;
            int widest = (spanBytes / (spanBytes / size)) & ~(LargeSizeDiv - 1);
            if (widest > size)
                classes[c] = (widest, pages);
        }
        return classes;
    }

    /// <summary>
    /// Step 5: the divMagic of a class. Offsets run over the whole span, 0..npages*PageSize inclusive.
    /// With the power of two in d shifted out first, the remaining odd divisor needs a small
    /// multiplier; the smallest exact k is chosen so that mul fits 16 bits and mul*max fits 32 bits.
    /// </summary>
    public static DivMagic DivMagicFor(int size, int npages)
    {
        if (size == 0)
            return default;
        long d = size;
        long max = (long)npages * PageSize;

        ushort baseMask = 0;
        if (IsPowerOfTwo(size))
        {
            // Power-of-two sizes can find an object's base by masking the span offset (16 bits).
            if (max >= 1 << 16)
                throw new InvalidOperationException($"size {size}: span of {max} bytes is too big for a 16-bit mask");
            baseMask = (ushort)((1 << 16) - size);
        }

        int shift = 0;
        while (d % 2 == 0)
        {
            shift++;
            d >>= 1;
            max >>= 1;
        }

        for (int k = 0; k < 64; k++)
        {
            long mul = ((1L << k) + d - 1) / d; // ceil(2^k / d)
            if (!ExactOver(mul, k, d, max))
                continue;
            if (mul >= 1 << 16)
                throw new InvalidOperationException($"size {size}: multiplier {mul} needs more than 16 bits");
            if (mul * max >= 1L << 32)
                throw new InvalidOperationException($"size {size}: {mul} * {max} overflows 32 bits");
            return new DivMagic((byte)shift, (byte)k, (ushort)mul, baseMask);
        }
        throw new InvalidOperationException($"size {size}: no exact multiplier");
    }

    /// <summary>True when (n * mul) &gt;&gt; k equals n / d for every n in 0..max.</summary>
    private static bool ExactOver(long mul, int k, long d, long max)
    {
        for (long n = 0; n <= max; n++)
        {
            if ((n * mul) >> k != n / d)
                return false;
        }
        return true;
    }

    /// <summary>Step 6: entry i = the smallest class whose size is at least sizeOf(i).</summary>
    private static int[] LookupTable(int[] sizes, int length, Func<int, int> sizeOf)
    {
        var table = new int[length];
        for (int i = 0; i < length; i++)
            table[i] = System.Array.FindIndex(sizes, s => s >= sizeOf(i));
        return table;
    }

    /// <summary>The comment block of sizeclasses.go; max waste = worst request (just above the previous class) plus the tail.</summary>
    private static List<ClassRow> CommentTable(List<(int Size, int NPages)> classes)
    {
        var rows = new List<ClassRow>();
        int prevSize = 0;
        for (int c = 1; c < classes.Count; c++)
        {
            (int size, int pages) = classes[c];
            int spanBytes = pages * PageSize;
            int objects = spanBytes / size;
            int tail = spanBytes - objects * size;
            double maxWaste = (double)((size - prevSize - 1) * objects + tail) / spanBytes;
            rows.Add(new ClassRow(c, size, spanBytes, objects, tail, (100 * maxWaste).ToString("F2", System.Globalization.CultureInfo.InvariantCulture)));
            prevSize = size;
        }
        return rows;
    }
}
