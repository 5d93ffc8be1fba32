// GoHeapImpl: GoAlloc's Optimized or Reference heap as an IImpl. Zeroed = Alloc(size) (scan object,
// needzero true: Go's mallocgc for a pointerful type); Raw = Alloc(size, noscan: true, needzero:
// false) (Go's mallocgc for a noscan object whose caller overwrites it, e.g. growslice's copy).
// Collect is a whole GC cycle: StartMark, Mark every live object, FinishMark, FinishSweep.
namespace GoAlloc.Peers;

public interface IHeapTag
{
    static abstract string Name { get; }
    static abstract IHeap Create(HeapOptions options);
}

public readonly struct OptimizedHeap : IHeapTag
{
    public static string Name => "optimized";
    public static IHeap Create(HeapOptions options) => new GoAlloc.Optimized.MHeap(options);
}

public readonly struct ReferenceHeap : IHeapTag
{
    public static string Name => "reference";
    public static IHeap Create(HeapOptions options) => new GoAlloc.Reference.MHeap(options);
}

public readonly struct GoHeapImpl<THeap, TZero> : IImpl
    where THeap : struct, IHeapTag
    where TZero : struct, IZeroTag
{
    private readonly IHeap _heap;
    private readonly IProcessor?[] _ps;
    private readonly long[] _peak;

    public GoHeapImpl(IHeap heap)
    {
        _heap = heap;
        _ps = new IProcessor?[heap.ProcCount];
        _peak = new long[3];
    }

    /// <summary>Memory runs: read heap_sys / heap_inuse at the start of every cycle (the workload's peak).</summary>
    public bool ProbePeak
    {
        get => _peak[2] != 0;
        init => _peak[2] = value ? 1 : 0;
    }

    /// <summary>A heap with two Ps and Go's default sampling rate (the sampling check stays on).</summary>
    public static GoHeapImpl<THeap, TZero> Create() =>
        new(THeap.Create(new HeapOptions { Procs = 2 }));

    public string Name => THeap.Name + (TZero.Zero ? "" : " raw");
    public bool Collects => true;
    public IHeap Heap => _heap;

    public void BeginThread(int id) => _ps[id] = _heap.AcquireP(id);

    public void EndThread(int id)
    {
        _ps[id]!.Release();
        _ps[id] = null;
    }

    public nint Alloc(int id, long size) =>
        TZero.Zero ? _ps[id]!.Alloc(size) : _ps[id]!.Alloc(size, noscan: true, needzero: false);

    public void Free(nint p)
    {
    }

    public void Collect(ReadOnlySpan<nint> live)
    {
        MarkTermination(live);
        _heap.FinishSweep();
    }

    public void MarkTermination(ReadOnlySpan<nint> live)
    {
        if (_peak[2] != 0)
        {
            HeapStats s = _heap.ReadStats();
            _peak[0] = Math.Max(_peak[0], s.HeapSys);
            _peak[1] = Math.Max(_peak[1], s.HeapInuse);
        }
        _heap.StartMark();
        foreach (nint p in live)
            _heap.Mark(p);
        _heap.FinishMark();
    }

    public void FinishSweep() => _heap.FinishSweep();

    /// <summary>The largest heap_sys and heap_inuse seen at a cycle's start (ProbePeak), else the current ones.</summary>
    public (long Sys, long InUse) HeapBytes()
    {
        HeapStats s = _heap.ReadStats();
        return (Math.Max(s.HeapSys, _peak[0]), Math.Max(s.HeapInuse, _peak[1]));
    }
}
