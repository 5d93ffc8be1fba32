// LyingHeap: an IHeap decorator that forwards every call to a real heap but lies in exactly one way
// (HeapLie), consistently: a kept object stays in the stats it reports, a lying Mark does not count
// a bad mark. It exists to show that the heap model catches each family of bug (tests/Unit
// ModelCatchesBugsTests, tests/Properties ModelProperties): wrapped in a ModelCheckedHeap it must
// make the check throw ModelViolationException naming that identity, even when both heaps of a
// lock-step pair lie the same way.
namespace GoAlloc.Model;

public sealed class LyingHeap : IHeap
{
    private readonly IHeap _inner;
    private readonly HeapOptions _options;
    private readonly HeapLie _lie;
    /// <summary>KeepsOneUnmarkedObject: the objects kept (dropped from OnFree) and their slot sizes.</summary>
    private readonly List<(nint Addr, long Size)> _kept = [];
    private bool _keptThisCycle;

    public LyingHeap(Func<HeapOptions, IHeap> factory, HeapOptions? options, HeapLie lie)
    {
        _options = options ?? new HeapOptions();
        _lie = lie;
        HeapOptions user = _options;
        _inner = factory(lie != HeapLie.KeepsOneUnmarkedObject ? user : user with
        {
            OnFree = (p, n) =>
            {
                if (!_keptThisCycle)
                {
                    _keptThisCycle = true;
                    _kept.Add((p, n));
                    return;
                }
                user.OnFree?.Invoke(p, n);
            },
        });
    }

    public HeapOptions Options => _options;
    public nint ArenaBase => _inner.ArenaBase;
    public nint ZeroBase => _inner.ZeroBase;
    public int ProcCount => _inner.ProcCount;
    public GcPhase Phase => _inner.Phase;
    public bool SweepDone => _inner.SweepDone;
    public IProcessor AcquireP() => new Processor(this, _inner.AcquireP());
    public IProcessor AcquireP(int id) => new Processor(this, _inner.AcquireP(id));
    public void StartMark() => _inner.StartMark();

    public bool Mark(nint ptr)
    {
        bool r = _inner.Mark(ptr);
        return r || _lie == HeapLie.MarkAcceptsEveryPointer;
    }

    public void FinishMark()
    {
        _inner.FinishMark();
        _keptThisCycle = false;
    }

    public long SweepOne() => _inner.SweepOne();
    public void FinishSweep() => _inner.FinishSweep();
    public void StartBackgroundSweeper() => _inner.StartBackgroundSweeper();
    public void StopBackgroundSweeper() => _inner.StopBackgroundSweeper();
    public void SetGcPercent(int percent) => _inner.SetGcPercent(percent);
    public long Scavenge(long bytes) => _inner.Scavenge(bytes);

    public HeapStats ReadStats()
    {
        HeapStats s = _inner.ReadStats();
        switch (_lie)
        {
            case HeapLie.HeapAllocOffByOneSlot when s.Mallocs > 0:
                return Copy(s, heapAlloc: s.HeapAlloc + 8);
            case HeapLie.MarkAcceptsEveryPointer:
                return Copy(s, badMarks: 0);
            case HeapLie.KeepsOneUnmarkedObject when _kept.Count > 0:
            {
                SizeClassStats[] bySize = [.. s.BySize];
                long largeFrees = s.LargeFrees, bytes = 0;
                foreach ((nint _, long size) in _kept)
                {
                    bytes += size;
                    if (size > SizeClasses.MaxSmallSize)
                        largeFrees--;
                    else
                    {
                        int c = HeapModel.SizeClassOf(size);
                        bySize[c] = bySize[c] with { Frees = bySize[c].Frees - 1 };
                    }
                }
                return Copy(s, heapAlloc: s.HeapAlloc + bytes, frees: s.Frees - _kept.Count, largeFrees: largeFrees, bySize: bySize);
            }
            default:
                return s;
        }
    }

    private static HeapStats Copy(HeapStats s, long? heapAlloc = null, long? frees = null, long? largeFrees = null, long? badMarks = null, SizeClassStats[]? bySize = null) => new()
    {
        HeapSys = s.HeapSys,
        HeapInuse = s.HeapInuse,
        HeapReleased = s.HeapReleased,
        HeapAlloc = heapAlloc ?? s.HeapAlloc,
        Mallocs = s.Mallocs,
        Frees = frees ?? s.Frees,
        TinyAllocs = s.TinyAllocs,
        LargeAllocs = s.LargeAllocs,
        LargeFrees = largeFrees ?? s.LargeFrees,
        BySize = bySize ?? s.BySize,
        NumGC = s.NumGC,
        SweepGen = s.SweepGen,
        PagesInUse = s.PagesInUse,
        PagesSwept = s.PagesSwept,
        HeapLive = s.HeapLive,
        HeapMarked = s.HeapMarked,
        BadMarks = badMarks ?? s.BadMarks,
        ProfileSamples = s.ProfileSamples,
        Arenas = s.Arenas,
    };

    public bool FindObject(nint ptr, out ObjectInfo info)
    {
        bool found = _inner.FindObject(ptr, out info);
        if (found && !info.Allocated && _lie == HeapLie.FindObjectReportsFreeSlotsAllocated)
            info = info with { Allocated = true };
        return found;
    }

    public void Verify() => _inner.Verify();
    public void Dispose() => _inner.Dispose();

    private sealed unsafe class Processor(LyingHeap heap, IProcessor inner) : IProcessor
    {
        public int Id => inner.Id;

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = inner.Alloc(size, noscan, needzero);
            if (heap._lie == HeapLie.SkipsZeroingAfterACycle && needzero && size >= SizeClasses.MaxTinySize && heap._inner.ReadStats().NumGC > 0)
                *(byte*)(x + (nint)size - 1) = 0x5A;
            return x;
        }

        public void Flush() => inner.Flush();
        public void Release() => inner.Release();
    }
}
