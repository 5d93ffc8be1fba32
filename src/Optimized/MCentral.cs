// MCentral: the span sets of one span class on Go's lock-free spanSet (mirrors runtime/mcentral.go).
// The mcentral holds no free objects, the spans do. Four sets, partial/full x swept/unswept;
// swept = index sweepgen/2 % 2, so FinishMark turns every swept set into an unswept one.
// cacheSpan order (spec placement policy, same as the Reference): partial swept; partial unswept
// (sweeping it); full unswept (sweeping it, keeping it if something was freed); grow.
// Entries are MSpan* as nint; a popped entry may be stale (the record swept elsewhere, or freed
// and reused), so it is only used after winning the sweepgen CAS (INV-SWEEP-2).
namespace GoAlloc.Optimized;

internal sealed unsafe class MCentral : IDisposable
{
    private readonly MHeap _heap;
    public readonly int SpanClass;
    private readonly SpanSet[] _partial;
    private readonly SpanSet[] _full;

    public MCentral(MHeap heap, int spanClass, SpanSetBlockPool pool)
    {
        _heap = heap;
        SpanClass = spanClass;
        _partial = [new SpanSet(pool), new SpanSet(pool)];
        _full = [new SpanSet(pool), new SpanSet(pool)];
    }

    public SpanSet PartialSwept(uint sg) => _partial[sg / 2 % 2];
    public SpanSet PartialUnswept(uint sg) => _partial[1 - sg / 2 % 2];
    public SpanSet FullSwept(uint sg) => _full[sg / 2 % 2];
    public SpanSet FullUnswept(uint sg) => _full[1 - sg / 2 % 2];

    /// <summary>cacheSpan: a span with a free object for P pid's mcache, allocCache aligned to freeindex.</summary>
    public MSpan* CacheSpan(int pid)
    {
        int sizeClass = SpanClass >> 1;
        long spanBytes = SizeClasses.ClassToAllocNPages[sizeClass] * MallocConstants.PageSize;
        // Pay the sweep debt for the span we are about to take.
        _heap.DeductSweepCredit(spanBytes, 0);

        uint sg = _heap.SweepGen;
        // 1. A swept span with free space.
        MSpan* s = (MSpan*)PartialSwept(sg).Pop();
        if (s != null)
        {
            // Fail fast (INV-SWEEP-2): a swept set only holds swept spans (see the Reference).
            if (Volatile.Read(ref s->SweepGen) != sg)
                ThrowHelper.Corrupt("INV-SWEEP-2", $"mcentral.cacheSpan: {s->ToString()} in a swept set is not swept (heap sweepgen {sg})");
            if (_heap.Tracing)
                _heap.Trace(HeapTraceKind.CacheSpanPopSwept, s, s->SweepGen, s->SweepGen, "partialSwept");
            return HaveSpan(s);
        }
        // 1b. The same from the heap's overflow list, which stands for a swept set that could not grow.
        s = _heap.TakeSweptPartialFromOverflow(SpanClass, sg);
        if (s != null)
        {
            if (_heap.Tracing)
                _heap.Trace(HeapTraceKind.CacheSpanPopSwept, s, s->SweepGen, s->SweepGen, "overflow");
            return HaveSpan(s);
        }

        // 2-3. Unswept spans, swept here as a registered sweeper, within a budget of tries.
        if (_heap.ActiveSweepBegin())
        {
            try
            {
                int budget = MallocConstants.CacheSpanSweepBudget;
                for (; budget >= 0; budget--)
                {
                    s = (MSpan*)PartialUnswept(sg).Pop();
                    if (s == null)
                        break;
                    if (MHeap.TryAcquire(s, sg))
                    {
                        if (_heap.Tracing)
                            _heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, sg - 2, sg - 1, "partialUnswept");
                        _heap.SweepSpan(s, preserve: true);
                        return HaveSpan(s);
                    }
                    // Lost ownership: whoever swept it also placed it.
                }
                for (; budget >= 0; budget--)
                {
                    s = (MSpan*)FullUnswept(sg).Pop();
                    if (s == null)
                        break;
                    if (MHeap.TryAcquire(s, sg))
                    {
                        if (_heap.Tracing)
                            _heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, sg - 2, sg - 1, "fullUnswept");
                        _heap.SweepSpan(s, preserve: true);
                        int freeIndex = s->NextFreeIndex();
                        if (freeIndex != s->NElems)
                        {
                            s->FreeIndex = freeIndex;
                            return HaveSpan(s);
                        }
                        // Sweeping freed nothing: it is full and swept.
                        if (_heap.Tracing)
                            _heap.Trace(HeapTraceKind.CacheSpanSweepUnswept, s, s->SweepGen, s->SweepGen, "nothing freed, pushed to fullSwept");
                        _heap.PushSwept(this, s, sg);
                    }
                }
            }
            finally
            {
                _heap.ActiveSweepEnd();
            }
        }

        // 4. A fresh span from the heap.
        s = Grow(pid);
        if (_heap.Tracing)
            _heap.Trace(HeapTraceKind.CacheSpanGrow, s, s->SweepGen, s->SweepGen);
        return HaveSpan(s);
    }

    private static MSpan* HaveSpan(MSpan* s)
    {
        if (s->AllocCount >= s->NElems || s->FreeIndex == s->NElems)
            ThrowHelper.Corrupt("INV-SPAN-3", $"mcentral.cacheSpan: span has no free objects: {s->ToString()}");
        // Align allocCache with freeindex: load its 64-bit group, shift freeindex's bit to bit 0.
        int freeByteBase = s->FreeIndex & ~63;
        s->RefillAllocCache(freeByteBase / 8);
        s->AllocCache >>= s->FreeIndex % 64;
        return s;
    }

    /// <summary>uncacheSpan: a span back from an mcache; a stale one (sg+1) is swept now.</summary>
    public void UncacheSpan(MSpan* s)
    {
        if (s->AllocCount == 0)
            ThrowHelper.Corrupt("INV-SPAN-3", $"uncaching span but allocCount == 0: {s->ToString()}");
        uint sg = _heap.SweepGen;
        uint g = Volatile.Read(ref s->SweepGen);
        bool stale = g == sg + 1;
        Seeded.UncacheMisreadsStaleSpan(ref stale);
        if (stale)
        {
            Volatile.Write(ref s->SweepGen, sg - 1);
            if (_heap.Tracing)
                _heap.Trace(HeapTraceKind.UncacheStaleSweep, s, g, sg - 1);
            _heap.SweepSpan(s, preserve: false);
            return;
        }
        // Publishes "no longer cached" before the span is visible in a set.
        Volatile.Write(ref s->SweepGen, sg);
        bool partial = s->AllocCount < s->NElems;
        if (_heap.Tracing)
            _heap.Trace(HeapTraceKind.UncacheSpan, s, g, sg, partial ? "partialSwept" : "fullSwept");
        _heap.PushSwept(this, s, sg);
    }

    private MSpan* Grow(int pid)
    {
        int sizeClass = SpanClass >> 1;
        return _heap.Alloc(SizeClasses.ClassToAllocNPages[sizeClass], SpanClass, needzero: true, pid);
    }

    /// <summary>All four sets with their roles (Verify).</summary>
    public IEnumerable<(SpanSet Set, bool Full, bool Swept)> Sets(uint sg)
    {
        yield return (PartialSwept(sg), false, true);
        yield return (PartialUnswept(sg), false, false);
        yield return (FullSwept(sg), true, true);
        yield return (FullUnswept(sg), true, false);
    }

    public void Dispose()
    {
        foreach (SpanSet set in _partial.Concat(_full))
            set.Dispose();
    }
}
