// ReplayOutcome: everything one `alloc replay` produced, for the JSON result (ReplayJson): the
// trace and settings, the result per implementation (the heaps of a lockstep replay, or the one
// implementation), the lockstep comparison, the timed runs (fastest and median per
// implementation), the differences between the solo runs, the solo runs that failed, and the
// exit code the command returns. Plain data.
using GoAlloc.Replay;

namespace GoAlloc.Cli;

public sealed record ReplayOutcome(
    string TracePath,
    Trace Trace,
    ReplaySettings Settings,
    IReadOnlyList<ReplayResult> Results,
    LockstepReplayResult? Lockstep,
    IReadOnlyList<ReplayResult> Timed,
    IReadOnlyList<ReplayResult>? Median,
    IReadOnlyList<string> Differences,
    IReadOnlyList<ReplayResult> SoloFailed,
    int ExitCode);
