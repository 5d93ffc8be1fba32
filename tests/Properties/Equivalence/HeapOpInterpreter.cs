// HeapOpInterpreter: runs a Scenario's operations against one IHeap (a LockstepHeap for the
// equivalence property, a plain heap for the component properties) and keeps the little state the
// operations refer to: the P handles it holds, the objects it believes live, the objects it
// believes freed, the GC phase. It is also a small contract model of its own: it knows when an
// operation must throw (Alloc on a P not held, StartMark while a P is held, a bad size, ...) and
// which type it must throw, and that a live object is found by FindObject and accepted by Mark.
// Any surprise is a ScenarioFailureException naming the step; so is any exception the heap throws that the
// model did not expect (an EquivalenceException from the LockstepHeap, a HeapInvariantException
// from Verify, with its INV id in the message; a ModelViolationException from a ModelCheckedHeap,
// with the identity it broke).
// Operations that make no sense in the current state and cannot be compared (Release of a P never
// acquired) are skipped, deterministically: a shrunk scenario replays the same way every time.
using System.Collections.Immutable;
using System.Text.RegularExpressions;
using GoAlloc.Model;

namespace GoAlloc.Properties.Equivalence;

/// <summary>The first step where the heap did not behave as the model (or the other heap) says.</summary>
public sealed class ScenarioFailureException(int step, string op, Exception inner)
    : Exception($"step {step}: {op}: {inner.GetType().Name}: {inner.Message}", inner)
{
    public int Step { get; } = step;
    public string Op { get; } = op;
}

/// <summary>The interpreter's model disagreed with the heap (no second heap involved).</summary>
public sealed class ModelMismatchException(string message) : Exception(message);

public sealed class HeapOpInterpreter
{
    private readonly IHeap _heap;
    private readonly int _procs;
    private readonly Dictionary<int, IProcessor> _handles = [];
    private readonly HashSet<int> _held = [];
    /// <summary>Objects believed allocated: every object allocated since, or marked in, the last FinishMark.</summary>
    private readonly List<Obj> _live = [];
    /// <summary>Objects believed freed (their memory may have been reused since); the last 256.</summary>
    private readonly List<nint> _dead = [];
    private readonly HashSet<nint> _markedThisCycle = [];
    private bool _marking;
    /// <summary>Completed GC cycles (FinishMark calls), and the cycle in which each P was last acquired.</summary>
    private int _cycles;
    private readonly Dictionary<int, int> _acquiredInCycle = [];

    /// <summary>Called after every step (operation) that completed, with its number; epilogue steps get the operation count.</summary>
    public Action<int>? AfterStep { get; init; }

    /// <summary>Called right after a successful FinishMark (the relabeling point of the sweepgen state machine).</summary>
    public Action<int>? AfterFinishMark { get; init; }

    private readonly record struct Obj(nint Addr, long Size, bool Tiny, bool AllocatedWhileMarking);

    public HeapOpInterpreter(IHeap heap)
    {
        _heap = heap;
        _procs = heap.ProcCount;
        _oomPossible = heap.Options.MemoryLimit != long.MaxValue;
        _strictMarks = heap.Options.StrictMarks;
    }

    /// <summary>Under a MemoryLimit any allocation may throw OutOfMemoryException (the heap must stay usable).</summary>
    private readonly bool _oomPossible;
    /// <summary>Under StrictMarks a bogus Mark throws ArgumentOutOfRangeException instead of returning false.</summary>
    private readonly bool _strictMarks;

    /// <summary>Live objects the interpreter tracks (for tests of the interpreter itself).</summary>
    public int LiveCount => _live.Count;

    /// <summary>Runs every operation, then the epilogue (release Ps, finish the cycle, sweep, Verify).</summary>
    public void Run(ImmutableArray<HeapOp> ops)
    {
        for (int i = 0; i < ops.Length; i++)
            Step(i, ops[i]);
        Epilogue(ops.Length);
    }

    /// <summary>Release every held P, end a mark phase in progress, FinishSweep and Verify.</summary>
    public void Epilogue(int step)
    {
        foreach (int p in _held.Order().ToList())
            Step(step, new Release(p));
        if (_marking)
            Step(step, new FinishMark());
        Step(step, new FinishSweep());
        Step(step, new VerifyHeap());
    }

    public void Step(int step, HeapOp op)
    {
        try
        {
            Execute(step, op);
            AfterStep?.Invoke(step);
        }
        catch (ScenarioFailureException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new ScenarioFailureException(step, op.ToString()!, e);
        }
    }

    private void Execute(int step, HeapOp op)
    {
        switch (op)
        {
            case Acquire a:
                DoAcquire(step, a);
                break;
            case Release r:
                if (!_handles.TryGetValue(r.P, out IProcessor? rp))
                    return; // never acquired: nothing to call it on
                Expect(step, _held.Contains(r.P) ? null : typeof(InvalidOperationException), () => rp.Release());
                _held.Remove(r.P);
                break;
            case Alloc a:
                DoAlloc(step, a);
                break;
            case AllocBad b:
                if (!_handles.TryGetValue(b.P, out IProcessor? bp))
                    return;
                Expect(step, _held.Contains(b.P) ? typeof(ArgumentOutOfRangeException) : typeof(InvalidOperationException), () => bp.Alloc(b.Size));
                break;
            case Flush f:
                if (!_handles.TryGetValue(f.P, out IProcessor? fp))
                    return;
                Expect(step, _held.Contains(f.P) ? null : typeof(InvalidOperationException), fp.Flush);
                break;
            case StartMark:
                if (Expect(step, _held.Count > 0 || _marking ? typeof(InvalidOperationException) : null, _heap.StartMark))
                {
                    _marking = true;
                    _markedThisCycle.Clear();
                }
                break;
            case MarkLive m:
                DoMarkLive(step, m);
                break;
            case MarkBogus m:
                Expect(step, _marking ? null : typeof(InvalidOperationException), () => _heap.Mark(Bogus(m.Kind, m.Index)),
                    _marking && _strictMarks ? typeof(ArgumentOutOfRangeException) : null);
                break;
            case SetGcPercent g:
                Expect(step, null, () => _heap.SetGcPercent(g.Percent));
                break;
            case FinishMark:
                if (Expect(step, _held.Count > 0 || !_marking ? typeof(InvalidOperationException) : null, _heap.FinishMark))
                    EndCycle(step);
                break;
            case SweepOne s:
                for (int i = 0; i < s.Count; i++)
                {
                    long r = 0;
                    Expect(step, null, () => r = _heap.SweepOne());
                    if (r == -1)
                        break;
                }
                break;
            case FinishSweep:
                Expect(step, null, _heap.FinishSweep);
                break;
            case Scavenge s:
                Expect(step, s.Bytes < 0 ? typeof(ArgumentOutOfRangeException) : null, () => _heap.Scavenge(s.Bytes));
                break;
            case Stats:
                Expect(step, null, () => _heap.ReadStats());
                break;
            case FindLive f:
                DoFindLive(step, f);
                break;
            case FindBogus f:
                Expect(step, null, () => _heap.FindObject(Bogus(f.Kind, f.Index), out _));
                break;
            case VerifyHeap:
                _heap.Verify(); // a HeapInvariantException (with its INV id) fails the scenario
                break;
            default:
                throw new ArgumentException($"unknown operation {op}");
        }
    }

    /// <summary>
    /// Runs call; it must throw exactly <paramref name="expected"/> (null: must not throw), or
    /// <paramref name="alsoOk"/> when given (an outcome the options allow but the interpreter cannot
    /// predict: OutOfMemoryException under a MemoryLimit, a refused bogus Mark under StrictMarks;
    /// the lock-step heap still requires both heaps to agree). True if it did not throw.
    /// </summary>
    private static bool Expect(int step, Type? expected, Action call, Type? alsoOk = null)
    {
        Exception? got = null;
        try
        {
            call();
        }
        catch (Exception e) when (e is not GoAlloc.Replay.EquivalenceException && e is not HeapInvariantException && e is not GoAlloc.Model.ModelViolationException)
        {
            got = e;
        }
        if (got != null && alsoOk != null && got.GetType() == alsoOk)
            return false;
        if (got?.GetType() != expected)
        {
            if (got != null)
                throw new ModelMismatchException($"threw {got.GetType().Name} ({got.Message}), expected {(expected == null ? "no exception" : expected.Name)}");
            throw new ModelMismatchException($"returned normally, expected {expected!.Name}");
        }
        return got == null;
    }

    private void DoAcquire(int step, Acquire a)
    {
        IProcessor? p = null;
        Type? expected;
        if (a.P < 0)
            expected = _held.Count == _procs ? typeof(InvalidOperationException) : null;
        else if (a.P >= _procs)
            expected = typeof(ArgumentOutOfRangeException);
        else
            expected = _held.Contains(a.P) ? typeof(InvalidOperationException) : null;
        if (!Expect(step, expected, () => p = a.P < 0 ? _heap.AcquireP() : _heap.AcquireP(a.P)))
            return;
        int want = a.P >= 0 ? a.P : Enumerable.Range(0, _procs).First(i => !_held.Contains(i));
        if (p!.Id != want)
            throw new ModelMismatchException($"acquired P{p.Id}, expected P{want} (the lowest idle P)");
        _handles[p.Id] = p;
        _held.Add(p.Id);
        _acquiredInCycle[p.Id] = _cycles;
    }

    private void DoAlloc(int step, Alloc a)
    {
        if (!_handles.TryGetValue(a.P, out IProcessor? p))
            return;
        bool held = _held.Contains(a.P);
        for (int i = 0; i < a.Count; i++)
        {
            nint x = 0;
            try
            {
                if (!Expect(step, held ? null : typeof(InvalidOperationException), () => x = p.Alloc(a.Size, a.Noscan, a.NeedZero),
                        held && _oomPossible ? typeof(OutOfMemoryException) : null))
                    return; // not held, or out of memory: one refused call says it all
            }
            catch (Exception e) when (a.Count > 1 && e is not ScenarioFailureException)
            {
                throw new ScenarioFailureException(step, $"{a} (allocation {i + 1} of {a.Count})", e);
            }
            if (a.Size == 0)
            {
                if (x != _heap.ZeroBase)
                    throw new ModelMismatchException($"Alloc(0) returned 0x{x:x}, not zerobase 0x{_heap.ZeroBase:x}");
                continue;
            }
            _live.Add(new Obj(x, a.Size, a.Noscan && a.Size < SizeClasses.MaxTinySize, _marking));
        }
    }

    private void DoMarkLive(int step, MarkLive m)
    {
        if (_live.Count == 0)
            return;
        int n = Math.Min(m.Count, _live.Count);
        for (int k = 0; k < n; k++)
        {
            Obj o = _live[(int)((uint)(m.Index + k) % (uint)_live.Count)];
            nint ptr = o.Addr + (nint)((uint)m.Offset % (ulong)o.Size);
            bool marked = false;
            if (!Expect(step, _marking ? null : typeof(InvalidOperationException), () => marked = _heap.Mark(ptr)))
                return;
            if (!marked)
                throw new ModelMismatchException($"Mark(0x{ptr:x}) refused live object 0x{o.Addr:x} of {o.Size} bytes");
            _markedThisCycle.Add(o.Addr);
        }
    }

    private void DoFindLive(int step, FindLive f)
    {
        if (_live.Count == 0)
            return;
        Obj o = _live[(int)((uint)f.Index % (uint)_live.Count)];
        nint ptr = o.Addr + (nint)((uint)f.Offset % (ulong)o.Size);
        bool found = false;
        ObjectInfo info = default;
        Expect(step, null, () => found = _heap.FindObject(ptr, out info));
        nint wantBase = o.Tiny ? o.Addr & ~(nint)(SizeClasses.MaxTinySize - 1) : o.Addr;
        long wantSize = o.Tiny ? SizeClasses.MaxTinySize : SizeOracle.RoundedSize(o.Size);
        if (!found || !info.Allocated || info.Base != wantBase || info.Size != wantSize)
        {
            throw new ModelMismatchException($"FindObject(0x{ptr:x}) of live object 0x{o.Addr:x} ({o.Size} bytes): " +
                (found ? $"base 0x{info.Base:x} size {info.Size} allocated {info.Allocated}, expected base 0x{wantBase:x} size {wantSize} allocated" : "not found"));
        }
    }

    /// <summary>FinishMark: objects neither marked nor allocated during marking are now garbage.</summary>
    private void EndCycle(int step)
    {
        _marking = false;
        _cycles++;
        var keep = new List<Obj>();
        foreach (Obj o in _live)
        {
            // Allocate-black covers every object allocated while marking, tiny ones included (the
            // block they are combined into is marked too; FinishMark also marks every P's tiny block).
            bool black = o.AllocatedWhileMarking;
            if (black || _markedThisCycle.Contains(o.Addr))
            {
                keep.Add(o with { AllocatedWhileMarking = false });
            }
            else if (!o.Tiny)
            {
                // A tiny object shares its block: the block may survive through a neighbour.
                _dead.Add(o.Addr);
            }
        }
        _live.Clear();
        _live.AddRange(keep);
        if (_dead.Count > 256)
            _dead.RemoveRange(0, _dead.Count - 256);
        _markedThisCycle.Clear();
        AfterFinishMark?.Invoke(step);
    }

    private nint Bogus(BogusKind kind, int index)
    {
        nint arena = _heap.ArenaBase;
        switch (kind)
        {
            case BogusKind.Small:
                return 0x1000;
            case BogusKind.ZeroBase:
                return _heap.ZeroBase;
            case BogusKind.BelowArena:
                return arena == 0 ? 0x2000 : arena - 8;
            case BogusKind.ArenaTail:
                return arena == 0 ? 0x3000 : arena + (nint)MallocConstants.HeapArenaBytes - 8;
            case BogusKind.DeadObject:
                return _dead.Count == 0 ? 0x4000 : _dead[(int)((uint)index % (uint)_dead.Count)];
            case BogusKind.PastObject:
            case BogusKind.FarSlot:
            {
                if (_live.Count == 0)
                    return 0x5000;
                Obj o = _live[(int)((uint)index % (uint)_live.Count)];
                long slot = o.Tiny ? SizeClasses.MaxTinySize : SizeOracle.RoundedSize(o.Size);
                return o.Addr + (nint)(slot * (kind == BogusKind.PastObject ? 1 : 64));
            }
            case BogusKind.Unmapped:
                return unchecked((nint)(1L << 46));
            case BogusKind.Negative:
                return -16;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }
}
