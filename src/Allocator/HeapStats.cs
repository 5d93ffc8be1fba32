// HeapStats: a snapshot of memstats (mirrors runtime/mstats.go's MemStats and the heap-internal
// counters that drive sweeping). Every field is part of the equivalence contract: Reference and
// Optimized must report equal snapshots for the same single-threaded operation sequence.
// Identities (spec INV-STATS-*): HeapIdle = HeapSys - HeapInuse; HeapObjects = Mallocs - Frees;
// HeapAlloc = bytes of live objects; BySize[c].Mallocs - BySize[c].Frees = live objects of class c.
using System.Text;

namespace GoAlloc;

/// <summary>Per size class allocation counts (MemStats.BySize).</summary>
public readonly record struct SizeClassStats(int Size, long Mallocs, long Frees);

/// <summary>A snapshot of memstats (runtime.MemStats plus the counters that drive sweeping). Reference and Optimized report equal snapshots for the same single-threaded call sequence.</summary>
public sealed class HeapStats
{
    /// <summary>Bytes of arena address space mapped for the heap (64 MiB per arena).</summary>
    public long HeapSys { get; init; }
    /// <summary>Bytes in in-use spans.</summary>
    public long HeapInuse { get; init; }
    /// <summary>HeapSys - HeapInuse.</summary>
    public long HeapIdle => HeapSys - HeapInuse;
    /// <summary>Bytes of free pages returned to the OS (scavenged, never reused since).</summary>
    public long HeapReleased { get; init; }
    /// <summary>Bytes of allocated heap objects (small objects at their class size, large at page granularity).</summary>
    public long HeapAlloc { get; init; }
    /// <summary>Allocated objects: Mallocs - Frees.</summary>
    public long HeapObjects => Mallocs - Frees;
    /// <summary>Objects allocated (small slots, tiny blocks counted once per block, and large objects).</summary>
    public long Mallocs { get; init; }
    /// <summary>Objects freed by sweeping.</summary>
    public long Frees { get; init; }
    /// <summary>Tiny allocations that were combined into an existing 16-byte block.</summary>
    public long TinyAllocs { get; init; }
    /// <summary>Large objects (over 32 KiB, a span each) allocated (Go's nlargealloc).</summary>
    public long LargeAllocs { get; init; }
    /// <summary>Large objects freed by sweeping (Go's nlargefree).</summary>
    public long LargeFrees { get; init; }
    /// <summary>Per size class counts; index = size class (0 unused: large objects are counted above).</summary>
    public SizeClassStats[] BySize { get; init; } = [];

    /// <summary>Completed GC cycles (FinishMark calls).</summary>
    public long NumGC { get; init; }
    /// <summary>mheap.sweepgen.</summary>
    public long SweepGen { get; init; }
    /// <summary>Pages in in-use spans (mheap.pagesInUse).</summary>
    public long PagesInUse { get; init; }
    /// <summary>Pages swept in this cycle (mheap.pagesSwept).</summary>
    public long PagesSwept { get; init; }
    /// <summary>Go's heap_live: marked bytes at the last FinishMark plus bytes of spans cached since.</summary>
    public long HeapLive { get; init; }
    /// <summary>Bytes marked in the last completed mark phase.</summary>
    public long HeapMarked { get; init; }
    /// <summary>Mark() calls that did not hit an allocated object.</summary>
    public long BadMarks { get; init; }
    /// <summary>Allocations handed to the heap-profile sampler.</summary>
    public long ProfileSamples { get; init; }
    /// <summary>Number of arenas mapped.</summary>
    public long Arenas { get; init; }

    /// <summary>Lists every field that differs from <paramref name="other"/> as "Name: this != other".</summary>
    public List<string> Diff(HeapStats other)
    {
        var d = new List<string>();
        void Cmp(string name, long a, long b)
        {
            if (a != b)
                d.Add($"{name}: {a} != {b}");
        }
        Cmp(nameof(HeapSys), HeapSys, other.HeapSys);
        Cmp(nameof(HeapInuse), HeapInuse, other.HeapInuse);
        Cmp(nameof(HeapReleased), HeapReleased, other.HeapReleased);
        Cmp(nameof(HeapAlloc), HeapAlloc, other.HeapAlloc);
        Cmp(nameof(Mallocs), Mallocs, other.Mallocs);
        Cmp(nameof(Frees), Frees, other.Frees);
        Cmp(nameof(TinyAllocs), TinyAllocs, other.TinyAllocs);
        Cmp(nameof(LargeAllocs), LargeAllocs, other.LargeAllocs);
        Cmp(nameof(LargeFrees), LargeFrees, other.LargeFrees);
        Cmp(nameof(NumGC), NumGC, other.NumGC);
        Cmp(nameof(SweepGen), SweepGen, other.SweepGen);
        Cmp(nameof(PagesInUse), PagesInUse, other.PagesInUse);
        Cmp(nameof(PagesSwept), PagesSwept, other.PagesSwept);
        Cmp(nameof(HeapLive), HeapLive, other.HeapLive);
        Cmp(nameof(HeapMarked), HeapMarked, other.HeapMarked);
        Cmp(nameof(BadMarks), BadMarks, other.BadMarks);
        Cmp(nameof(ProfileSamples), ProfileSamples, other.ProfileSamples);
        Cmp(nameof(Arenas), Arenas, other.Arenas);
        Cmp("BySize.Length", BySize.Length, other.BySize.Length);
        int n = Math.Max(BySize.Length, other.BySize.Length);
        for (int c = 0; c < n; c++)
        {
            SizeClassStats a = c < BySize.Length ? BySize[c] : default;
            SizeClassStats b = c < other.BySize.Length ? other.BySize[c] : default;
            Cmp($"BySize[{c}].Size", a.Size, b.Size);
            Cmp($"BySize[{c}].Mallocs", a.Mallocs, b.Mallocs);
            Cmp($"BySize[{c}].Frees", a.Frees, b.Frees);
        }
        return d;
    }

    /// <summary>The main counters on one line (heap_sys ... heap_live), for logs and test failures.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"heap_sys={HeapSys} heap_inuse={HeapInuse} heap_idle={HeapIdle} heap_released={HeapReleased} ");
        sb.Append($"heap_alloc={HeapAlloc} objects={HeapObjects} mallocs={Mallocs} frees={Frees} tiny={TinyAllocs} ");
        sb.Append($"large={LargeAllocs}/{LargeFrees} gc={NumGC} sweepgen={SweepGen} heap_live={HeapLive}");
        return sb.ToString();
    }
}
