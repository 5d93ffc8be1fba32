// OomWorkload: the allocation sequences the out-of-memory probe runs until the heap refuses (issue
// #20, item 5). Small: every size class from 8 bytes to 32 KiB, scan and noscan, needzero on and
// off (refills: a new span per class as each fills, the heap growing a 4 MiB chunk or an arena
// when the pages run out). Tiny: noscan requests of 1..15 bytes (the tiny allocator's 16-byte
// blocks). Large: 33 KiB to 100 MiB objects (each its own span; the largest needs two fresh
// arenas at once). Mixed: a seeded random mix of the three. Deterministic for a given seed.
namespace GoAlloc.Cli.Reliability;

public enum OomWorkloadKind
{
    Small,
    Tiny,
    Large,
    Mixed,
}

/// <summary>One allocation request.</summary>
public readonly record struct OomRequest(long Size, bool NoScan, bool NeedZero);

/// <summary>An endless, deterministic sequence of requests of one kind.</summary>
public sealed class OomWorkload
{
    private static readonly long[] s_smallSizes = [8, 16, 24, 48, 100, 128, 256, 512, 1000, 1024, 2048, 3072, 4096, 8192, 10240, 16384, 27264, 32768];
    private static readonly long[] s_largeSizes = [33 << 10, 256 << 10, (1 << 20) + 1, 4 << 20, 9 << 20, 31 << 20, 100 << 20];

    private readonly OomWorkloadKind _kind;
    private ulong _state;
    private long _n;

    public OomWorkload(OomWorkloadKind kind, ulong seed)
    {
        _kind = kind;
        _state = seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
    }

    public OomRequest Next()
    {
        long i = _n++;
        switch (_kind)
        {
            case OomWorkloadKind.Small:
                return new OomRequest(s_smallSizes[i % s_smallSizes.Length], NoScan: i / s_smallSizes.Length % 2 == 1,
                    NeedZero: i / (2 * s_smallSizes.Length) % 2 == 0);
            case OomWorkloadKind.Tiny:
                return new OomRequest(1 + i % 15, NoScan: true, NeedZero: i % 3 != 0);
            case OomWorkloadKind.Large:
                return new OomRequest(s_largeSizes[i % s_largeSizes.Length], NoScan: i % 2 == 0, NeedZero: i % 3 != 2);
            default:
                ulong r = NextRandom();
                bool noscan = (r & 1) != 0, needzero = (r & 2) != 0;
                long size = ((r >> 2) % 100) switch
                {
                    < 30 => 1 + (long)((r >> 16) % 15),                       // tiny when noscan
                    < 92 => 1 + (long)((r >> 16) % (ulong)SizeClasses.MaxSmallSize), // any size class
                    < 99 => SizeClasses.MaxSmallSize + 1 + (long)((r >> 16) % (8UL << 20)),
                    _ => (40L << 20) + (long)((r >> 16) % (60UL << 20)),         // up to 100 MiB
                };
                return new OomRequest(size, noscan, needzero);
        }
    }

    /// <summary>
    /// The bytes of pages a request takes from the heap when it needs a fresh span: its size class's
    /// span (tiny requests: the 16-byte class) or, for a large object, its size in whole pages.
    /// </summary>
    public static long SpanBytes(long size)
    {
        if (size > SizeClasses.MaxSmallSize)
            return (size + MallocConstants.PageMask) & ~MallocConstants.PageMask;
        ReadOnlySpan<ushort> sizes = SizeClasses.ClassToSize;
        for (int c = 1; c < sizes.Length; c++)
        {
            if (sizes[c] >= size)
                return SizeClasses.ClassToAllocNPages[c] * MallocConstants.PageSize;
        }
        throw new ArgumentOutOfRangeException(nameof(size));
    }

    /// <summary>
    /// What one object of the request counts in heap_alloc: its size class's size, its whole pages
    /// (large), or its tiny block (a noscan request under 16 bytes; the block may hold others too).
    /// </summary>
    public static long Footprint(OomRequest r)
    {
        if (r.Size > SizeClasses.MaxSmallSize)
            return (r.Size + MallocConstants.PageMask) & ~MallocConstants.PageMask;
        if (r.NoScan && r.Size < SizeClasses.MaxTinySize)
            return SizeClasses.MaxTinySize;
        ReadOnlySpan<ushort> sizes = SizeClasses.ClassToSize;
        int c = 1;
        while (sizes[c] < r.Size)
            c++;
        return sizes[c];
    }

    private ulong NextRandom()
    {
        // xorshift64*
        _state ^= _state >> 12;
        _state ^= _state << 25;
        _state ^= _state >> 27;
        return _state * 0x2545F4914F6CDD1DUL;
    }
}
