// The project's main correctness gate: for random operation sequences, the Reference and the
// Optimized heap behave the same (ARCHITECTURE.md, "the equivalence contract"). Each scenario runs
// on a LockstepHeap, which compares after every call the address (as an offset from the first
// arena), the exception type, FindObject / Mark / SweepOne / Scavenge results, the objects each
// sweep freed, the heap-profile samples, and the full HeapStats (statsEvery: 1). Each of the two
// heaps is also a ModelCheckedHeap: after every call it is checked against the heap model
// (src/Model: stats identities, the sweep set, zeroing, Mark / FindObject answers), so a bug both
// implementations share still fails, naming the identity it breaks. The interpreter
// adds the contract model (what must throw, live objects stay found and markable), and every
// scenario ends with FinishSweep and Verify() on both heaps, so a broken invariant fails with its
// INV id. A failure reports the shrunk scenario as numbered steps, the failing step with the
// EquivalenceException / HeapInvariantException message, and FsCheck's replay seed.
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Model;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Properties.Equivalence;

public sealed class EquivalenceProperties
{
    /// <summary>Default cases of the main property (times GOALLOC_PROPERTY_SCALE); scenarios of up to ~150 steps.</summary>
    public const int EquivalenceCases = 2500;

    /// <summary>Default cases of the long-sequence property: 300..900 steps, many GC cycles, several arenas.</summary>
    public const int LongSequenceCases = 120;

    /// <summary>Runs a scenario on a lock-step pair; null if it passed, else the failure text.</summary>
    public static string? RunLockstep(Scenario scenario) =>
        RunLockstep(scenario, o => new GoAlloc.Reference.MHeap(o), o => new GoAlloc.Optimized.MHeap(o));

    /// <summary>Runs a scenario on a lock-step pair of the two factories' heaps, each model-checked unless model is false; null if it passed.</summary>
    public static string? RunLockstep(Scenario scenario, Func<HeapOptions, IHeap> a, Func<HeapOptions, IHeap> b, bool model = true)
    {
        using var heap = new LockstepHeap(
            model ? o => new ModelCheckedHeap(a, o, hooks: scenario.Options.Hooks) : a,
            model ? o => new ModelCheckedHeap(b, o, hooks: scenario.Options.Hooks) : b,
            scenario.Options.ToHeapOptions(), statsEvery: 1, hooks: scenario.Options.Hooks);
        return RunOn(heap, scenario);
    }

    /// <summary>
    /// The equivalence property on lock-step pairs of the two factories' heaps; model false leaves
    /// the heap model out, so only the lock-step comparison (and the interpreter) can fail it.
    /// </summary>
    public static Property EquivalenceProperty(Func<HeapOptions, IHeap> a, Func<HeapOptions, IHeap> b, bool model = true) =>
        Prop.ForAll(HeapOpGen.Arbitrary, scenario =>
        {
            string? failure = RunLockstep(scenario, a, b, model);
            return (failure == null).Label(failure ?? "");
        });

    /// <summary>Runs a scenario on one heap; null if it passed, else the failure text.</summary>
    public static string? RunOn(IHeap heap, Scenario scenario, Func<IHeap, HeapOpInterpreter>? makeInterpreter = null)
    {
        PropertyRunner.TraceScenario(scenario);
        HeapOpInterpreter interpreter = makeInterpreter?.Invoke(heap) ?? new HeapOpInterpreter(heap);
        try
        {
            interpreter.Run(scenario.Ops);
            return null;
        }
        catch (ScenarioFailureException f)
        {
            string where = f.Step < scenario.Ops.Length ? $"step {f.Step}: {f.Op}" : $"epilogue: {f.Op}";
            return $"{where}\n    -> {f.InnerException!.GetType().Name}: {f.InnerException.Message}";
        }
    }

    public static Property EquivalenceProperty() =>
        Prop.ForAll(HeapOpGen.Arbitrary, scenario =>
        {
            string? failure = RunLockstep(scenario);
            return (failure == null).Label(failure ?? "");
        });

    [Fact]
    public void ReferenceAndOptimized_AgreeOnEveryOperationSequence() =>
        PropertyRunner.Check(nameof(ReferenceAndOptimized_AgreeOnEveryOperationSequence), EquivalenceCases, EquivalenceProperty(), endSize: 150, mutationCases: 30);
}

/// <summary>
/// The same property on heaps that always take the rarer options: 4 to 8 Ps, GOGC other than 100,
/// no OnFree / OnSample hooks, StrictMarks, a MemoryLimit of one or two arenas (out of memory and
/// recovery), no arena hints.
/// </summary>
public sealed class WideOptionsEquivalenceProperties
{
    public const int Cases = 200;

    [Fact]
    public void ReferenceAndOptimized_AgreeWithTheModelUnderWideOptions() =>
        PropertyRunner.Check(nameof(ReferenceAndOptimized_AgreeWithTheModelUnderWideOptions), Cases,
            Prop.ForAll(HeapOpGen.WideArbitrary, scenario =>
            {
                string? failure = EquivalenceProperties.RunLockstep(scenario);
                return (failure == null).Label(failure ?? "");
            }), endSize: 150, mutationCases: 5);
}

/// <summary>The same property on long scenarios (its own class, so xunit runs it beside the short ones).</summary>
public sealed class LongEquivalenceProperties
{
#if MUTATION
    // One scenario of 100..300 steps per mutant (Stryker runs it against every heap mutant).
    private const int StartSize = 100, EndSize = 300;
#else
    private const int StartSize = 300, EndSize = 900;
#endif

    [Fact]
    public void ReferenceAndOptimized_AgreeOnLongSequences() =>
        PropertyRunner.Check(nameof(ReferenceAndOptimized_AgreeOnLongSequences), EquivalenceProperties.LongSequenceCases,
            EquivalenceProperties.EquivalenceProperty(), endSize: EndSize, startSize: StartSize, mutationCases: 1);
}
