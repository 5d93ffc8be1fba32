// SeededBugCatalog: the entries of the seeded-bug catalog (src/Allocator/SeededBugs.cs), in two
// parts. Race entries need an interleaving: a single-threaded run of their scenario passes
// (tests/Concurrency's SeededBugCatalogSequentialTests checks it) and Coyote must find them
// (SeededBugCatalogTests; CatalogRows makes the entries theory rows there).
// Sequential entries fail on a single thread already, so exploration shows nothing about them:
// they are checked by one single-threaded run each, which must fail with their expected check.
// Every entry names the failure it expects (an INV id or the check's own words, as a substring
// of the first line of the bug report), so a different failure does not count as finding it.
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
    private static IEnumerable<CatalogEntry> Both(SeededBug bug, string scenario, string expected) =>
    [
        new(bug, scenario, Scenarios.Reference, expected),
        new(bug, scenario, Scenarios.Optimized, expected),
    ];

    /// <summary>Entries that fail only under some interleaving.</summary>
    public static readonly IReadOnlyList<CatalogEntry> Races =
    [
        .. Both(SeededBug.Go46500SweepDoneWhileSweeping, "cycle-boundary", "INV-SWEEP-3"),
        .. Both(SeededBug.Go45315UncountedStaleSweep, "cycle-boundary", "INV-SWEEP-3"),
        .. Both(SeededBug.Go57523SweepCreditUnderflow, "sweep-credit-repace", "proportional sweeping swept"),
        // Optimized: its lock-free pop takes ~8 scheduling steps inside the sweeper's one-step window;
        // random exploration did not hit it within 300 iterations per seed, so the entry is the Reference's.
        new(SeededBug.SweepgenPublishedAfterPush, "sweep-vs-refill", Scenarios.Reference, "in a swept set is not swept"),
        // A span swept twice is seen by sweep's state check, INV-SWEEP-2 or cacheSpan's checks
        // (sweepgen, free count), or by none of them before the corrupted span hands out an address outside the
        // heap and zeroing it faults (NullReferenceException in P.Alloc's clear): the fast path
        // does not check what it hands out (a HeapInvariantException there is still to do).
        .. Both(SeededBug.SweepOwnershipCheckThenSet, "cycle-boundary",
            "mspan.sweep: bad span state|INV-SWEEP-2|in a swept set is not swept|span has no free objects|NullReferenceException"),
        new(SeededBug.SpanSetLastClaimerFreesBlock, "spanset-push-pop", Scenarios.Optimized, "is covered by spineLen or the head but holds no block"),
        new(SeededBug.SpanSetSpineLenBeforeBlock, "spanset-push-pop", Scenarios.Optimized, "is covered by spineLen or the head but holds no block"),
        .. Both(SeededBug.FindObjectWaitIgnoresCycle, "findobject-across-cycles", "Scheduling steps bound"),
        .. Both(SeededBug.FindObjectReadsUnownedSpan, "findobject-across-cycles", "FindObject reported the live object"),
        // A sweep observed half-done (issue 14 item 6): FindObject's ensureSwept postcondition check.
        .. Both(SeededBug.EnsureSweptReturnsOnClaim, "findobject-across-cycles", "INV-SWEEP-6"),
        .. Both(SeededBug.SweepgenPublishedBeforeBitmaps, "findobject-across-cycles", "INV-SWEEP-6|FindObject reported the live object"),
        // Issue 14 item 5, the scenarios where bugs hid: reused pages only partly scavenged when
        // the scavenger runs first (the zeroing check); a sweeper restarted mid-cycle that never
        // finishes the sweep (the cycler waits on SweepDone into the step bound); concurrent
        // sweeps losing PagesSwept; stale slots in a recycled spanSet block (Optimized: the
        // Reference's set is a locked queue with no blocks).
        .. Both(SeededBug.PartlyScavengedSpanTakenAsZero, "direct-alloc-arena-growth", "was not zero"),
        .. Both(SeededBug.SweeperRestartForgetsWork, "sweeper-restart-cycles", "Scheduling steps bound"),
        .. Both(SeededBug.PagesSweptReadThenWrite, "sweep-credit-many-ps", "one-page spans were swept"),
        new(SeededBug.SpanSetPopLeavesSlot, "spanset-block-reuse", Scenarios.Optimized, "spans lost or invented|a span was popped twice"),
    ];

    /// <summary>Entries that a single-threaded run of their scenario already catches.</summary>
    public static readonly IReadOnlyList<CatalogEntry> Sequential =
    [
        .. Both(SeededBug.RefillForgetsSg3, "refill-sweep-flush", "bad sweepgen in refill"),
        .. Both(SeededBug.UncacheMisreadsStaleSpan, "cycle-boundary", "INV-MARK-1"),
        .. Both(SeededBug.Go27997StaleCacheNotFlushed, "cycle-boundary", "bad sweepgen in refill"),
        // Sweep pacing (issue 14 item 6): the pacing model's INV-PACE checks after every refill.
        .. Both(SeededBug.SweepCreditOmitsSpanBytes, "sweep-pacing", "INV-PACE-2"),
        .. Both(SeededBug.PacedBeforePagesSweptReset, "sweep-pacing", "INV-PACE-2"),
        .. Both(SeededBug.HeapDistanceNotClamped, "sweep-pacing", "INV-PACE-1"),
        .. Both(SeededBug.StaleReleaseSubtractsHeapLive, "sweep-pacing", "INV-PACE-3"),
    ];

    /// <summary>Whether the first line of a bug report is the entry's expected failure.</summary>
    public static bool IsExpected(CatalogEntry e, string? firstLine) =>
        firstLine != null && e.Checks.Any(c => firstLine.Contains(c, StringComparison.Ordinal));

    /// <summary>The entry of a theory row.</summary>
    public static CatalogEntry Find(SeededBug bug, string scenario, string impl) =>
        Races.Concat(Sequential).Single(e => e.Bug == bug && e.Scenario == scenario && e.Impl == impl);
}
#endif
