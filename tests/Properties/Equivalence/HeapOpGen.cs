// HeapOpGen: FsCheck generators and the shrinker of Scenarios. Operations are generated with
// weights that keep a heap busy (mostly allocations, with whole GC cycles often enough to reuse
// memory) and sizes drawn from where bugs live: every size class, its neighbours, tiny sizes, the
// lookup-table boundaries 1016 / 1024 and the small/large boundary 32768 / 32769, large sizes.
// Shrinking: simplify the options, drop chunks of operations (halves, quarters, ..., single steps),
// merge neighbouring identical allocations, then simplify single operations (fewer repetitions,
// strictly smaller sizes, default flags). Every candidate is strictly simpler (no shrink cycles)
// and a valid Scenario, because the interpreter resolves operations against its state.
using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Model;
using GenF = FsCheck.FSharp.Gen;

namespace GoAlloc.Properties.Equivalence;

public static class HeapOpGen
{
    /// <summary>Sizes at the lookup-table and small/large boundaries.</summary>
    public static readonly long[] BoundarySizes = [1016, 1017, 1023, 1024, 1025, 32767, 32768, 32769];

    public static readonly long[] BadSizes = [-1, -4096, long.MinValue, MallocConstants.MaxAlloc + 1, long.MaxValue];

    private static Gen<long> Long(long lo, long hi) => GenF.Choose64(lo, hi);

    /// <summary>An allocation size: tiny, a class size or its neighbours, a boundary, large, huge, or 0.</summary>
    public static Gen<long> Size { get; } = Gen.Frequency(
        (20, Gen.Choose(1, 15).Select(x => (long)x)),
        (25, Gen.Choose(1, SizeClasses.NumSizeClasses - 1).Select(c => (long)SizeClasses.ClassToSize[c])),
        (10, Gen.Choose(2, SizeClasses.NumSizeClasses - 1).Select(c => (long)SizeClasses.ClassToSize[c] - 1)),
        (10, Gen.Choose(1, SizeClasses.NumSizeClasses - 2).Select(c => (long)SizeClasses.ClassToSize[c] + 1)),
        (10, Gen.Elements(BoundarySizes)),
        (6, Long(SizeClasses.MaxSmallSize + 1, 256 << 10)),
        (1, Long(256 << 10, 4 << 20)),
        (1, Long(4 << 20, 48 << 20)),   // grows the heap into more arenas
        (6, Long(1, SizeClasses.MaxSmallSize)),
        (1, Gen.Constant(0L)));

    /// <summary>How many objects of this size one Alloc step makes: mostly one, sometimes a span's worth or more.</summary>
    private static Gen<int> CountFor(long size)
    {
        long rounded = size == 0 ? 8 : SizeOracle.RoundedSize(size);
        int max = (int)Math.Clamp((2L << 20) / rounded, 1, 1100);
        if (max == 1)
            return Gen.Constant(1);
        return Gen.Frequency(
            (14, Gen.Constant(1)),
            (3, Gen.Choose(2, Math.Min(max, 70))),
            (3, Gen.Choose(1, max)));
    }

    private static Gen<int> PIndex(int procs) => Gen.Frequency(
        (12, Gen.Choose(0, procs - 1)),
        (1, Gen.Constant(procs)));   // no such P: AcquireP must throw

    private static readonly Gen<BogusKind> s_bogus = Gen.Elements(Enum.GetValues<BogusKind>());

    private static readonly Gen<int> s_index = Gen.Choose(0, 1 << 20);
    private static readonly Gen<int> s_offset = Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(0, 1 << 16)));

    /// <summary>
    /// One operation for a heap with <paramref name="procs"/> Ps; <paramref name="wide"/> adds
    /// SetGcPercent (kept out of the main property's stream, so its fixed-seed Mutation run stays the same).
    /// </summary>
    public static Gen<HeapOp> Op(int procs, bool wide = false) =>
        !wide ? BaseOp(procs) : Gen.Frequency(
            (30, BaseOp(procs)),
            (1, Gen.Elements(-1, 0, 25, 100, 300).Select(g => (HeapOp)new SetGcPercent(g))));

    private static Gen<HeapOp> BaseOp(int procs)
    {
        Gen<int> p = Gen.Choose(0, procs - 1);
        Gen<HeapOp> alloc =
            from pi in p
            from size in Size
            from noscan in Gen.Frequency((1, Gen.Constant(true)), (1, Gen.Constant(false)))
            from needzero in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
            from count in CountFor(size)
            select (HeapOp)new Alloc(pi, size, noscan, needzero, count);
        return Gen.Frequency<HeapOp>(
            (40, alloc),
            (6, PIndex(procs).Select(x => (HeapOp)new Acquire(x))),
            (2, Gen.Constant<HeapOp>(new Acquire(-1))),
            (6, p.Select(x => (HeapOp)new Release(x))),
            (2, p.Select(x => (HeapOp)new Flush(x))),
            (1, Gen.Zip(p, Gen.Elements(BadSizes)).Select(t => (HeapOp)new AllocBad(t.Item1, t.Item2))),
            (4, Gen.Constant<HeapOp>(new StartMark())),
            (8, from i in s_index
                from off in s_offset
                from count in Gen.Frequency((3, Gen.Constant(1)), (2, Gen.Choose(2, 400)))
                select (HeapOp)new MarkLive(i, off, count)),
            (2, Gen.Zip(s_bogus, s_index).Select(t => (HeapOp)new MarkBogus(t.Item1, t.Item2))),
            (4, Gen.Constant<HeapOp>(new FinishMark())),
            (4, Gen.Frequency((3, Gen.Constant(1)), (1, Gen.Choose(2, 50))).Select(n => (HeapOp)new SweepOne(n))),
            (2, Gen.Constant<HeapOp>(new FinishSweep())),
            (2, Gen.OneOf(
                    Gen.Elements(0L, 1L, MallocConstants.PageSize, 64 * MallocConstants.PageSize, long.MaxValue, -1L),
                    Long(1, 8 << 20))
                .Select(b => (HeapOp)new Scavenge(b))),
            (2, Gen.Constant<HeapOp>(new Stats())),
            (4, Gen.Zip(s_index, s_offset).Select(t => (HeapOp)new FindLive(t.Item1, t.Item2))),
            (2, Gen.Zip(s_bogus, s_index).Select(t => (HeapOp)new FindBogus(t.Item1, t.Item2))),
            (1, Gen.Constant<HeapOp>(new VerifyHeap())));
    }

    public static Gen<ScenarioOptions> Options { get; } =
        from procs in Gen.Choose(1, 3)
        from rate in Gen.Elements(0, 1, 4096)
        from gc in Gen.Elements(100, -1)
        from seed in Long(0, long.MaxValue)
        select new ScenarioOptions(procs, rate, gc, (ulong)seed);

    /// <summary>
    /// The wide-options property's heaps: mostly 4 to 8 Ps, GOGC values other than 100 / off, with
    /// or without OnFree / OnSample hooks (without: the production path, checked through stats and
    /// the model), StrictMarks, and often a MemoryLimit of one or two arenas (allocations run out
    /// of memory, and the heap must recover once a GC frees space). Arena hints are turned off only
    /// together with a one-arena limit: two heaps' later arenas land wherever the kernel puts them,
    /// so their offsets would not be comparable.
    /// </summary>
    public static Gen<ScenarioOptions> WideOptions { get; } =
        from procs in Gen.Frequency((1, Gen.Choose(1, 3)), (2, Gen.Choose(4, 8)))
        from rate in Gen.Elements(0, 1, 4096)
        from gc in Gen.Elements(-1, 0, 1, 25, 50, 100, 200, 1000)
        from seed in Long(0, long.MaxValue)
        from hooks in Gen.Elements(true, false)
        from strict in Gen.Elements(true, false)
        from limit in Gen.Elements(0, 1, 2)
        select new ScenarioOptions(procs, rate, gc, (ulong)seed, hooks, strict,
            limit switch { 0 => long.MaxValue, 1 => 2 * MallocConstants.HeapArenaBytes, _ => MallocConstants.HeapArenaBytes },
            UseArenaHints: limit != 2);

    /// <summary>A mutator phase: acquire a P, mostly allocate on it (with some other calls), release it.</summary>
    private static Gen<HeapOp[]> MutatorSegment(int procs, int maxLen, bool wide) =>
        from p in Gen.Choose(0, procs - 1)
        from any in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from len in Gen.Choose(1, Math.Max(1, maxLen))
        from body in Gen.Frequency<HeapOp>(
                (12, AllocOn(p)),
                (1, Gen.Constant<HeapOp>(new Flush(p))),
                (1, Op(procs, wide))).ListOf(len)
        from release in Gen.Frequency((6, Gen.Constant(true)), (1, Gen.Constant(false)))
        select (HeapOp[])[any ? new Acquire(-1) : new Acquire(p), .. body, .. release ? [new Release(any ? 0 : p)] : Array.Empty<HeapOp>()];

    /// <summary>A GC cycle: StartMark, maybe allocate black, mark objects (live, interior, bogus), FinishMark, maybe sweep.</summary>
    private static Gen<HeapOp[]> GcSegment(int procs, bool wide) =>
        from black in Gen.Frequency((2, Gen.Constant(Array.Empty<HeapOp>())), (1, MutatorSegment(procs, 6, wide)))
        from nmarks in Gen.Choose(0, 4)
        from marks in Gen.Frequency<HeapOp>(
                (6, from i in s_index
                    from off in s_offset
                    from count in Gen.Frequency((1, Gen.Constant(1)), (2, Gen.Choose(2, 2000)))
                    select (HeapOp)new MarkLive(i, off, count)),
                (1, Gen.Zip(s_bogus, s_index).Select(t => (HeapOp)new MarkBogus(t.Item1, t.Item2)))).ListOf(nmarks)
        from sweep in Gen.Frequency(
                (3, Gen.Constant(Array.Empty<HeapOp>())),
                (2, Gen.Choose(1, 40).Select(n => (HeapOp[])[new SweepOne(n)])),
                (2, Gen.Constant((HeapOp[])[new FinishSweep()])))
        select (HeapOp[])[new StartMark(), .. black, .. marks, new FinishMark(), .. sweep];

    /// <summary>An allocation on P p.</summary>
    private static Gen<HeapOp> AllocOn(int p) =>
        from size in Size
        from noscan in Gen.Frequency((1, Gen.Constant(true)), (1, Gen.Constant(false)))
        from needzero in Gen.Frequency((4, Gen.Constant(true)), (1, Gen.Constant(false)))
        from count in CountFor(size)
        select (HeapOp)new Alloc(p, size, noscan, needzero, count);

    /// <summary>
    /// A scenario of about FsCheck's size operations: mutator phases (acquire, allocate, release),
    /// GC cycles, and single random operations in between (which may be invalid in the state they
    /// meet: the interpreter knows what must throw).
    /// </summary>
    public static Gen<Scenario> Scenario { get; } = ScenarioWith(Options, wide: false);

    /// <summary>Scenarios on the rarer options (WideOptions), with SetGcPercent among the operations.</summary>
    public static Gen<Scenario> WideScenario { get; } = ScenarioWith(WideOptions, wide: true);

    private static Gen<Scenario> ScenarioWith(Gen<ScenarioOptions> options, bool wide) =>
        from o in options
        from ops in Gen.Sized(n => Segments(o.Procs, Math.Max(1, n), wide))
        select new Scenario(o, ops);

    private static Gen<ImmutableArray<HeapOp>> Segments(int procs, int size, bool wide) =>
        Gen.Frequency(
                (5, MutatorSegment(procs, 12, wide)),
                (2, GcSegment(procs, wide)),
                (2, Op(procs, wide).Select(op => (HeapOp[])[op])))
            .ListOf(Math.Max(1, size / 6))
            .Select(segs => segs.SelectMany(x => x).ToImmutableArray());

    public static Arbitrary<Scenario> Arbitrary { get; } = Arb.From(Scenario, Shrink);

    public static Arbitrary<Scenario> WideArbitrary { get; } = Arb.From(WideScenario, Shrink);

    // ---------------------------------------------------------------- shrinking

    /// <summary>Candidates simpler than s, most promising first (FsCheck takes the first that still fails).</summary>
    public static IEnumerable<Scenario> Shrink(Scenario s)
    {
        ImmutableArray<HeapOp> ops = s.Ops;
        int n = ops.Length;
        // 0. Simplify the options (cheap to try, and the counterexample reads better).
        ScenarioOptions o = s.Options;
        if (o.MemProfileRate != 0)
            yield return s with { Options = o with { MemProfileRate = 0 } };
        if (o.GcPercent != 100)
            yield return s with { Options = o with { GcPercent = 100 } };
        if (o.Procs > 1)
            yield return s with { Options = o with { Procs = o.Procs - 1 } };
        if (!o.Hooks)
            yield return s with { Options = o with { Hooks = true } };
        if (o.StrictMarks)
            yield return s with { Options = o with { StrictMarks = false } };
        if (o.MemoryLimit != long.MaxValue)
            yield return s with { Options = o with { MemoryLimit = long.MaxValue, UseArenaHints = true } };
        else if (!o.UseArenaHints)
            yield return s with { Options = o with { UseArenaHints = true } };
        // 0b. Renumber: the only P in use becomes P0.
        int[] ps = ops.Select(POf).Where(p => p >= 0).Distinct().ToArray();
        if (ps.Length == 1 && ps[0] > 0)
            yield return s with { Ops = [.. ops.Select(op => WithP(op, ps[0], 0))] };
        // 1. Drop chunks: halves, quarters, ..., single operations.
        for (int chunk = n / 2; chunk >= 1; chunk /= 2)
        {
            for (int start = 0; start + chunk <= n; start += chunk)
                yield return s with { Ops = ops.RemoveRange(start, chunk) };
        }
        // 2. Merge neighbouring allocations with the same arguments (the same heap calls, fewer steps).
        for (int i = 0; i + 1 < n; i++)
        {
            if (ops[i] is Alloc a && ops[i + 1] is Alloc b && a with { Count = b.Count } == b)
                yield return s with { Ops = ops.RemoveAt(i + 1).SetItem(i, a with { Count = a.Count + b.Count }) };
        }
        // 3. Simplify single operations.
        for (int i = 0; i < n; i++)
        {
            foreach (HeapOp simpler in ShrinkOp(ops[i]))
                yield return s with { Ops = ops.SetItem(i, simpler) };
        }
    }

    private static int POf(HeapOp op) => op switch
    {
        Acquire a => a.P,
        Release r => r.P,
        Alloc a => a.P,
        AllocBad b => b.P,
        Flush f => f.P,
        _ => -1,
    };

    private static HeapOp WithP(HeapOp op, int from, int to) => op switch
    {
        Acquire a when a.P == from => a with { P = to },
        Release r when r.P == from => r with { P = to },
        Alloc a when a.P == from => a with { P = to },
        AllocBad b when b.P == from => b with { P = to },
        Flush f when f.P == from => f with { P = to },
        _ => op,
    };

    private static IEnumerable<HeapOp> ShrinkOp(HeapOp op)
    {
        switch (op)
        {
            case Alloc a:
                foreach (int c in ShrinkCount(a.Count))
                    yield return a with { Count = c };
                foreach (long size in ShrinkSize(a.Size, a.Noscan))
                    yield return a with { Size = size, Count = Math.Min(a.Count, MaxCount(size)) };
                if (!a.NeedZero)
                    yield return a with { NeedZero = true };
                if (a.Noscan && a.Size >= SizeClasses.MaxTinySize)
                    yield return a with { Noscan = false };
                if (a.P > 0)
                    yield return a with { P = 0 };
                break;
            case MarkLive m:
                foreach (int c in ShrinkCount(m.Count))
                    yield return m with { Count = c };
                if (m.Offset != 0)
                    yield return m with { Offset = 0 };
                if (m.Index != 0)
                    yield return m with { Index = 0 };
                break;
            case SweepOne sw:
                foreach (int c in ShrinkCount(sw.Count))
                    yield return sw with { Count = c };
                break;
            case FindLive f:
                if (f.Offset != 0)
                    yield return f with { Offset = 0 };
                if (f.Index != 0)
                    yield return f with { Index = 0 };
                break;
            case Acquire a when a.P != 0:
                yield return new Acquire(0);
                break;
            case Release r when r.P > 0:
                yield return new Release(0);
                break;
            case SetGcPercent g when g.Percent != 100:
                yield return new SetGcPercent(100);
                break;
            case Scavenge sc when sc.Bytes != long.MaxValue && sc.Bytes > 0:
                yield return new Scavenge(long.MaxValue);
                break;
        }
    }

    private static int MaxCount(long size) => (int)Math.Clamp((2L << 20) / (size == 0 ? 8 : SizeOracle.RoundedSize(size)), 1, 1100);

    /// <summary>1, then halving towards the current count, then one less.</summary>
    private static IEnumerable<int> ShrinkCount(int count)
    {
        if (count <= 1)
            yield break;
        yield return 1;
        var seen = new HashSet<int> { 1, count };
        for (int d = count / 2; d >= 1; d /= 2)
        {
            if (seen.Add(count - d))
                yield return count - d;
        }
    }

    /// <summary>
    /// Strictly smaller sizes (so shrinking terminates): first the smallest size of the same class
    /// (the heap does the same thing), then the small classic sizes, then half; large sizes stay
    /// large first. Tiny noscan sizes go to 1 and half.
    /// </summary>
    private static IEnumerable<long> ShrinkSize(long size, bool noscan)
    {
        var out_ = new List<long>();
        if (size > SizeClasses.MaxSmallSize)
        {
            out_.Add(SizeClasses.MaxSmallSize + 1);
            out_.Add((size + SizeClasses.MaxSmallSize) / 2);
        }
        else if (size >= SizeClasses.MaxTinySize || !noscan)
        {
            int c = SizeOracle.SizeClassOf(size);
            out_.Add(c == 1 ? 1 : SizeClasses.ClassToSize[c - 1] + 1);
            out_.Add(16);
            out_.Add(8);
            out_.Add(size / 2);
        }
        else
        {
            out_.Add(1);
            out_.Add(size / 2);
        }
        return out_.Where(x => x < size && x > 0).Distinct();
    }
}
