// ProcMaps: reads /proc/self/maps so tests can see what the kernel really has mapped. Each line is
// one VMA: "start-end perms offset dev inode [path]", addresses in hex, perms like "rw-p" / "---p".
// The kernel merges adjacent anonymous VMAs with equal flags, so tests reason about the mappings
// overlapping a range (and their perms), not about how many VMAs a call created - except where the
// range is isolated (far-away hint) and nothing else can be adjacent.
using System.Globalization;

namespace GoAlloc.Tests.Helpers;

/// <summary>One line of /proc/self/maps: [Start, End) with its permission string.</summary>
public readonly record struct Mapping(long Start, long End, string Perms, string Path)
{
    public long Length => End - Start;
    public override string ToString() => $"{Start:x}-{End:x} {Perms} {Path}";
}

public static class ProcMaps
{
    /// <summary>Every mapping of the process, in address order (as the kernel lists them).</summary>
    public static List<Mapping> Read()
    {
        var result = new List<Mapping>();
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            if (line.Length == 0)
                continue;
            // "start-end perms offset dev inode   path"; the path may contain spaces.
            string[] f = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            int dash = f[0].IndexOf('-');
            long start = long.Parse(f[0].AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long end = long.Parse(f[0].AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            string path = f.Length > 5 ? f[5].Trim() : "";
            result.Add(new Mapping(start, end, f[1], path));
        }
        return result;
    }

    /// <summary>The mappings that overlap [v, v+n), in address order.</summary>
    public static List<Mapping> Overlapping(nint v, nint n)
    {
        long lo = v, hi = v + n;
        return Read().Where(m => m.Start < hi && m.End > lo).ToList();
    }

    /// <summary>The mapping containing addr, or null if addr is not mapped.</summary>
    public static Mapping? Containing(nint addr)
    {
        foreach (Mapping m in Read())
        {
            if (m.Start <= addr && addr < m.End)
                return m;
        }
        return null;
    }

    /// <summary>True when every byte of [v, v+n) is mapped (by one or more adjacent mappings).</summary>
    public static bool IsFullyMapped(nint v, nint n) => UnmappedBytes(v, n) == 0;

    /// <summary>Bytes of [v, v+n) that no mapping covers.</summary>
    public static long UnmappedBytes(nint v, nint n)
    {
        long covered = 0;
        foreach (Mapping m in Overlapping(v, n))
            covered += Math.Min(m.End, (long)v + n) - Math.Max(m.Start, v);
        return n - covered;
    }

    /// <summary>The distinct permission strings over [v, v+n); "unmapped" is listed for holes.</summary>
    public static string[] PermsOver(nint v, nint n)
    {
        var perms = Overlapping(v, n).Select(m => m.Perms).Distinct().ToList();
        if (UnmappedBytes(v, n) != 0)
            perms.Add("unmapped");
        return perms.ToArray();
    }

    /// <summary>The mappings around [v, v+n) for assertion messages.</summary>
    public static string Describe(nint v, nint n)
    {
        var ms = Overlapping(v, n);
        string list = ms.Count == 0 ? "(none)" : string.Join("; ", ms);
        return $"maps over [{v:x}, {v + n:x}): {list}";
    }
}
