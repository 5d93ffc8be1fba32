// SeededBugCatalog: the entries of the seeded-bug catalog (src/Allocator/SeededBugs.cs), in two
// parts. Race entries need an interleaving: a single-threaded run of their scenario passes
// (tests/Concurrency's SeededBugCatalogSequentialTests checks it) and Coyote must find them
// (SeededBugCatalogTests; CatalogRows makes the entries theory rows there).
// Sequential entries fail on a single thread already, so exploration shows nothing about them:
// they are checked by one single-threaded run each, which must fail with their expected check.
// Every entry names the failure it expects (an INV id or the check's own words, as a substring
// of the first line of the bug report), so a different failure does not count as finding it.
// Every entry runs on the Optimized: the bugs break Go's fine-grained protocol (activeSweep, CAS
// sweep ownership, the lock-free spanSet, lazy flushes), which only the Optimized has; the
// Reference, the executable specification, runs under one heap lock and has no seeded bug.
#if SEEDED_BUGS
namespace GoAlloc.Concurrency;

/// <summary>
/// One catalog entry: a seeded bug, the scenario that must catch it, on one allocator, and the
/// failure it must cause: one of the checks in Expected ("a|b": either check may see it first).
/// </summary>
public sealed record CatalogEntry(SeededBug Bug, string Scenario, string Impl, string Expected)
{
    public IEnumerable<string> Checks => Expected.Split('|');

    public override string ToString() => $"{Bug} / {Scenario} / {Impl}";
}

public static class SeededBugCatalog
{
    private static CatalogEntry Optimized(SeededBug bug, string scenario, string expected) =>
        new(bug, scenario, Scenarios.Optimized, expected);

    /// <summary>Entries that fail only under some interleaving.</summary>
    public static readonly IReadOnlyList<CatalogEntry> Races =
    [
        Optimized(SeededBug.Go46500SweepDoneWhileSweeping, "cycle-boundary", "INV-SWEEP-3"),
        Optimized(SeededBug.Go45315UncountedStaleSweep, "cycle-boundary", "INV-SWEEP-3"),
        Optimized(SeededBug.Go57523SweepCreditUnderflow, "sweep-credit-repace", "proportional sweeping swept"),
        // On sweep-vs-refill the Optimized's lock-free pop takes ~8 scheduling steps inside the
        // sweeper's one-step window (random: not found in 800 iterations, seed 17); refill-sweep-flush
        // with probabilistic scheduling finds it (iteration 52, seed 17).
        Optimized(SeededBug.SweepgenPublishedAfterPush, "refill-sweep-flush", "in a swept set is not swept"),
        // A span swept twice is seen by sweep's state check, INV-SWEEP-2 or cacheSpan's checks
        // (sweepgen, free count), or by none of them before the corrupted span hands out an address outside the
        // heap and zeroing it faults (NullReferenceException in P.Alloc's clear): the fast path
        // does not check what it hands out (a HeapInvariantException there is still to do).
        Optimized(SeededBug.SweepOwnershipCheckThenSet, "cycle-boundary",
            "mspan.sweep: bad span state|INV-SWEEP-2|in a swept set is not swept|span has no free objects|NullReferenceException"),
        Optimized(SeededBug.SpanSetLastClaimerFreesBlock, "spanset-push-pop", "is covered by spineLen or the head but holds no block"),
        Optimized(SeededBug.SpanSetSpineLenBeforeBlock, "spanset-push-pop", "is covered by spineLen or the head but holds no block"),
        Optimized(SeededBug.FindObjectWaitIgnoresCycle, "findobject-across-cycles", "Scheduling steps bound"),
        Optimized(SeededBug.FindObjectReadsUnownedSpan, "findobject-across-cycles", "FindObject reported the live object"),
        // A sweep observed half-done (issue 14 item 6): FindObject's ensureSwept postcondition check.
        Optimized(SeededBug.EnsureSweptReturnsOnClaim, "findobject-across-cycles", "INV-SWEEP-6"),
        Optimized(SeededBug.SweepgenPublishedBeforeBitmaps, "findobject-across-cycles", "INV-SWEEP-6|FindObject reported the live object"),
        // Issue 14 item 5, the scenarios where bugs hid: reused pages only partly scavenged when
        // the scavenger runs first (the zeroing check); a sweeper restarted mid-cycle that never
        // finishes the sweep (the cycler waits on SweepDone into the step bound); concurrent
        // sweeps losing PagesSwept; stale slots in a recycled spanSet block.
        Optimized(SeededBug.PartlyScavengedSpanTakenAsZero, "direct-alloc-arena-growth", "was not zero"),
        Optimized(SeededBug.SweeperRestartForgetsWork, "sweeper-restart-cycles", "Scheduling steps bound"),
        Optimized(SeededBug.PagesSweptReadThenWrite, "sweep-credit-many-ps", "one-page spans were swept"),
        Optimized(SeededBug.SpanSetPopLeavesSlot, "spanset-block-reuse", "spans lost or invented|a span was popped twice"),
    ];

    /// <summary>Entries that a single-threaded run of their scenario already catches.</summary>
    public static readonly IReadOnlyList<CatalogEntry> Sequential =
    [
        Optimized(SeededBug.RefillForgetsSg3, "refill-sweep-flush", "bad sweepgen in refill"),
        Optimized(SeededBug.UncacheMisreadsStaleSpan, "cycle-boundary", "INV-MARK-1"),
        Optimized(SeededBug.Go27997StaleCacheNotFlushed, "cycle-boundary", "bad sweepgen in refill"),
        // Sweep pacing (issue 14 item 6): the pacing model's INV-PACE checks after every refill.
        Optimized(SeededBug.SweepCreditOmitsSpanBytes, "sweep-pacing", "INV-PACE-2"),
        Optimized(SeededBug.PacedBeforePagesSweptReset, "sweep-pacing", "INV-PACE-2"),
        Optimized(SeededBug.HeapDistanceNotClamped, "sweep-pacing", "INV-PACE-1"),
        Optimized(SeededBug.StaleReleaseSubtractsHeapLive, "sweep-pacing", "INV-PACE-3"),
    ];

    /// <summary>Whether the first line of a bug report is the entry's expected failure.</summary>
    public static bool IsExpected(CatalogEntry e, string? firstLine) =>
        firstLine != null && e.Checks.Any(c => firstLine.Contains(c, StringComparison.Ordinal));

    /// <summary>The entry of a theory row.</summary>
    public static CatalogEntry Find(SeededBug bug, string scenario, string impl) =>
        Races.Concat(Sequential).Single(e => e.Bug == bug && e.Scenario == scenario && e.Impl == impl);
}
#endif
