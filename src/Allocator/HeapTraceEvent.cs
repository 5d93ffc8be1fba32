// HeapTraceEvent: one step of the sweep protocol as seen by HeapOptions.OnTrace, the allocator's
// debug hook (the role of Go's runtime/trace, at the granularity of mcentral.go / mgcsweep.go):
// which P (on which thread) took, swept, cached, uncached or freed which span, with the span's
// sweepgen before and after the step and the heap's sweepgen. Both allocators emit the same kinds
// at the same protocol points, so a single-threaded call sequence yields the same event sequence
// from Reference and Optimized. Events come only from slow paths (refill, cacheSpan, uncacheSpan,
// sweeping, flushes, the stop-the-world points), never from the allocation fast path, and nothing
// is built when no hook is installed.
// Sweepgen (relative to the heap's sg): sg-2 unswept, sg-1 being swept, sg swept, sg+1 cached
// before this cycle (stale), sg+3 cached and swept (INV-SWEEP-1, INV-CACHE-1).
namespace GoAlloc;

/// <summary>What a HeapTraceEvent records; the field meanings that differ per kind are noted on each.</summary>
public enum HeapTraceKind : byte
{
    /// <summary>A thread acquired P (acquirep).</summary>
    AcquireP,
    /// <summary>A thread released P (releasep).</summary>
    ReleaseP,
    /// <summary>prepareForSweep flushed P's stale mcache (on acquire, or an idle P flushed by finishSweep/bgsweep). Before/After: the mcache's flushGen.</summary>
    PrepareForSweep,
    /// <summary>An explicit mcache flush (IProcessor.Flush, releaseAll).</summary>
    Flush,
    /// <summary>refill cached a span for its class: sweepgen -> sg+3.</summary>
    Refill,
    /// <summary>cacheSpan popped a swept span with free space (partialSwept).</summary>
    CacheSpanPopSwept,
    /// <summary>cacheSpan popped an unswept span and won it, sg-2 -> sg-1 (a CAS in the Optimized, under the heap lock in the Reference; Detail: the set); or, Before = After = sg, found a swept full span freed nothing and pushed it to fullSwept.</summary>
    CacheSpanSweepUnswept,
    /// <summary>cacheSpan found nothing to reuse and took a fresh span from the heap (mcentral.grow).</summary>
    CacheSpanGrow,
    /// <summary>uncacheSpan gave a span back: sg+3 -> sg, pushed to the set named in Detail.</summary>
    UncacheSpan,
    /// <summary>uncacheSpan of a stale span (cached before this cycle): sg+1 -> sg-1, swept at once.</summary>
    UncacheStaleSweep,
    /// <summary>sweepone popped an unswept span and won it, sg-2 -> sg-1 (a CAS in the Optimized, under the heap lock in the Reference; Detail: the set).</summary>
    SweepStart,
    /// <summary>mspan.sweep finished: Before sg-1, After the sweepgen as published so far; Detail: objects freed and where the span went.</summary>
    SweepDone,
    /// <summary>A sweep returned an empty span's pages to the heap (Detail: pages).</summary>
    FreeSpan,
    /// <summary>ensureSwept (FindObject) found the span unswept: swept it here (sg-2 -> sg-1), or waits for its sweeper.</summary>
    EnsureSwept,
    /// <summary>sweepone found every unswept set empty and set the drained bit of activeSweep.</summary>
    MarkDrained,
    /// <summary>StartMark (world stopped): the previous sweep finished, allocate-black on.</summary>
    StartMark,
    /// <summary>FinishMark (world stopped): Before/After: the heap's sweepgen (sg += 2).</summary>
    FinishMark,
    /// <summary>SetGcPercent re-paced the sweep (Detail: the new GOGC).</summary>
    SetGcPercent,
    /// <summary>deductSweepCredit is behind the pacing line and sweeps one more span (Detail: the debt).</summary>
    CreditSweep,
}

/// <summary>
/// One traced protocol step. <see cref="P"/> is the P the step works for (-1: none, e.g. the
/// background sweeper or FindObject); <see cref="Thread"/> the managed thread id of the acting
/// thread; <see cref="SpanOffset"/> the span's base as an offset from IHeap.ArenaBase (0 when the
/// event names no span: then <see cref="SpanClass"/> is -1).
/// </summary>
public readonly record struct HeapTraceEvent(
    HeapTraceKind Kind,
    int P,
    int Thread,
    long SpanOffset,
    int SpanClass,
    uint SweepGenBefore,
    uint SweepGenAfter,
    uint HeapSweepGen,
    string? Detail = null)
{
    /// <summary>Whether the event names a span (SpanOffset and SpanClass are meaningful).</summary>
    public bool HasSpan => SpanClass >= 0;

    /// <summary>A sweepgen relative to the heap's: "sg-2", "sg-1", "sg", "sg+1", "sg+3" (or the number when far off).</summary>
    public string Relative(uint sweepGen)
    {
        int d = unchecked((int)(sweepGen - HeapSweepGen));
        return d switch
        {
            0 => "sg",
            >= -4 and < 0 => $"sg{d}",
            > 0 and <= 4 => $"sg+{d}",
            _ => sweepGen.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
