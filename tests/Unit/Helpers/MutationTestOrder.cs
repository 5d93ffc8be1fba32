// MutationTestOrder: the order the tests run in under the Mutation build (mutation/run), cheap tests
// first. Stryker runs each mutant's covering tests one after another (it turns xUnit's parallelism
// off) and cancels the run at the first failure it hears of, so a mutant that a 20 ms contract test
// kills costs 20 ms only if the 11 s trace replay did not run before it. Without an order, xUnit runs
// classes and tests by their unique IDs (hashes): the slow ones land anywhere. Here every test keeps
// that default order except the slow ones listed below (measured one by one in -c Mutation on
// 2 cores, 2026-12-07), which go last, cheapest first: a class is placed by the sum of its listed
// tests, a test by its own figure. The order changes what a mutant costs, never whether a test runs.
// Compiled into both test assemblies (tests/Properties links this file); the assembly attributes
// that select these orderers are set only under MUTATION, so Debug and Release runs are unchanged.
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

#if MUTATION
[assembly: TestCollectionOrderer(GoAlloc.Tests.Helpers.MutationTestOrder.CollectionOrdererName, GoAlloc.Tests.Helpers.MutationTestOrder.AssemblyName)]
[assembly: TestCaseOrderer(GoAlloc.Tests.Helpers.MutationTestOrder.CaseOrdererName, GoAlloc.Tests.Helpers.MutationTestOrder.AssemblyName)]
#endif

namespace GoAlloc.Tests.Helpers;

/// <summary>The measured cost of the slow tests, and the two xUnit orderers that run them last.</summary>
public static class MutationTestOrder
{
#if PROPERTIES_ASSEMBLY
    internal const string AssemblyName = "GoAlloc.Properties";
#else
    internal const string AssemblyName = "GoAlloc.Tests";
#endif
    internal const string CollectionOrdererName = "GoAlloc.Tests.Helpers.MutationCollectionOrderer";
    internal const string CaseOrdererName = "GoAlloc.Tests.Helpers.MutationCaseOrderer";

    // Class name (no namespace) + "." + method name -> milliseconds under -c Mutation. Every test
    // that took 250 ms or more; a theory's figure is its slowest case.
    private static readonly Dictionary<string, int> SlowTestMs = new(StringComparer.Ordinal)
    {
        // tests/Unit
        ["ModelTraceReplayTests.BundledTrace_BothHeapsMatchTheModelAfterEveryOperation"] = 11_460,
        ["ReferenceHeapLifeCycleTests.Metadata_ReservationStartsSmallAndGrowsWithTheHeap"] = 3_090,
        ["ReferenceSpanSetupFailureTests.OutOfMemory_InSpanSetup_GivesThePagesBack"] = 2_870,
        ["OptimizedHeapFaultInjectionTests.INV_FailureLeavesHeapConsistent_MappingFailureAtEachStep"] = 2_220,
        ["SweepNeverMapsTests.INV_GcCycleAfterGrowthAbsorbsEveryRefusal"] = 2_180,
        ["ReferenceHeapFaultInjectionTests.INV_FailureLeavesHeapConsistent_MappingFailureAtEachStep"] = 2_100,
        ["ReferenceHeapFaultRegressionTests.HugeAllocOnDirtyPages_EitherSucceedsOrThrowsCleanly_AndVerifyPasses"] = 1_860,
        ["OptimizedHeapFaultRegressionTests.HugeAllocOnDirtyPages_EitherSucceedsOrThrowsCleanly_AndVerifyPasses"] = 1_360,
        ["ModelCheckedReferenceHeapTests.Alloc_MillionsOfObjectsAcrossEveryClassWithRandomMarkCycles"] = 1_090,
        ["ModelCheckedReferenceHeapTests.SweepCredit_AllocationAfterACycleSweepsProportionally"] = 1_060,
        ["LockstepHeapTests.Alloc_MillionsOfObjectsAcrossEveryClassWithRandomMarkCycles"] = 1_030,
        ["ModelCheckedLockstepTests.EightPs_GogcTwentyFive_StrictMarks_AgreesWithTheModelOverCycles"] = 920,
        ["SweepNeverMapsTests.INV_SweepMapsNothing_AndARefusedSetGrowthParksTheSpan"] = 820,
        ["ReferenceHeapTests.Alloc_MillionsOfObjectsAcrossEveryClassWithRandomMarkCycles"] = 680,
        ["ModelCheckedOptimizedHeapTests.Alloc_MillionsOfObjectsAcrossEveryClassWithRandomMarkCycles"] = 670,
        ["ReferenceHeapFaultInjectionTests.INV_FailureLeavesHeapConsistent_TraceHookThrowsAtEachStep"] = 660,
        ["ModelCheckedOptimizedHeapTests.SweepCredit_AllocationAfterACycleSweepsProportionally"] = 620,
        ["OptimizedHeapFaultInjectionTests.INV_FailureLeavesHeapConsistent_TraceHookThrowsAtEachStep"] = 600,
        ["PageAllocTests.PageAlloc_Alloc_DiscontiguousMappedSumBoundary"] = 480,
        ["CliPlotTests.Replay_Plot_TraceWithoutAGcCycle_StillDrawsTheSpans"] = 440,
        ["CliExtendedTraceTests.Replay_BundledSample_OnItsRecordedPs_WithNoscan_Passes"] = 440,
        ["CliReplayTests.Replay_ScavengeOption_ReleasesTheFreePagesOfTheBundledSample"] = 430,
        ["ModelReplayCommandTests.ReplayCommand_BothHeapsSkipZeroingAfterACycle_FailsNamingZeroing"] = 410,
        ["CliReplayTests.Replay_BundledSample_SweepFreesExactlyTheTraceFreesInEveryCycle"] = 410,
        ["ModelCheckedOptimizedHeapTests.INV_MARK_1_SweepFreesExactlyTheUnmarkedObjects"] = 410,
        ["ModelReplayCommandTests.ReplayCommand_RealAllocators_PassTheModelOnTheHandTrace"] = 370,
        ["OptimizedHeapLifeCycleTests.Metadata_ReservationStartsSmallAndGrowsWithTheHeap"] = 370,
        ["ModelCheckedReferenceHeapTests.Sampling_IsReproducibleForASeedAndAverageRate"] = 350,
        ["ModelReplayCommandTests.ReplayCommand_BothHeapsSkipZeroingAfterACycle_PassWithoutTheModel"] = 350,
        ["CliJsonTests.Json_LockstepReplay_ValidatesAgainstTheSchema_AndIsTheOnlyThingOnStdout"] = 350,
        ["ReferenceHeapTests.SweepCredit_AllocationAfterACycleSweepsProportionally"] = 320,
        ["LockstepHeapTests.SweepCredit_AllocationAfterACycleSweepsProportionally"] = 310,
        ["CliLayoutTests.Replay_Tables_FitHundredColumns_AndNoNumberIsSplit"] = 310,
        ["ModelCheckedReferenceHeapTests.INV_MARK_1_SweepFreesExactlyTheUnmarkedObjects"] = 310,
        ["ModelCheckedReferenceHeapTests.MemoryLimit_OutOfMemoryLeavesTheHeapConsistentAndUsableAfterFree"] = 300,
        ["ModelCheckedReferenceHeapTests.INV_STATS_1_HeapAllocEqualsTheSumOfLiveObjects"] = 300,
        ["OptimizedHeapLifeCycleTests.FindObject_NeverReportsALiveObjectFreeWhileItsStaleSpanIsFlushed"] = 280,
        ["CliFailureTests.DashReadsAGzippedTraceFromStandardInput_ThroughANonSeekableStream"] = 260,
        ["LockstepHeapTests.INV_MARK_1_SweepFreesExactlyTheUnmarkedObjects"] = 260,
        // tests/Properties: the whole-heap equivalence before the checker's self-checks (lying and
        // divergent heaps), which kill few library mutants.
        ["SweepgenProperties.Sweepgen_OnlySpecTransitions"] = 940,
        ["LongEquivalenceProperties.ReferenceAndOptimized_AgreeOnLongSequences"] = 1_500,
        ["WideOptionsEquivalenceProperties.ReferenceAndOptimized_AgreeWithTheModelUnderWideOptions"] = 2_880,
        ["EquivalenceProperties.ReferenceAndOptimized_AgreeOnEveryOperationSequence"] = 5_090,
        ["LockstepSelfCheckProperties.EquivalenceProperty_DivergentHeap_FailsShrunkNamingTheChannel"] = 6_000,
        ["ModelProperties.EquivalenceProperty_BothHeapsKeepOneUnmarkedObject_FailsShrunkNamingTheSweepSet"] = 7_000,
        ["ModelProperties.EquivalenceProperty_BothHeapsBreakingOneIdentity_FailsShrunkNamingIt"] = 7_000,
    };

    /// <summary>The listed cost of one test method (0 when it is not listed as slow).</summary>
    public static int CostMs(string className, string methodName) =>
        SlowTestMs.TryGetValue(KeyPrefix(className) + methodName, out int ms) ? ms : 0;

    /// <summary>The listed cost of a whole class: the sum over its slow methods.</summary>
    public static int ClassCostMs(string className)
    {
        string prefix = KeyPrefix(className);
        int sum = 0;
        foreach (KeyValuePair<string, int> e in SlowTestMs)
        {
            if (e.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                sum += e.Value;
            }
        }
        return sum;
    }

    // "Namespace.Class" -> "Class.", the start of the class's keys in SlowTestMs.
    private static string KeyPrefix(string className) => className[(className.LastIndexOf('.') + 1)..] + ".";
}

/// <summary>Orders test classes (xUnit's default collections) by <see cref="MutationTestOrder.ClassCostMs"/>,
/// then by unique ID as xUnit's default orderer does.</summary>
public sealed class MutationCollectionOrderer : ITestCollectionOrderer
{
    /// <inheritdoc/>
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .OrderBy(c => c.CollectionDefinition is null ? MutationTestOrder.ClassCostMs(ClassOf(c)) : 0)
            .ThenBy(c => c.UniqueID);

    // A default collection is one class, named "Test collection for <full class name>".
    private static string ClassOf(ITestCollection c)
    {
        const string Prefix = "Test collection for ";
        return c.DisplayName.StartsWith(Prefix, StringComparison.Ordinal) ? c.DisplayName[Prefix.Length..] : c.DisplayName;
    }
}

/// <summary>Orders the tests of a class by <see cref="MutationTestOrder.CostMs"/>, then by unique ID.</summary>
public sealed class MutationCaseOrderer : ITestCaseOrderer
{
    /// <inheritdoc/>
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases)
        where TTestCase : ITestCase =>
        testCases
            .OrderBy(t => MutationTestOrder.CostMs(t.TestMethod.TestClass.Class.Name, t.TestMethod.Method.Name))
            .ThenBy(t => t.UniqueID, StringComparer.Ordinal);
}
