// SpanOccupancy: how full the heap's in-use spans are, by size class, read through IHeap alone
// (the picture of `alloc replay --plot`; the role of a walk over mheap_.allspans in Go's
// runtime/mheap.go, done here from outside with FindObject, so neither allocator changes).
// The walk goes page by page over the heap's arenas (ArenaBase up, Arenas x 64 MiB: arenas grow
// upward from Go's first hint, contiguously). FindObject at a page that no earlier span covers
// answers for the span starting there (an in-use span's first page always resolves to its object 0);
// its span class gives its length (ClassToAllocNPages, or the object size of a large span) and
// its object count (NElems = pages x 8 KiB / size); each slot is asked whether it is allocated.
// Free pages resolve to nothing. The pages found are checked against HeapStats.PagesInUse
// (Complete), so a walk that missed spans says so instead of drawing a partial picture.
// FindObject sweeps a span it finds unswept (ensureSwept); after a replay every span is swept
// (each cycle ends with FinishSweep, later spans are allocated swept), so the walk changes nothing.
namespace GoAlloc.Cli;

/// <summary>One in-use small-object span: its size class, noscan flag, allocated objects and capacity (NElems).</summary>
public readonly record struct SpanFill(int SizeClass, bool Noscan, int Allocated, int NElems)
{
    /// <summary>Allocated / NElems, 0..1.</summary>
    public double Ratio => NElems == 0 ? 0 : (double)Allocated / NElems;
}

public sealed class SpanOccupancy
{
    /// <summary>Fill-ratio columns of Histogram: ten of 10% (0-10% ... 90-<100%) and one for full spans.</summary>
    public const int Bins = 11;

    /// <summary>The small-object spans in address order.</summary>
    public required IReadOnlyList<SpanFill> Spans { get; init; }
    /// <summary>Spans of large objects (one object each, always full).</summary>
    public required int LargeSpans { get; init; }
    /// <summary>Pages of every in-use span the walk found (small and large).</summary>
    public required long PagesFound { get; init; }
    /// <summary>HeapStats.PagesInUse when the walk ran.</summary>
    public required long PagesInUse { get; init; }

    /// <summary>The walk found every in-use page the heap counts.</summary>
    public bool Complete => PagesFound == PagesInUse;

    /// <summary>Walks the heap's arenas (see the file header). Needs no P; call it with no allocation running.</summary>
    public static SpanOccupancy Read(IHeap heap)
    {
        HeapStats stats = heap.ReadStats();
        var spans = new List<SpanFill>();
        int large = 0;
        long found = 0;
        nint arenaBase = heap.ArenaBase;
        long pages = arenaBase == 0 ? 0 : stats.Arenas * MallocConstants.PagesPerArena;
        for (long page = 0; page < pages;)
        {
            nint start = arenaBase + (nint)(page * MallocConstants.PageSize);
            if (!heap.FindObject(start, out ObjectInfo first) || first.Base != start)
            {
                // A free page (or, were the walk ever out of step, the middle of a span: not counted,
                // and then Complete is false).
                page++;
                continue;
            }
            int sizeClass = SpanClass.SizeClass(first.SpanClass);
            long npages;
            if (sizeClass == 0)
            {
                npages = Math.Max(1, first.Size / MallocConstants.PageSize);
                large++;
            }
            else
            {
                npages = SizeClasses.ClassToAllocNPages[sizeClass];
                int nelems = (int)(npages * MallocConstants.PageSize / first.Size);
                int allocated = 0;
                for (int i = 0; i < nelems; i++)
                {
                    if (heap.FindObject(start + (nint)(i * first.Size), out ObjectInfo o) && o.Allocated)
                        allocated++;
                }
                spans.Add(new SpanFill(sizeClass, SpanClass.NoScan(first.SpanClass), allocated, nelems));
            }
            found += npages;
            page += npages;
        }
        return new SpanOccupancy { Spans = spans, LargeSpans = large, PagesFound = found, PagesInUse = stats.PagesInUse };
    }

    /// <summary>The fill-ratio column of a span: 10% steps, and column 10 only for a full span.</summary>
    public static int Bin(SpanFill span) =>
        span.Allocated >= span.NElems ? Bins - 1 : Math.Min(Bins - 2, (int)(span.Ratio * 10));

    /// <summary>The size classes that have small spans, smallest first.</summary>
    public IReadOnlyList<int> SizeClassesPresent() => [.. Spans.Select(s => s.SizeClass).Distinct().Order()];

    /// <summary>Spans per (size class row of SizeClassesPresent, fill-ratio column of Bin); scan and noscan spans together.</summary>
    public int[,] Histogram()
    {
        IReadOnlyList<int> classes = SizeClassesPresent();
        var row = new Dictionary<int, int>();
        for (int i = 0; i < classes.Count; i++)
            row[classes[i]] = i;
        var counts = new int[classes.Count, Bins];
        foreach (SpanFill s in Spans)
            counts[row[s.SizeClass], Bin(s)]++;
        return counts;
    }

    /// <summary>Same spans in the same order with the same fill (the equivalence contract makes the two allocators' walks equal).</summary>
    public bool SameAs(SpanOccupancy other) =>
        LargeSpans == other.LargeSpans && PagesFound == other.PagesFound && Spans.SequenceEqual(other.Spans);
}
