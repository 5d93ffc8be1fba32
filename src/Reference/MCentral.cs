// MCentral: the central free span sets of one span class (mirrors runtime/mcentral.go). It does
// not hold free objects: the spans do. Four FIFO span sets: partial (has free slots) and full,
// each swept and unswept; which of the two physical sets is "swept" flips every cycle
// (index sweepgen/2 % 2), so FinishMark makes every swept span unswept without touching it.
// cacheSpan order (spec placement policy): partial swept; partial unswept (sweeping it);
// full unswept (sweeping it, keeping it if it freed something); grow a fresh span.
// Differs from Go: under the one heap lock a popped span at sg-2 is simply swept (no
// activeSweep registration, no CAS); the four sets are plain queues.
// Invariants: INV-SWEEP-2 (a span is in one place), INV-CACHE-1.
namespace GoAlloc.Reference;

internal sealed class MCentral(MHeap heap, int spanClass)
{
    public readonly int SpanClass = spanClass;
    private readonly SpanSet[] _partial = [new(), new()];
    private readonly SpanSet[] _full = [new(), new()];

    public SpanSet PartialSwept(uint sg) => _partial[sg / 2 % 2];
    public SpanSet PartialUnswept(uint sg) => _partial[1 - sg / 2 % 2];
    public SpanSet FullSwept(uint sg) => _full[sg / 2 % 2];
    public SpanSet FullUnswept(uint sg) => _full[1 - sg / 2 % 2];

    /// <summary>All four sets, for Verify.</summary>
    public IEnumerable<(SpanSet Set, bool Full, bool Swept)> Sets(uint sg)
    {
        yield return (PartialSwept(sg), false, true);
        yield return (PartialUnswept(sg), false, false);
        yield return (FullSwept(sg), true, true);
        yield return (FullUnswept(sg), true, false);
    }

    /// <summary>cacheSpan: a span with at least one free object for P p's mcache. Caller holds the heap lock.</summary>
    public MSpan CacheSpan(P p)
    {
        int sizeClass = GoAlloc.SpanClass.SizeClass(SpanClass);
        long spanBytes = SizeClasses.ClassToAllocNPages[sizeClass] * MallocConstants.PageSize;
        // Pay the sweep debt for the span we are about to take.
        heap.DeductSweepCredit(spanBytes, 0);

        uint sg = heap.SweepGen;
        // 1. A swept span with free space.
        MSpan? s = PartialSwept(sg).Pop();
        if (s != null)
        {
            // Fail fast (INV-SWEEP-2): a swept set only holds swept spans.
            if (s.SweepGen != sg)
                throw new HeapInvariantException("INV-SWEEP-2", $"mcentral.cacheSpan: {s} in a swept set is not swept (heap sweepgen {sg})");
            if (heap.Tracing)
                heap.Trace(HeapTraceKind.CacheSpanPopSwept, s, s.SweepGen, s.SweepGen, "partialSwept");
            return HaveSpan(s);
        }

        // 2-3. Unswept spans, swept here, within a budget of tries (stale entries count too).
        int budget = MallocConstants.CacheSpanSweepBudget;
        for (; budget >= 0; budget--)
        {
            s = PartialUnswept(sg).Pop();
            if (s == null)
                break;
            if (IsUnswept(s, sg))
            {
                if (heap.Tracing)
                    heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, sg - 2, sg - 1, "partialUnswept");
                heap.SweepUnswept(s, preserve: true);
                return HaveSpan(s);
            }
            // A stale entry: FindObject swept the span and put it where it belongs.
        }
        for (; budget >= 0; budget--)
        {
            s = FullUnswept(sg).Pop();
            if (s == null)
                break;
            if (!IsUnswept(s, sg))
                continue;
            if (heap.Tracing)
                heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, sg - 2, sg - 1, "fullUnswept");
            heap.SweepUnswept(s, preserve: true);
            int freeIndex = s.NextFreeIndex();
            if (freeIndex != s.NElems)
            {
                s.FreeIndex = freeIndex;
                return HaveSpan(s);
            }
            // Sweeping freed nothing: it is full and swept.
            if (heap.Tracing)
                heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, s.SweepGen, s.SweepGen, "nothing freed, pushed to fullSwept");
            FullSwept(sg).Push(s);
        }

        // 4. A fresh span from the heap.
        s = Grow(p);
        if (heap.Tracing)
            heap.Trace(HeapTraceKind.CacheSpanGrow, s, s.SweepGen, s.SweepGen);
        return HaveSpan(s);
    }

    /// <summary>A live unswept entry: an in-use span still at sg-2 (not a stale entry for a swept or freed span).</summary>
    private static bool IsUnswept(MSpan s, uint sg) => s.State == SpanState.InUse && s.SweepGen == sg - 2;

    private static MSpan HaveSpan(MSpan s)
    {
        if (s.AllocCount >= s.NElems || s.FreeIndex == s.NElems)
            throw new HeapInvariantException("INV-SPAN-3", $"mcentral.cacheSpan: span has no free objects: {s}");
        return s;
    }

    /// <summary>
    /// uncacheSpan: takes a span back from an mcache. A stale span (cached before this sweep
    /// cycle, sg+1) is swept now; otherwise it goes to the partial or full swept set. Caller holds
    /// the heap lock.
    /// </summary>
    public void UncacheSpan(MSpan s)
    {
        if (s.AllocCount == 0)
            throw new HeapInvariantException("INV-SPAN-3", $"uncaching span but allocCount == 0: {s}");
        uint sg = heap.SweepGen;
        uint g = s.SweepGen;
        if (g == sg + 1)
        {
            // Not cached any more, but still to be swept; sweep sets sweepgen = sg.
            s.SweepGen = sg - 1;
            if (heap.Tracing)
                heap.Trace(HeapTraceKind.UncacheStaleSweep, s, g, sg - 1);
            heap.SweepSpan(s, preserve: false);
            return;
        }
        s.SweepGen = sg;
        bool partial = s.AllocCount < s.NElems;
        if (heap.Tracing)
            heap.Trace(HeapTraceKind.UncacheSpan, s, g, sg, partial ? "partialSwept" : "fullSwept");
        (partial ? PartialSwept(sg) : FullSwept(sg)).Push(s);
    }

    /// <summary>grow: a fresh span of this class from the heap, zeroed if its pages were dirty.</summary>
    private MSpan Grow(P p)
    {
        int sizeClass = GoAlloc.SpanClass.SizeClass(SpanClass);
        return heap.Alloc(SizeClasses.ClassToAllocNPages[sizeClass], SpanClass, needzero: true, p);
    }
}
