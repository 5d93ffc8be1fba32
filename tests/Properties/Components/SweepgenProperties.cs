// The sweepgen state machine (Go's mspan.sweepgen protocol; spec/models/sweepgen.pml), observed on
// the Optimized heap across random operation sequences (the equivalence property's generator and
// interpreter, on one heap). After every step every in-use span's sweepgen is read relative to the
// heap's sg and compared with the previous observation of the same span (its record, base address
// and class). The states: sg-2 unswept, sg-1 being swept, sg swept, sg+1 cached before this cycle
// (stale), sg+3 cached. Single edges:
//   sg-2 -> sg-1 (sweeper wins the CAS)   sg-1 -> sg (swept)   sg-1 -> freed (swept empty)
//   sg   -> sg+3 (cached)                 sg+3 -> sg (uncached)
//   sg+1 -> sg-1 (stale span uncached, swept by its owner)
//   new span -> sg, or sg+3 when it is cached at once
// and at FinishMark (sg += 2, nothing else moves): sg -> sg-2 and sg+3 -> sg+1 (relabeling), from
// a heap where nothing is left unswept or stale. One step may take several edges; a span that is
// not in use between operations must not be at sg-1 (single-threaded, a sweep always finishes).
// Any other observed change fails, naming the span, the step and both states.
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Optimized;
using GoAlloc.Properties.Equivalence;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed unsafe class SweepgenProperties
{
    private const int Freed = int.MinValue; // "not in use any more"

    /// <summary>Single edges of the relative state machine (FinishMark's relabeling is checked separately).</summary>
    private static readonly Dictionary<int, int[]> s_edges = new()
    {
        [-2] = [-1],
        [-1] = [0, Freed],
        [0] = [3],
        [3] = [0],
        [1] = [-1],
    };

    /// <summary>States reachable from a state by zero or more edges.</summary>
    private static HashSet<int> Reachable(int from)
    {
        var seen = new HashSet<int> { from };
        var todo = new Stack<int>([from]);
        while (todo.Count > 0)
        {
            if (!s_edges.TryGetValue(todo.Pop(), out int[]? next))
                continue;
            foreach (int n in next)
            {
                if (seen.Add(n))
                    todo.Push(n);
            }
        }
        return seen;
    }

    private static readonly HashSet<int> s_newSpan = [0, 3];

    private readonly record struct SpanId(nint Record, nint Start, int SpanClass)
    {
        public override string ToString() => $"span 0x{Start:x} class {SpanClass}";
    }

    private static string Name(int rel) => rel switch
    {
        Freed => "freed",
        0 => "sg",
        > 0 => $"sg+{rel}",
        _ => $"sg{rel}",
    };

    /// <summary>Every in-use span of the heap with its sweepgen relative to the heap's.</summary>
    private static Dictionary<SpanId, int> Observe(MHeap heap)
    {
        var spans = new Dictionary<SpanId, int>();
        uint sg = heap.SweepGen;
        foreach (nint ab in heap.ArenaBases())
        {
            HeapArena* a = heap.ArenaOf(ab);
            for (int pg = 0; pg < MallocConstants.PagesPerArena; pg++)
            {
                var s = (MSpan*)a->Spans[pg];
                if (s == null)
                    continue;
                var id = new SpanId((nint)s, s->StartAddr, s->SpanClass);
                spans.TryAdd(id, unchecked((int)(s->SweepGen - sg)));
            }
        }
        return spans;
    }

    private sealed class Observer(MHeap heap)
    {
        private Dictionary<SpanId, int> _prev = [];
        public string? Violation { get; private set; }
        public int Transitions { get; private set; }

        private void Fail(string what) => Violation ??= what;

        public void AfterStep(int step)
        {
            Dictionary<SpanId, int> now = Observe(heap);
            foreach ((SpanId id, int rel) in now)
            {
                if (rel is not (-2 or 0 or 1 or 3))
                    Fail($"after step {step}: {id} is at {Name(rel)} between operations (allowed: sg-2, sg, sg+1, sg+3)");
                if (!_prev.TryGetValue(id, out int before))
                {
                    if (!s_newSpan.Contains(rel))
                        Fail($"after step {step}: new {id} starts at {Name(rel)} (allowed: sg, sg+3)");
                    continue;
                }
                if (before != rel)
                    Transitions++;
                if (!Reachable(before).Contains(rel))
                    Fail($"step {step}: {id} went {Name(before)} -> {Name(rel)}, not a transition of the sweepgen state machine");
            }
            foreach ((SpanId id, int before) in _prev)
            {
                if (!now.ContainsKey(id) && !Reachable(before).Contains(Freed))
                    Fail($"step {step}: {id} was freed from {Name(before)} (only a sweep, from sg-1, frees a span)");
            }
            _prev = now;
        }

        public void AfterFinishMark(int step)
        {
            // FinishMark only relabels: sg -> sg-2, sg+3 -> sg+1, the same spans before and after.
            Dictionary<SpanId, int> now = Observe(heap);
            foreach ((SpanId id, int before) in _prev)
            {
                if (before is not (0 or 3))
                    Fail($"step {step}: FinishMark found {id} at {Name(before)}; the previous cycle must leave every span swept (sg) or cached (sg+3)");
                if (!now.TryGetValue(id, out int after))
                    Fail($"step {step}: {id} disappeared at FinishMark");
                else if (after != before - 2)
                    Fail($"step {step}: FinishMark relabeled {id} {Name(before)} -> {Name(after)} (allowed: sg -> sg-2, sg+3 -> sg+1)");
            }
            foreach (SpanId id in now.Keys)
            {
                if (!_prev.ContainsKey(id))
                    Fail($"step {step}: {id} appeared during FinishMark");
            }
            _prev = now;
        }
    }

    [Fact]
    public void Sweepgen_OnlySpecTransitions()
    {
        Property property = Prop.ForAll(HeapOpGen.Arbitrary, scenario =>
        {
            using var heap = new MHeap(scenario.Options.ToHeapOptions());
            var observer = new Observer(heap);
            string? failure = EquivalenceProperties.RunOn(heap, scenario,
                h => new HeapOpInterpreter(h) { AfterStep = observer.AfterStep, AfterFinishMark = observer.AfterFinishMark });
            string? violation = observer.Violation;
            if (violation != null)
                return false.Label($"INV-SWEEP-1 / sweepgen state machine: {violation}");
            return (failure == null).Label(failure ?? "").Classify(observer.Transitions > 0, "spans changed state");
        });
        PropertyRunner.Check(nameof(Sweepgen_OnlySpecTransitions), 500, property, endSize: 150);
    }
}
