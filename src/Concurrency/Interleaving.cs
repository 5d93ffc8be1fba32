// Interleaving: HeapTraceEvents as numbered, readable allocator steps, for `reproduce`:
//   12  P1 (thread 9)    cacheSpan spc 52 (1024 B): popped fullUnswept span +0x1c000, CAS sg-2 -> sg-1 (heap sg 4)
// Who acted (the P, or "--" for the background sweeper / FindObject / the GC driver, and the
// managed thread), on which span (base as an offset from the arena base, span class with its
// object size), and the span's sweepgen before -> after relative to the heap's sg (sg-2 unswept,
// sg-1 being swept, sg swept, sg+1 stale cached, sg+3 cached). One line per event, in the order
// the replayed schedule produced them.
namespace GoAlloc.Concurrency;

public static class Interleaving
{
    /// <summary>The legend printed above the steps.</summary>
    public const string Legend =
        "P = the P the step works for (-- none: background sweeper, FindObject, GC driver); span = base offset from the arena start; " +
        "spc = span class (object size); sweepgen relative to the heap's sg: sg-2 unswept, sg-1 being swept, sg swept, sg+1 stale cached, sg+3 cached";

    public static string Line(int number, HeapTraceEvent e) => $"{number,4}  {Who(e),-16} {Describe(e)}";

    public static string Who(HeapTraceEvent e) => $"{(e.P >= 0 ? "P" + e.P : "--")} (thread {e.Thread})";

    public static string Describe(HeapTraceEvent e)
    {
        string span = $"span +0x{e.SpanOffset:x}";
        string spc = e.HasSpan ? SpanClassName(e.SpanClass) : "";
        string b = e.Relative(e.SweepGenBefore), a = e.Relative(e.SweepGenAfter);
        string heapSg = $"(heap sg {e.HeapSweepGen})";
        return e.Kind switch
        {
            HeapTraceKind.AcquireP => "acquireP",
            HeapTraceKind.ReleaseP => "releaseP",
            HeapTraceKind.PrepareForSweep => $"prepareForSweep: stale mcache flushed, flushGen {e.SweepGenBefore} -> {e.SweepGenAfter} {heapSg}",
            HeapTraceKind.Flush => "flush: mcache releaseAll",
            HeapTraceKind.Refill => $"refill {spc}: cached {span}, {b} -> {a} {heapSg}",
            HeapTraceKind.CacheSpanPopSwept => $"cacheSpan {spc}: popped {e.Detail} {span} ({b}) {heapSg}",
            HeapTraceKind.CacheSpanSweepUnswept when e.SweepGenBefore == e.SweepGenAfter => $"cacheSpan {spc}: swept {span}: {e.Detail} ({b})",
            HeapTraceKind.CacheSpanSweepUnswept => $"cacheSpan {spc}: popped {e.Detail} {span}, won it: {b} -> {a} {heapSg}",
            HeapTraceKind.CacheSpanGrow => $"cacheSpan {spc}: nothing to reuse, grew {span} ({b}) {heapSg}",
            HeapTraceKind.UncacheSpan => $"uncacheSpan {spc}: {span} {b} -> {a}, pushed to {e.Detail} {heapSg}",
            HeapTraceKind.UncacheStaleSweep => $"uncacheSpan {spc}: stale {span} {b} -> {a}, sweeping it now {heapSg}",
            HeapTraceKind.SweepStart => $"sweepone: popped {e.Detail} {span} {spc}, won it: {b} -> {a} {heapSg}",
            HeapTraceKind.SweepDone => $"sweep {span} {spc} done: {e.Detail}, {b} -> {a} {heapSg}",
            HeapTraceKind.FreeSpan => $"freeSpan {span} {spc}: {e.Detail}",
            HeapTraceKind.EnsureSwept => $"ensureSwept {span} {spc}: {e.Detail}, {b} -> {a} {heapSg}",
            HeapTraceKind.MarkDrained => $"sweepone: no unswept span left, sweep drained {heapSg}",
            HeapTraceKind.StartMark => "StartMark (world stopped): previous sweep finished, marking on",
            HeapTraceKind.FinishMark => $"FinishMark (world stopped): heap sweepgen {e.SweepGenBefore} -> {e.SweepGenAfter}; every span is now unswept, cached ones stale",
            HeapTraceKind.SetGcPercent => $"SetGcPercent: {e.Detail}, sweep re-paced",
            HeapTraceKind.CreditSweep => $"deductSweepCredit: {e.Detail}, sweeping one span",
            _ => e.ToString(),
        };
    }

    /// <summary>"spc 52 (1024 B)", "spc 53 (1024 B noscan)", "spc 0 (large)".</summary>
    public static string SpanClassName(int spanClass)
    {
        int sizeClass = SpanClass.SizeClass(spanClass);
        string noscan = (spanClass & 1) != 0 ? " noscan" : "";
        return sizeClass == 0 ? $"spc {spanClass} (large{noscan})" : $"spc {spanClass} ({SizeClasses.ClassToSize[sizeClass]} B{noscan})";
    }
}
