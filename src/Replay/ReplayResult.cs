// ReplayResult: what one replay of a trace on one allocator produced: a row per GC cycle, the
// disagreements between our sweep and the trace, the first failure (a broken invariant or an
// exception from the heap), the final memstats and the timings. Plain data for the report and the
// tests; nothing here touches the heap or the console. A lockstep replay (two heaps compared after
// every operation) is a LockstepReplayResult: a ReplayResult per heap plus the comparison outcome.
// No Go counterpart.
namespace GoAlloc.Replay;

public enum DisagreementKind
{
    /// <summary>Our sweep freed an object the trace keeps live in that cycle.</summary>
    FreedLiveObject,
    /// <summary>The trace frees an object in that cycle and our sweep did not.</summary>
    KeptDeadObject,
    /// <summary>Our sweep freed the right object but reported another slot size.</summary>
    FreedSizeMismatch,
    /// <summary>Our sweep freed an address that is no object of the replay.</summary>
    FreedUnknownAddress,
    /// <summary>Mark() of a live replay object found no allocated object there.</summary>
    MarkMissed,
    /// <summary>Alloc returned an address that is still a live object.</summary>
    AddressStillLive,
    /// <summary>After the sweep, memstats disagree with the replay's live objects or bytes.</summary>
    Stats,
    /// <summary>A tiny allocation's offset in its block differs from Go's, for no explained reason.</summary>
    TinyOffset,
}

public sealed record Disagreement(int Cycle, DisagreementKind Kind, string Message)
{
    public override string ToString() => $"cycle {Cycle}: {Kind}: {Message}";
}

/// <summary>The live objects of one size class (from HeapStats.BySize; class 0 stands for large objects).</summary>
public readonly record struct ClassCount(int SizeClass, long Size, long Objects)
{
    public override string ToString() => SizeClass == 0 ? $"large:{Objects}" : $"{Size}B:{Objects}";
}

/// <summary>One GC cycle of the replay, with memstats read after the sweep (and the scavenge, if on).</summary>
public sealed record CycleRow(
    int Cycle,
    int AllocsSinceLastCycle,
    int TraceFrees,
    int SweepFrees,
    int Unpaired,
    long HeapSys,
    long HeapInuse,
    long HeapAlloc,
    long HeapReleased,
    long ScavengedBytes,
    long LiveObjects,
    long TraceLiveObjects,
    long TraceLiveBytes,
    IReadOnlyList<ClassCount> TopClasses,
    int Disagreements);

public sealed class ReplayResult
{
    public required string Implementation { get; init; }
    public required ReplayOptions Options { get; init; }
    public required TracePlan Plan { get; init; }
    public required IReadOnlyList<CycleRow> Rows { get; init; }
    /// <summary>The first disagreements (at most ReplayOptions.MaxDisagreementsKept).</summary>
    public required IReadOnlyList<Disagreement> Disagreements { get; init; }
    public required long DisagreementCount { get; init; }
    /// <summary>The first failure: "Verify: ..." for a broken invariant, or an exception from the heap. The replay stops there.</summary>
    public string? Failure { get; init; }
    /// <summary>How many times Verify() ran and passed.</summary>
    public required int VerifyPasses { get; init; }
    public required long Allocations { get; init; }
    /// <summary>Objects our sweeps freed (OnFree calls).</summary>
    public required long SweepFrees { get; init; }
    public required HeapStats FinalStats { get; init; }
    /// <summary>Wall time of the whole replay, Verify included.</summary>
    public required TimeSpan WallTime { get; init; }
    /// <summary>The part of WallTime spent in Verify().</summary>
    public required TimeSpan VerifyTime { get; init; }
    /// <summary>The part of WallTime spent inside the allocator (Alloc, AcquireP/Release, StartMark, Mark, FinishMark, FinishSweep).</summary>
    public TimeSpan AllocatorTime { get; init; }
    /// <summary>The replayer's own part: WallTime minus Verify and the allocator (bookkeeping, checks, lockstep comparisons).</summary>
    public TimeSpan ReplayerTime => WallTime - VerifyTime - AllocatorTime;
    /// <summary>Per cycle: the arena offsets the replay marked.</summary>
    public IReadOnlyList<long[]> MarkOffsets { get; init; } = [];
    /// <summary>TimeAllocatorAlone's figure for this trace and implementation (null: not measured).</summary>
    public TimeSpan? AllocatorAloneTime { get; set; }
    /// <summary>Allocations per second of the allocator alone (AllocatorAloneTime), or 0.</summary>
    public double AllocatorAloneAllocationsPerSecond =>
        AllocatorAloneTime is { TotalSeconds: > 0 } t ? Allocations / t.TotalSeconds : 0;
    /// <summary>GOMAXPROCS of the replayed heap.</summary>
    public int Procs { get; init; } = 1;
    public ReplayFidelity Fidelity { get; init; } = new();

    /// <summary>Allocations per second of the allocator alone (AllocatorTime).</summary>
    public double AllocatorAllocationsPerSecond =>
        AllocatorTime.TotalSeconds > 0 ? Allocations / AllocatorTime.TotalSeconds : 0;

    public int Cycles => Rows.Count;
    public bool Passed => DisagreementCount == 0 && Failure == null && Fidelity.TinyUnexplained == 0;

    /// <summary>Allocations per second of replay time, Verify excluded (it is a debug check, not allocator work).</summary>
    public double AllocationsPerSecond
    {
        get
        {
            double seconds = (WallTime - VerifyTime).TotalSeconds;
            return seconds > 0 ? Allocations / seconds : 0;
        }
    }
}

/// <summary>
/// The first difference between the two heaps of a lockstep replay: where in the trace it happened
/// (Event is null when it was after the last event: the final Release or Verify), the GC cycle
/// (the number of tracegc() events replayed before it) and the EquivalenceException's message.
/// </summary>
public sealed record LockstepDisagreement(string Where, TraceEvent? Event, int Cycle, string Message)
{
    public override string ToString() => $"at {Where} (GC cycle {Cycle}): {Message}";
}

/// <summary>
/// One replay on a LockstepHeap: A and B are the replay seen from each heap (rows and final stats
/// read from LockstepHeap.A / .B; the trace checks, Verify and timings are the lockstep run's).
/// </summary>
public sealed class LockstepReplayResult
{
    public required ReplayResult A { get; init; }
    public required ReplayResult B { get; init; }
    /// <summary>LockstepHeap.StatsEvery of the run (1: full stats compared after every operation).</summary>
    public required int StatsEvery { get; init; }
    /// <summary>Each heap was also checked against the heap model after every call (src/Model ModelCheckedHeap).</summary>
    public bool ModelChecked { get; init; }
    /// <summary>Operations the lockstep heap ran on both heaps and compared (LockstepHeap.Operations).</summary>
    public required long Operations { get; init; }
    /// <summary>The first difference between the heaps, or null when they agreed on every operation.</summary>
    public LockstepDisagreement? Disagreement { get; init; }

    public bool Agreed => Disagreement == null;
    public bool Passed => Agreed && A.Passed && B.Passed;
    /// <summary>Wall time of the lockstep replay (both heaps and every comparison).</summary>
    public TimeSpan WallTime => A.WallTime;
}
