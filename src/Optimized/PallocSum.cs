// PallocSum: the packed summary of a region of pages (mirrors pallocSum in runtime/mpagealloc.go).
// One ulong holds three counts of free pages: start (free pages at the low end of the region), max
// (the longest free run anywhere in it) and end (free pages at the high end). Each count takes 21
// bits (LogMaxPackedValue), enough for 2^21 - 1 pages; the one value that does not fit, 2^21 =
// MaxPackedValue (a root-level summary of 16 GiB that is entirely free), is stored as bit 63 alone
// and then means start = max = end = 2^21. Layout: start in bits 0-20, max in 21-41, end in 42-62.
// A summary of 0 means "no free page": the radix tree skips such entries without looking deeper.
// Invariant: start <= max, end <= max, max <= 2^levelLogPages of the level holding the summary.
// Owns nothing; a value type copied freely. The summary arrays themselves live in PageAlloc.
// C# differs from Go: counts are ints (Go uses uint), and Merge takes a pointer plus a count where
// Go takes a slice.
using System.Diagnostics;

namespace GoAlloc.Optimized;

internal readonly struct PallocSum : IEquatable<PallocSum>
{
    /// <summary>logMaxPackedValue: logPallocChunkPages (9) + (summaryLevels - 1) * summaryLevelBits (3) = 21.</summary>
    public const int LogMaxPackedValue = 21;

    /// <summary>maxPackedValue: 2^21, the page count of one root-level (16 GiB) summary.</summary>
    public const int MaxPackedValue = 1 << LogMaxPackedValue;

    private const ulong FieldMask = MaxPackedValue - 1;
    private const ulong AllMaxBit = 1UL << 63;

    /// <summary>The packed word, exactly as Go stores it.</summary>
    public readonly ulong Value;

    public PallocSum(ulong value) => Value = value;

    /// <summary>freeChunkSum: the summary of one entirely free 512-page chunk.</summary>
    public static PallocSum FreeChunk => new(
        MallocConstants.PallocChunkPages
        | ((ulong)MallocConstants.PallocChunkPages << LogMaxPackedValue)
        | ((ulong)MallocConstants.PallocChunkPages << (2 * LogMaxPackedValue)));

    /// <summary>packPallocSum. Each count must lie in [0, MaxPackedValue]; only max = MaxPackedValue uses bit 63.</summary>
    public static PallocSum Pack(int start, int max, int end)
    {
        Debug.Assert((uint)start <= MaxPackedValue && (uint)max <= MaxPackedValue && (uint)end <= MaxPackedValue);
        Debug.Assert(start <= max && end <= max, "a summary's start and end cannot exceed its max");
        if (max == MaxPackedValue)
            return new PallocSum(AllMaxBit);
        return new PallocSum(
            ((ulong)start & FieldMask)
            | (((ulong)max & FieldMask) << LogMaxPackedValue)
            | (((ulong)end & FieldMask) << (2 * LogMaxPackedValue)));
    }

    public int Start => (Value & AllMaxBit) != 0 ? MaxPackedValue : (int)(Value & FieldMask);

    public int Max => (Value & AllMaxBit) != 0 ? MaxPackedValue : (int)((Value >> LogMaxPackedValue) & FieldMask);

    public int End => (Value & AllMaxBit) != 0 ? MaxPackedValue : (int)((Value >> (2 * LogMaxPackedValue)) & FieldMask);

    /// <summary>unpack: all three counts in one test of the special bit.</summary>
    public void Unpack(out int start, out int max, out int end)
    {
        if ((Value & AllMaxBit) != 0)
        {
            start = max = end = MaxPackedValue;
            return;
        }
        start = (int)(Value & FieldMask);
        max = (int)((Value >> LogMaxPackedValue) & FieldMask);
        end = (int)((Value >> (2 * LogMaxPackedValue)) & FieldMask);
    }

    /// <summary>
    /// mergeSummaries: the summary of <paramref name="count"/> adjacent regions, each of at most
    /// 2^<paramref name="logMaxPagesPerSum"/> pages, in address order. A running (start, max, end)
    /// absorbs each next region: the start grows only while everything so far is free, the max
    /// also considers the run across the seam, the end grows only when the next region is all free.
    /// </summary>
    public static unsafe PallocSum Merge(PallocSum* sums, int count, int logMaxPagesPerSum)
    {
        Debug.Assert(count >= 1);
        int pagesPerSum = 1 << logMaxPagesPerSum;
        sums[0].Unpack(out int start, out int max, out int end);
        for (int i = 1; i < count; i++)
        {
            sums[i].Unpack(out int si, out int mi, out int ei);
            // Everything to the left is free: this region's start extends the merged start.
            if (start == i * pagesPerSum)
                start += si;
            // The free run across the seam, and this region's own longest run.
            if (end + si > max)
                max = end + si;
            if (mi > max)
                max = mi;
            // A fully free region extends the merged end; otherwise its own end replaces it.
            end = ei == pagesPerSum ? end + pagesPerSum : ei;
        }
        return Pack(start, max, end);
    }

    /// <summary>Merge over a span (tests and validators).</summary>
    public static unsafe PallocSum Merge(ReadOnlySpan<PallocSum> sums, int logMaxPagesPerSum)
    {
        fixed (PallocSum* p = sums)
            return Merge(p, sums.Length, logMaxPagesPerSum);
    }

    public bool Equals(PallocSum other) => Value == other.Value;

    public override bool Equals(object? obj) => obj is PallocSum s && s.Value == Value;

    public override int GetHashCode() => Value.GetHashCode();

    public static bool operator ==(PallocSum a, PallocSum b) => a.Value == b.Value;

    public static bool operator !=(PallocSum a, PallocSum b) => a.Value != b.Value;

    public override string ToString()
    {
        Unpack(out int s, out int m, out int e);
        return $"(start {s}, max {m}, end {e})";
    }
}
