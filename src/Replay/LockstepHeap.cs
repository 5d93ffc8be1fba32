// LockstepHeap: the equivalence contract as an IHeap. Every call runs on two heaps (normally the
// Reference and the Optimized) and the results are compared right away: addresses as offsets from
// each heap's first arena (ZeroBase maps to ZeroBase), the exception type when one throws,
// FindObject / Mark / SweepOne / Scavenge results, the objects each sweep freed and each sample
// taken (through the OnFree / OnSample hooks, unless built with hooks: false), and the full
// HeapStats after every operation that is not an allocation or a Mark and after every
// StatsEvery-th of those (1 = all of them): which operations count toward StatsEvery is decided by
// the operation's kind, given by each caller. The first difference throws EquivalenceException
// naming the operation and the two heaps by the names they were given (by default the
// implementation each factory built: "reference", "optimized", or the heap's type name).
// Out of memory on either heap is rethrown as is (a host failure, not a difference), except that
// under a MemoryLimit one heap refusing while the other serves is a difference.
// Single-threaded use only: that is where the contract holds.
// No Go counterpart: Go has one allocator; this checks GoAlloc's two against each other.
using GoAlloc.Model;

namespace GoAlloc.Replay;

public sealed class EquivalenceException(string message) : Exception(message);

public sealed class LockstepHeap : IHeap
{
    /// <summary>How an operation's side effects are compared: full stats at once, or counted toward StatsEvery.</summary>
    internal enum OperationKind
    {
        /// <summary>Every operation but the two below: full stats are compared after it.</summary>
        Other,
        /// <summary>An allocation (the replay's bulk): counted toward StatsEvery.</summary>
        Alloc,
        /// <summary>A Mark (one per live object per cycle): counted toward StatsEvery.</summary>
        Mark,
    }

    private readonly IHeap _a, _b;
    private readonly string _nameA, _nameB;
    private readonly List<(long Offset, long Size)> _freedA = [], _freedB = [];
    private readonly List<(long Offset, long Size, int P)> _sampledA = [], _sampledB = [];
    private readonly HeapOptions _options;
    private long _ops;

    /// <param name="factoryA">The oracle (its results are what callers see).</param>
    /// <param name="factoryB">The implementation checked against it.</param>
    /// <param name="hooks">Compare frees and samples through OnFree / OnSample; false: both heaps get
    /// the caller's options unchanged (the production path without hooks) and are compared through
    /// every other channel, stats included.</param>
    /// <param name="nameA">The oracle's name in reports (default: <see cref="NameOf"/> of its heap).</param>
    /// <param name="nameB">The checked heap's name in reports (default: <see cref="NameOf"/> of its heap).</param>
    public LockstepHeap(Func<HeapOptions, IHeap> factoryA, Func<HeapOptions, IHeap> factoryB, HeapOptions? options = null, int statsEvery = 1, bool hooks = true,
        string? nameA = null, string? nameB = null)
    {
        _options = options ?? new HeapOptions();
        HeapOptions user = _options;
        IHeap? a = null, b = null;
        StatsEvery = Math.Max(1, statsEvery);
        if (!hooks)
        {
            _a = factoryA(user);
            _b = factoryB(user);
            (_nameA, _nameB) = (nameA ?? NameOf(_a), nameB ?? NameOf(_b));
            return;
        }
        _a = a = factoryA(user with
        {
            OnFree = (p, n) => { _freedA.Add((p - a!.ArenaBase, n)); user.OnFree?.Invoke(p, n); },
            OnSample = s => { _sampledA.Add((s.Address - a!.ArenaBase, s.Size, s.P)); user.OnSample?.Invoke(s); },
        });
        _b = b = factoryB(user with
        {
            OnFree = (p, n) => _freedB.Add((p - b!.ArenaBase, n)),
            OnSample = s => _sampledB.Add((s.Address - b!.ArenaBase, s.Size, s.P)),
        });
        (_nameA, _nameB) = (nameA ?? NameOf(_a), nameB ?? NameOf(_b));
    }

    /// <summary>
    /// A heap's default name in reports: the implementation ("reference", "optimized") under any
    /// wrappers (IHeapWrapper: the model check, the test doubles), else its type's name.
    /// </summary>
    public static string NameOf(IHeap heap) => heap is IHeapWrapper w ? NameOf(w.Inner) : heap.GetType().Namespace switch
    {
        "GoAlloc.Reference" => HeapFactories.Reference,
        "GoAlloc.Optimized" => HeapFactories.Optimized,
        _ => heap.GetType().Name,
    };

    /// <summary>The names the two heaps go by in reports.</summary>
    public (string A, string B) Names => (_nameA, _nameB);

    public IHeap A => _a;
    public IHeap B => _b;
    /// <summary>Full stats are compared after every non-allocating operation and after every StatsEvery-th allocation.</summary>
    public int StatsEvery { get; set; }
    private int _allocsSinceStats;
    /// <summary>Operations compared so far.</summary>
    public long Operations => _ops;

    public HeapOptions Options => _options;
    public nint ArenaBase => _a.ArenaBase;
    public nint ZeroBase => _a.ZeroBase;
    public int ProcCount => _a.ProcCount;
    public GcPhase Phase => Same("Phase", _a.Phase, _b.Phase);
    public bool SweepDone => Same("SweepDone", _a.SweepDone, _b.SweepDone);

    private static EquivalenceException Fail(string what) => new(what);

    private T Same<T>(string op, T a, T b)
    {
        if (!EqualityComparer<T>.Default.Equals(a, b))
            throw Fail($"{op}: {_nameA}={a} {_nameB}={b}");
        return a;
    }

    /// <summary>An address of heap A as an offset, or a marker for addresses outside the heap.</summary>
    private static long Offset(IHeap h, nint p) => p == h.ZeroBase ? long.MinValue : p - h.ArenaBase;

    /// <summary>The heap-B address that corresponds to heap-A address p.</summary>
    internal nint Translate(nint p)
    {
        if (p == _a.ZeroBase)
            return _b.ZeroBase;
        if (_a.ArenaBase == 0 || p < _a.ArenaBase || p - _a.ArenaBase >= 1L << 40)
            return p; // not a heap address: pass it through unchanged (both reject it)
        return _b.ArenaBase + (p - _a.ArenaBase);
    }

    /// <summary>Runs op on both heaps; results must match, or both must throw the same exception type.</summary>
    internal T Both<T>(string op, Func<IHeap, T> fa, Func<IHeap, T> fb, Func<T, T, bool> equal, Func<T, string> show,
        Func<T, string>? showB = null, OperationKind kind = OperationKind.Other)
    {
        showB ??= show; // results that hold addresses show each heap's own offset
        T ra = default!, rb = default!;
        Exception? ea = null, eb = null;
        try
        {
            ra = fa(_a);
        }
        catch (Exception e) when (e is not EquivalenceException)
        {
            ea = e;
        }
        try
        {
            rb = fb(_b);
        }
        catch (Exception e) when (e is not EquivalenceException)
        {
            eb = e;
        }
        _ops++;
        // Out of memory on either side is the host's failure, not a difference between the heaps,
        // unless the heaps have a MemoryLimit: then the limit decides, and only one heap refusing
        // is a difference (compared below like any other exception).
        bool limited = _options.MemoryLimit != long.MaxValue;
        if ((ea is OutOfMemoryException || eb is OutOfMemoryException) && !(limited && (ea is null || eb is null)))
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ea is OutOfMemoryException ? ea : eb!).Throw();
        if (ea != null || eb != null)
        {
            if (ea?.GetType() != eb?.GetType())
                throw Fail($"{op}: {_nameA} {(ea == null ? "returned " + show(ra) : "threw " + ea.GetType().Name + ": " + ea.Message)}; {_nameB} {(eb == null ? "returned " + showB(rb) : "threw " + eb.GetType().Name + ": " + eb.Message)}");
            if (ea is not ObjectDisposedException)
                CheckSideEffects(op, always: true);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ea!).Throw();
        }
        if (!equal(ra, rb))
            throw Fail($"{op}: {_nameA}={show(ra)} {_nameB}={showB(rb)}");
        // Allocations and marks (the replay's bulk: a Mark per live object per cycle) are counted
        // toward StatsEvery; every other operation compares full stats at once.
        CheckSideEffects(op, always: kind == OperationKind.Other);
        return ra;
    }

    private void CheckSideEffects(string op, bool always)
    {
        if (!_freedA.SequenceEqual(_freedB))
            throw Fail($"{op}: the sweeps freed different objects: {_nameA} [{Show(_freedA)}] {_nameB} [{Show(_freedB)}]");
        if (!_sampledA.SequenceEqual(_sampledB))
            throw Fail($"{op}: different heap-profile samples: {_nameA} [{string.Join(", ", _sampledA)}] {_nameB} [{string.Join(", ", _sampledB)}]");
        _freedA.Clear();
        _freedB.Clear();
        _sampledA.Clear();
        _sampledB.Clear();
        // Stats after every operation other than Alloc and Mark, and after every StatsEvery-th of those.
        if (always || ++_allocsSinceStats >= StatsEvery)
        {
            _allocsSinceStats = 0;
            CompareStats(op);
        }
    }

    private static string Show(List<(long Offset, long Size)> l) =>
        string.Join(", ", l.Take(8).Select(x => $"+0x{x.Offset:x}/{x.Size}")) + (l.Count > 8 ? $" ... ({l.Count})" : "");

    /// <summary>Compares the full stats of both heaps.</summary>
    public void CompareStats(string op)
    {
        HeapStats sa = _a.ReadStats(), sb = _b.ReadStats();
        List<string> diff = sa.Diff(sb);
        if (diff.Count > 0)
            throw Fail($"after {op}: stats differ ({_nameA} != {_nameB}): {string.Join("; ", diff.Take(6))}");
    }

    private void Void(string op, Action<IHeap> f) =>
        Both(op, h => { f(h); return 0; }, h => { f(h); return 0; }, (_, _) => true, _ => "");

    public IProcessor AcquireP()
    {
        IProcessor? pa = null, pb = null;
        Both("AcquireP()", h => (pa = h.AcquireP()).Id, h => (pb = h.AcquireP()).Id, (x, y) => x == y, x => $"P{x}");
        return new LockstepProcessor(this, pa!, pb!);
    }

    public IProcessor AcquireP(int id)
    {
        IProcessor? pa = null, pb = null;
        Both($"AcquireP({id})", h => (pa = h.AcquireP(id)).Id, h => (pb = h.AcquireP(id)).Id, (x, y) => x == y, x => $"P{x}");
        return new LockstepProcessor(this, pa!, pb!);
    }

    public void StartMark() => Void("StartMark()", h => h.StartMark());
    public void FinishMark() => Void("FinishMark()", h => h.FinishMark());
    public void FinishSweep() => Void("FinishSweep()", h => h.FinishSweep());
    public void StartBackgroundSweeper() => ThrowSingleThreaded();
    public void StopBackgroundSweeper() => ThrowSingleThreaded();

    private void ThrowSingleThreaded()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw new NotSupportedException("the lockstep heap is single-threaded: no background sweeper");
    }

    public bool Mark(nint ptr) =>
        Both($"Mark(+0x{Offset(_a, ptr):x})", h => h.Mark(ptr), h => h.Mark(Translate(ptr)), (x, y) => x == y, x => x.ToString(),
            kind: OperationKind.Mark);

    public long SweepOne() => Both("SweepOne()", h => h.SweepOne(), h => h.SweepOne(), (x, y) => x == y, x => x.ToString());

    public void SetGcPercent(int percent) => Void($"SetGcPercent({percent})", h => h.SetGcPercent(percent));

    public long Scavenge(long bytes) => Both($"Scavenge({bytes})", h => h.Scavenge(bytes), h => h.Scavenge(bytes), (x, y) => x == y, x => x.ToString());

    public HeapStats ReadStats()
    {
        HeapStats? sa = null;
        Void("ReadStats()", h =>
        {
            if (h == _a)
                sa = h.ReadStats();
            else
                h.ReadStats();
        });
        CompareStats("ReadStats()");
        return sa!;
    }

    public bool FindObject(nint ptr, out ObjectInfo info)
    {
        (bool Found, ObjectInfo Info, long BaseOff) Run(IHeap h, nint p)
        {
            bool found = h.FindObject(p, out ObjectInfo i);
            return (found, i, found ? i.Base - h.ArenaBase : 0);
        }
        var r = Both($"FindObject(+0x{Offset(_a, ptr):x})", h => Run(h, ptr), h => Run(h, Translate(ptr)),
            (x, y) => x.Found == y.Found && x.BaseOff == y.BaseOff && x.Info.Size == y.Info.Size && x.Info.SpanClass == y.Info.SpanClass && x.Info.Allocated == y.Info.Allocated,
            x => x.Found ? $"+0x{x.BaseOff:x} size={x.Info.Size} class={x.Info.SpanClass} allocated={x.Info.Allocated}" : "not found");
        info = r.Info;
        return r.Found;
    }

    public void Verify() => Void("Verify()", h => h.Verify());

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _a.Dispose();
        _b.Dispose();
    }

    private sealed class LockstepProcessor(LockstepHeap heap, IProcessor pa, IProcessor pb) : IProcessor
    {
        public int Id => pa.Id;

        public nint Alloc(long size, bool noscan = false, bool needzero = true) =>
            heap.Both($"P{Id}.Alloc({size}, noscan: {noscan}, needzero: {needzero})",
                _ => pa.Alloc(size, noscan, needzero), _ => pb.Alloc(size, noscan, needzero),
                (x, y) => Offset(heap._a, x) == Offset(heap._b, y),
                x => x == heap._a.ZeroBase ? "zerobase" : $"+0x{x - heap._a.ArenaBase:x}",
                y => y == heap._b.ZeroBase ? "zerobase" : $"+0x{y - heap._b.ArenaBase:x}",
                OperationKind.Alloc);

        public void Flush() => heap.Void($"P{Id}.Flush()", h => (h == heap._a ? pa : pb).Flush());

        public void Release() => heap.Void($"P{Id}.Release()", h => (h == heap._a ? pa : pb).Release());
    }
}
