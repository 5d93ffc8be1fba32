// Seeded, seeded half: the bugs of src/Allocator/SeededBugs.cs, each behind the hook its site in
// the Optimized calls (Seeded.Off.cs lists them and the sites; there every hook is off). Compiled
// only into the seeded-bug build (-p:SeededBugs=true): a hook acts only while its bug is
// SeededBugs.Active, and then does exactly the steps the bug adds, skips or replaces at its site.
// The two spanSet bugs need the set's private fields: SpanSet.Seeded.cs. No Go file.
#if SEEDED_BUGS
namespace GoAlloc.Optimized;

internal static unsafe class Seeded
{
    public static void Go46500SweepDoneWhileSweeping(ref uint state)
    {
        if (SeededBugs.On(SeededBug.Go46500SweepDoneWhileSweeping))
            state &= 1u << 31; // ActiveSweep's drained bit alone: sweepers still at work are not counted
    }

    // A restart mid-cycle: the new thread parks until the next FinishMark, the sweep left undone.
    public static bool SweeperRestartForgetsWork() => SeededBugs.On(SeededBug.SweeperRestartForgetsWork);

    public static bool RefillForgetsSg3() => SeededBugs.On(SeededBug.RefillForgetsSg3);

    public static void StaleReleaseSubtractsHeapLive(ref bool stale) =>
        stale &= !SeededBugs.On(SeededBug.StaleReleaseSubtractsHeapLive);

    public static void DeregisterBeforeStaleSweep(MHeap heap)
    {
        if (SeededBugs.On(SeededBug.Go45315UncountedStaleSweep))
            heap.ActiveSweepEnd(); // deregisters before the stale spans are swept
    }

    public static bool DeregisteredBeforeStaleSweep() => SeededBugs.On(SeededBug.Go45315UncountedStaleSweep);

    public static void UncacheMisreadsStaleSpan(ref bool stale)
    {
        if (SeededBugs.On(SeededBug.UncacheMisreadsStaleSpan))
            stale = false;
    }

    public static bool PacedBeforePagesSweptReset() => SeededBugs.On(SeededBug.PacedBeforePagesSweptReset);

    public static void ResetPagesSweptAfterPacing(MHeap heap)
    {
        if (SeededBugs.On(SeededBug.PacedBeforePagesSweptReset))
            Interlocked.Exchange(ref heap.Stats.PagesSwept.Value, 0);
    }

    public static bool SweepOwnershipCheckThenSet(MSpan* s, uint sg, out bool won)
    {
        won = false;
        if (!SeededBugs.On(SeededBug.SweepOwnershipCheckThenSet))
            return false;
        if (s->LoadState() != SpanState.InUse || Volatile.Read(ref s->SweepGen) != sg - 2)
            return true;
        Volatile.Write(ref s->SweepGen, sg - 1); // another sweeper may have passed the check too
        won = true;
        return true;
    }

    public static bool PagesSweptReadThenWrite(MHeap heap, MSpan* s)
    {
        if (!SeededBugs.On(SeededBug.PagesSweptReadThenWrite))
            return false;
        // A concurrent sweep's pages may be lost.
        Volatile.Write(ref heap.Stats.PagesSwept.Value, Volatile.Read(ref heap.Stats.PagesSwept.Value) + s->NPages);
        return true;
    }

    public static void SweepgenPublishedBeforeBitmaps(MSpan* s, uint sg)
    {
        if (SeededBugs.On(SeededBug.SweepgenPublishedBeforeBitmaps))
            Volatile.Write(ref s->SweepGen, sg);
    }

    public static bool SweepgenPublishedAfterPush() => SeededBugs.On(SeededBug.SweepgenPublishedAfterPush);

    public static void PublishSweepgenAfterPush(MSpan* s, uint sg)
    {
        if (SeededBugs.On(SeededBug.SweepgenPublishedAfterPush))
            Volatile.Write(ref s->SweepGen, sg); // visible in a swept set (or freed) before it is marked swept
    }

    public static bool EnsureSweptReturnsOnClaim(uint g, uint sg) =>
        SeededBugs.On(SeededBug.EnsureSweptReturnsOnClaim) && g == sg - 1;

    public static bool FindObjectWaitIgnoresCycle() => SeededBugs.On(SeededBug.FindObjectWaitIgnoresCycle);

    public static void SweepCreditOmitsSpanBytes(ref long newHeapLive)
    {
        if (SeededBugs.On(SeededBug.SweepCreditOmitsSpanBytes))
            newHeapLive = 0;
    }

    public static void Go57523SweepCreditUnderflow(ref long pagesTarget, double pagesPerByte, long live, long liveBasis, long spanBytes, long callerSweepPages)
    {
        if (!SeededBugs.On(SeededBug.Go57523SweepCreditUnderflow))
            return;
        // Go 1.16-1.19: uintptr(live - basis) wraps to ~2^64 when live < basis.
        double wrapped = unchecked((ulong)(live - liveBasis)) + (double)spanBytes;
        pagesTarget = (long)Math.Min(pagesPerByte * wrapped, long.MaxValue / 2) - callerSweepPages;
    }

    public static bool Go27997StaleCacheNotFlushed() => SeededBugs.On(SeededBug.Go27997StaleCacheNotFlushed);

    public static void PartlyScavengedSpanTakenAsZero(MSpan* s, int scav)
    {
        // Scavenged pages read as zero (MADV_DONTNEED), but only those: the span's other pages may be dirty.
        if (SeededBugs.On(SeededBug.PartlyScavengedSpanTakenAsZero) && scav != 0)
            s->NeedZero = 0;
    }

    public static bool FindObjectReadsUnownedSpan() => SeededBugs.On(SeededBug.FindObjectReadsUnownedSpan);

    public static bool SpanSetPopLeavesSlot() => SeededBugs.On(SeededBug.SpanSetPopLeavesSlot);

    public static bool SpanSetLastClaimerFreesBlock(SpanSet set, SpanSetBlock* block, nint* blockp, nint bottom)
    {
        if (!SeededBugs.On(SeededBug.SpanSetLastClaimerFreesBlock))
            return false;
        set.CountPopLastClaimerFrees(block, blockp, bottom);
        return true;
    }

    public static bool SpanSetSpineLenBeforeBlock(SpanSet set, nint top, nint spineLen, out SpanSetBlock* block)
    {
        block = null;
        if (!SeededBugs.On(SeededBug.SpanSetSpineLenBeforeBlock))
            return false;
        block = set.AddBlockLengthFirst(top, spineLen);
        return true;
    }
}
#endif
