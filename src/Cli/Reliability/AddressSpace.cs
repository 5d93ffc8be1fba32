// AddressSpace: what the kernel has mapped in this process, read from /proc/self/maps and
// /proc/self/status (VmSize), for the out-of-memory probe and its tests (issue #20: "nothing is
// left mapped after Dispose"; the address-space bound). A snapshot is a sorted list of disjoint
// address intervals (adjacent VMAs merged, permissions ignored: a heap commits inside its own
// reservations, which splits and joins VMAs without changing what is mapped). Leaked computes
// the bytes that appeared while a heap lived and are still mapped after its Dispose.
using System.Globalization;

namespace GoAlloc.Cli.Reliability;

/// <summary>One mapped interval [Start, End).</summary>
public readonly record struct MappedRange(long Start, long End)
{
    public long Length => End - Start;

    public override string ToString() => $"{Start:x}-{End:x} ({Length} bytes)";
}

/// <summary>A snapshot of the process's mappings: disjoint intervals in address order.</summary>
public sealed class AddressSpace
{
    private AddressSpace(IReadOnlyList<MappedRange> ranges) => Ranges = ranges;

    public IReadOnlyList<MappedRange> Ranges { get; }

    /// <summary>Total bytes of the anonymous mappings.</summary>
    public long TotalBytes => Ranges.Sum(r => r.Length);

    /// <summary>
    /// Reads /proc/self/maps now: the unnamed anonymous mappings only (what mmap(MAP_ANONYMOUS)
    /// gives the heaps). Named ones are never a heap's: files, [heap] (malloc's brk), [stack], and
    /// the runtime's W^X double mappings of its code heap (/memfd:doublemapper).
    /// </summary>
    public static AddressSpace Read()
    {
        var raw = new List<MappedRange>();
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            // "start-end perms offset dev inode   [path]": a sixth field is a name.
            if (line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries) is { Length: 6 } f && f[5].Trim().Length > 0)
                continue;
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash <= 0 || space <= dash)
                continue;
            long start = long.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            // [vsyscall] lies above the signed 64-bit range; it is the kernel's, never a heap's.
            if (!long.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end) ||
                end <= start)
                continue;
            raw.Add(new MappedRange(start, end));
        }
        return new AddressSpace(Normalize(raw));
    }

    /// <summary>VmSize of /proc/self/status in bytes: the total the kernel holds against RLIMIT_AS.</summary>
    public static long VmSizeBytes() => StatusField("VmSize:");

    /// <summary>VmPeak of /proc/self/status in bytes.</summary>
    public static long VmPeakBytes() => StatusField("VmPeak:");

    private static long StatusField(string name)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal))
                continue;
            // "VmSize:	 3285456 kB"
            string[] f = line[name.Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return long.Parse(f[0], CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/self/status has no {name} line");
    }

    /// <summary>The bytes of [start, end) this snapshot covers.</summary>
    public long MappedBytesIn(long start, long end)
    {
        long covered = 0;
        foreach (MappedRange r in Ranges)
        {
            long lo = Math.Max(r.Start, start), hi = Math.Min(r.End, end);
            if (hi > lo)
                covered += hi - lo;
        }
        return covered;
    }

    /// <summary>Intervals of this snapshot not covered by <paramref name="other"/>.</summary>
    public IReadOnlyList<MappedRange> Minus(AddressSpace other) => Subtract(Ranges, other.Ranges);

    /// <summary>
    /// What a heap left behind: the intervals mapped during its life (<paramref name="during"/>)
    /// that were not mapped before it was created (<paramref name="before"/>) and are still mapped
    /// after its Dispose (<paramref name="after"/>). Anything else the process mapped meanwhile and
    /// kept (a JIT code heap, a thread stack) is counted too: callers run warm and single-threaded.
    /// </summary>
    public static IReadOnlyList<MappedRange> Leaked(AddressSpace before, AddressSpace during, AddressSpace after) =>
        Intersect(Subtract(during.Ranges, before.Ranges), after.Ranges);

    private static List<MappedRange> Normalize(List<MappedRange> raw)
    {
        raw.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<MappedRange>();
        foreach (MappedRange r in raw)
        {
            if (merged.Count > 0 && merged[^1].End >= r.Start)
                merged[^1] = merged[^1] with { End = Math.Max(merged[^1].End, r.End) };
            else
                merged.Add(r);
        }
        return merged;
    }

    private static List<MappedRange> Subtract(IReadOnlyList<MappedRange> a, IReadOnlyList<MappedRange> b)
    {
        var result = new List<MappedRange>();
        foreach (MappedRange r in a)
        {
            long cur = r.Start;
            foreach (MappedRange x in b)
            {
                if (x.End <= cur || x.Start >= r.End)
                    continue;
                if (x.Start > cur)
                    result.Add(new MappedRange(cur, x.Start));
                cur = Math.Max(cur, x.End);
                if (cur >= r.End)
                    break;
            }
            if (cur < r.End)
                result.Add(new MappedRange(cur, r.End));
        }
        return result;
    }

    private static List<MappedRange> Intersect(IReadOnlyList<MappedRange> a, IReadOnlyList<MappedRange> b)
    {
        var result = new List<MappedRange>();
        foreach (MappedRange r in a)
        {
            foreach (MappedRange x in b)
            {
                long lo = Math.Max(r.Start, x.Start), hi = Math.Min(r.End, x.End);
                if (hi > lo)
                    result.Add(new MappedRange(lo, hi));
            }
        }
        return result;
    }
}
