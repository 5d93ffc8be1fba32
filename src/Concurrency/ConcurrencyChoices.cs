// ConcurrencyChoices: the names `alloc explore` accepts and the runner (Program) parses: the Coyote
// scenarios, the allocators they run on, Coyote's exploration strategies and the seeded-bug catalog
// (src/Allocator/SeededBugs.cs, compiled only into the seeded build, so its names are listed here
// for the clean build too; tests/Concurrency checks both lists against the code). The `alloc`
// command validates a command line against these lists before it starts the runner.
namespace GoAlloc.Concurrency;

public static class ConcurrencyChoices
{
    public const string Reference = "reference";
    public const string Optimized = "optimized";

    /// <summary>The scenarios of Scenarios.cs, in its order.</summary>
    public static readonly string[] Scenarios =
        ["refill-sweep-flush", "cycle-boundary", "mark-vs-alloc", "pagecache-vs-scavenger", "large-vs-small", "sweep-credit-repace", "sweep-vs-refill", "spanset-push-pop", "findobject-across-cycles",
         "direct-alloc-arena-growth", "sweeper-restart-cycles", "spanset-block-reuse", "sweep-credit-many-ps",
         "sweep-pacing"];

    /// <summary>Scenarios that exist for the optimized allocator only (Go's lock-free spanSet and its block pool).</summary>
    public static readonly string[] OptimizedOnly = ["spanset-push-pop", "spanset-block-reuse"];

    /// <summary>Scenarios of one task and no background sweeper: every iteration is the same schedule, so one is explored.</summary>
    public static readonly string[] SingleTask = ["sweep-pacing"];

    public static readonly string[] Impls = [Reference, Optimized];

    /// <summary>Coyote 1.7's exploration strategies (portfolio = the engine's default mix).</summary>
    public static readonly string[] Strategies =
        ["random", "probabilistic", "prioritization", "fair-prioritization", "delay-bounding", "q-learning", "portfolio"];

    /// <summary>The SeededBug names except None.</summary>
    public static readonly string[] SeededBugs =
    [
        "Go46500SweepDoneWhileSweeping", "Go45315UncountedStaleSweep", "Go57523SweepCreditUnderflow", "Go27997StaleCacheNotFlushed",
        "SpanSetLastClaimerFreesBlock", "SpanSetSpineLenBeforeBlock", "SweepgenPublishedAfterPush", "RefillForgetsSg3",
        "UncacheMisreadsStaleSpan", "SweepOwnershipCheckThenSet", "FindObjectWaitIgnoresCycle", "FindObjectReadsUnownedSpan",
        "EnsureSweptReturnsOnClaim", "SweepgenPublishedBeforeBitmaps", "PartlyScavengedSpanTakenAsZero", "SweeperRestartForgetsWork",
        "PagesSweptReadThenWrite", "SpanSetPopLeavesSlot",
        "SweepCreditOmitsSpanBytes", "PacedBeforePagesSweptReset", "HeapDistanceNotClamped", "StaleReleaseSubtractsHeapLive",
    ];

    public const string DefaultStrategy = "random";
    public const uint DefaultSeed = 17;
    public const uint DefaultIterations = 1000;

    /// <summary>Whether a scenario runs on an allocator (the spanSet ones: optimized only).</summary>
    public static bool Applies(string scenario, string impl) => impl == Optimized || !OptimizedOnly.Contains(scenario);
}
