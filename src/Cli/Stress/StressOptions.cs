// StressOptions: what one real-thread stress run does (the workload shared by tests/Stress and
// `alloc soak`). Threads workers each hold their own P (Procs = Threads) and run random operations
// in epochs between coordinated stop-the-world GC cycles; a background sweeper and a reader thread
// (FindObject / ReadStats) run alongside. The run ends at the first cycle boundary after Duration
// (or MaxCycles cycles), or at the first violation.
namespace GoAlloc.Cli;

public sealed record StressOptions
{
    /// <summary>Allocating threads, each holding its own P (the heap gets exactly this many Ps).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Seed of every random choice (sizes, flags, which object to drop or check); printed with every violation.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Wall-clock budget: no new cycle starts after it.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Upper bound on GC cycles (int.MaxValue: the Duration alone decides).</summary>
    public int MaxCycles { get; init; } = int.MaxValue;

    /// <summary>Random operations each worker runs between two stop-the-world points.</summary>
    public int OpsPerEpoch { get; init; } = 3000;

    /// <summary>Live objects a worker keeps at most (beyond it, each allocation drops one).</summary>
    public int MaxLivePerThread { get; init; } = 3000;

    /// <summary>Run the reader thread (FindObject on other threads' live objects, ReadStats).</summary>
    public bool Reader { get; init; } = true;

    /// <summary>Run the heap's background sweeper (stopped only around each Verify).</summary>
    public bool BackgroundSweeper { get; init; } = true;

    /// <summary>Verify and check every live object's pattern and FindObject every this many cycles (1: every cycle; 0: never).</summary>
    public int VerifyEvery { get; init; } = 1;

    /// <summary>Operations shown from the end of the log when a violation is reported.</summary>
    public int LogTail { get; init; } = 40;

    /// <summary>Liveness guard: a stop-the-world rendezvous that waits longer than this reports a hang.</summary>
    public TimeSpan HangTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Called at most every ProgressEvery with a one-line status (from the coordinating thread).</summary>
    public Action<StressProgress>? Progress { get; init; }

    public TimeSpan ProgressEvery { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Test hook: at this cycle the coordinator overwrites one byte of a live object (the checks must catch it).</summary>
    public int CorruptAtCycle { get; init; } = -1;

    /// <summary>Test hook: at this cycle the coordinator marks none of worker 0's objects (the checks must catch their loss).</summary>
    public int SkipMarkAtCycle { get; init; } = -1;

    /// <summary>
    /// Many short cycles instead of long epochs: 64 operations per worker between stop-the-world
    /// points, few live objects, Verify every 16 cycles. Cycle boundaries (stale mcaches flushed
    /// while P-less FindObject calls read them) come about 50 times as often.
    /// </summary>
    public StressOptions CycleHeavy() => this with { OpsPerEpoch = 64, MaxLivePerThread = 200, VerifyEvery = 16 };

    internal void Validate()
    {
        if (Threads is < 1 or > 64)
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be 1..64");
        if (Duration < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(Duration), Duration, "the duration must not be negative");
        if (MaxCycles < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxCycles), MaxCycles, "at least one cycle");
        if (VerifyEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(VerifyEvery), VerifyEvery, "VerifyEvery must be >= 0");
        if (OpsPerEpoch < 1 || MaxLivePerThread < 1)
            throw new ArgumentOutOfRangeException(nameof(OpsPerEpoch), "OpsPerEpoch and MaxLivePerThread must be positive");
    }
}

/// <summary>A progress report: elapsed time, operations so far, completed cycles, the largest heap_sys seen.</summary>
public readonly record struct StressProgress(TimeSpan Elapsed, long Operations, int Cycles, long MaxHeapSys);
