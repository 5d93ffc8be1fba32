// SeededBugs: the catalog of known protocol bugs that tests/Concurrency must find. Compiled only
// into the seeded-bug build (`-p:SeededBugs=true` defines SEEDED_BUGS and builds into bin-seeded/
// and obj-seeded/): production assemblies contain neither this type nor any bug. Each bug is a
// small, readable change in the Optimized (HeapDistanceNotClamped: in the shared SweepPacing) or
// the Reference: an Optimized site calls a hook in one line and the body is in
// src/Optimized/Seeded/ (src/Allocator/Seeded/), compiled only into this build; production's hooks
// are no-ops. The Reference's sites are still `#if SEEDED_BUGS` blocks (issue 16 removes them with
// its one-lock rewrite). A bug acts while it is Active, set at run time (tests run one at a time).
// Most are the Go 1.16 behaviour a later Go fixed.
#if SEEDED_BUGS
using System.Runtime.CompilerServices;

namespace GoAlloc;

/// <summary>The known protocol bugs the seeded build can play out; SeededBugs.Active switches one on.</summary>
public enum SeededBug
{
    /// <summary>No bug: the clean protocol.</summary>
    None,
    /// <summary>golang/go#46500: sweep reported done while a sweeper still holds a span (done = drained bit only).</summary>
    Go46500SweepDoneWhileSweeping,
    /// <summary>golang/go#45315: a sweep path that is not counted: a P deregisters before its stale spans are swept.</summary>
    Go45315UncountedStaleSweep,
    /// <summary>golang/go#57523: heap_live - basis underflows when the sweep is re-paced concurrently.</summary>
    Go57523SweepCreditUnderflow,
    /// <summary>golang/go#27997 (lazy flush): a P allocates from its stale cached span (sg+1) without prepareForSweep.</summary>
    Go27997StaleCacheNotFlushed,
    /// <summary>spanSet: the popper that claims the last slot frees the block, not the last one to finish.</summary>
    SpanSetLastClaimerFreesBlock,
    /// <summary>spanSet: spineLen published before the block pointer.</summary>
    SpanSetSpineLenBeforeBlock,
    /// <summary>sweep: sweepgen = sg published after the span is pushed to a swept set.</summary>
    SweepgenPublishedAfterPush,
    /// <summary>refill: the cached span keeps sweepgen sg instead of sg+3.</summary>
    RefillForgetsSg3,
    /// <summary>uncacheSpan: a stale (sg+1) span is taken for a fresh one and never swept.</summary>
    UncacheMisreadsStaleSpan,
    /// <summary>sweep ownership by check-then-set instead of CAS.</summary>
    SweepOwnershipCheckThenSet,
    /// <summary>FindObject (no P) waits for its span's sweep without noticing a cycle boundary: it can wait forever.</summary>
    FindObjectWaitIgnoresCycle,
    /// <summary>FindObject (no P) answers from bitmaps read while a sweep or flush changes them (no sweepgen re-check).</summary>
    FindObjectReadsUnownedSpan,
    /// <summary>ensureSwept's wait ends once a sweeper has claimed the span (sg-1), not once it has finished: a sweep observed half-done.</summary>
    EnsureSweptReturnsOnClaim,
    /// <summary>mspan.sweep publishes sweepgen = sg before it replaces the bitmaps: a waiter sees the sweep done while it is half-done.</summary>
    SweepgenPublishedBeforeBitmaps,
    /// <summary>allocSpan: a span with any scavenged page is taken as all zero (needzero off), though its other pages may be dirty.</summary>
    PartlyScavengedSpanTakenAsZero,
    /// <summary>BackgroundSweeper.Start does not record pending work: restarted mid-cycle, it parks until the next FinishMark.</summary>
    SweeperRestartForgetsWork,
    /// <summary>mspan.sweep counts its pages into PagesSwept by read-then-write instead of an atomic add: concurrent sweeps lose pages.</summary>
    PagesSweptReadThenWrite,
    /// <summary>spanSet pop leaves its slot set: a recycled block keeps stale spans, and a popper that claims a position before its pusher stored takes the stale one.</summary>
    SpanSetPopLeavesSlot,
    /// <summary>deductSweepCredit leaves out the span being taken (newHeapLive without spanBytes): its credit is paid only at the next refill, after the span is taken.</summary>
    SweepCreditOmitsSpanBytes,
    /// <summary>FinishMark paces the sweep before it resets pagesSwept: the distance is measured against the last cycle's sweep.</summary>
    PacedBeforePagesSweptReset,
    /// <summary>gcPaceSweeper without the one-page floor on heapDistance: a heap_live past the trigger less 1 MiB turns the ratio negative.</summary>
    HeapDistanceNotClamped,
    /// <summary>releaseAll gives back a stale span's free slots to heap_live too, though FinishMark reset heap_live after they were counted.</summary>
    StaleReleaseSubtractsHeapLive,
}

/// <summary>The switch the Optimized reads at each seeded change (seeded build only).</summary>
public static class SeededBugs
{
    /// <summary>The bug switched on (None = the clean protocol). Set by one test at a time.</summary>
    public static SeededBug Active { get; set; }

    /// <summary>True when <paramref name="bug"/> is the active one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool On(SeededBug bug) => Active == bug;
}
#endif
