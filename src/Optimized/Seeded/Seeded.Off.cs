// Seeded, production half: the hooks through which the seeded-bug build plants the bugs of
// src/Allocator/SeededBugs.cs in the Optimized's protocol code, here every one off. A site calls
// its hook in one line, named after the bug it plants (for a bug with two sites, after what it
// does at each). A void hook ([Conditional("SEEDED_BUGS")]) changes a local or adds the bug's
// step: this build drops the call and its arguments. A bool hook skips a step or returns early: a
// constant false here, which the JIT folds away. So the production build runs exactly the
// protocol as written. The seeded build (-p:SeededBugs=true) compiles Seeded.On.cs instead, where
// each hook acts only while its bug is SeededBugs.Active. No Go file: Go has no seeded bugs.
#if !SEEDED_BUGS
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

// Stryker disable all : the hooks are the seeded build's; the seeded-bug catalog tests them.
internal static unsafe class Seeded
{
    // ActiveSweep.IsDone: sweep done on the drained bit alone (golang/go#46500).
    [Conditional("SEEDED_BUGS")]
    public static void Go46500SweepDoneWhileSweeping(ref uint state) { }

    // MHeap.StartBackgroundSweeper (BackgroundSweeper.Start's recordWork): a restarted sweeper forgets the pending work.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SweeperRestartForgetsWork() => false;

    // MCache.Refill: the cached span keeps sweepgen sg.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool RefillForgetsSg3() => false;

    // MCache.ReleaseAll: a stale span's free slots are given back to heap_live too.
    [Conditional("SEEDED_BUGS")]
    public static void StaleReleaseSubtractsHeapLive(ref bool stale) { }

    // MCache.PrepareForSweep: the P deregisters before its stale spans are swept (golang/go#45315)...
    [Conditional("SEEDED_BUGS")]
    public static void DeregisterBeforeStaleSweep(MHeap heap) { }

    // ...and so not again after them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool DeregisteredBeforeStaleSweep() => false;

    // MCentral.UncacheSpan: a stale span is taken for a fresh one.
    [Conditional("SEEDED_BUGS")]
    public static void UncacheMisreadsStaleSpan(ref bool stale) { }

    // MHeap.FinishMark: pagesSwept is reset after the sweep is paced, not before.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool PacedBeforePagesSweptReset() => false;

    [Conditional("SEEDED_BUGS")]
    public static void ResetPagesSweptAfterPacing(MHeap heap) { }

    // MHeap.TryAcquire: sweep ownership by check-then-set; true = it decided, won says who owns.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SweepOwnershipCheckThenSet(MSpan* s, uint sg, out bool won)
    {
        won = false;
        return false;
    }

    // MHeap.SweepSpan: pagesSwept by read-then-write; true = counted so.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool PagesSweptReadThenWrite(MHeap heap, MSpan* s) => false;

    // MHeap.SweepSpan: sweepgen sg published before the bitmaps are replaced.
    [Conditional("SEEDED_BUGS")]
    public static void SweepgenPublishedBeforeBitmaps(MSpan* s, uint sg) { }

    // MHeap.SweepSpan: sweepgen sg published after the span is pushed or freed, not before...
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SweepgenPublishedAfterPush() => false;

    // ...here.
    [Conditional("SEEDED_BUGS")]
    public static void PublishSweepgenAfterPush(MSpan* s, uint sg) { }

    // MHeap.EnsureSwept: the wait ends once the span is claimed (g = sg-1).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool EnsureSweptReturnsOnClaim(uint g, uint sg) => false;

    // MHeap.EnsureSwept: the wait misses a cycle boundary.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FindObjectWaitIgnoresCycle() => false;

    // MHeap.DeductSweepCreditSlow: the span being taken left out of the credit.
    [Conditional("SEEDED_BUGS")]
    public static void SweepCreditOmitsSpanBytes(ref long newHeapLive) { }

    // MHeap.DeductSweepCreditSlow: heap_live - basis wraps when negative (golang/go#57523).
    [Conditional("SEEDED_BUGS")]
    public static void Go57523SweepCreditUnderflow(ref long pagesTarget, double pagesPerByte, long live, long liveBasis, long spanBytes, long callerSweepPages) { }

    // MHeap.Acquired, MHeap.FlushIdleStalePs: a stale mcache is not flushed (golang/go#27997).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Go27997StaleCacheNotFlushed() => false;

    // MHeap.AllocSpan: a span with a scavenged page taken as all zero.
    [Conditional("SEEDED_BUGS")]
    public static void PartlyScavengedSpanTakenAsZero(MSpan* s, int scav) { }

    // MHeap.FindObject: no sweepgen re-check after the bitmap reads.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool FindObjectReadsUnownedSpan() => false;

    // SpanSet.Pop: the slot is left set.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SpanSetPopLeavesSlot() => false;

    // SpanSet.Pop: the claimer of the last slot frees the block; true = the pop is counted so.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SpanSetLastClaimerFreesBlock(SpanSet set, SpanSetBlock* block, nint* blockp, nint bottom) => false;

    // SpanSet.AddBlock: spineLen published before the blocks; true = added so, block is top's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SpanSetSpineLenBeforeBlock(SpanSet set, nint top, nint spineLen, out SpanSetBlock* block)
    {
        block = null;
        return false;
    }
}
#endif
