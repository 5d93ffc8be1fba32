// LyingHeap: an IHeap decorator (a DelegatingHeap) that forwards every call to a real heap but
// lies in exactly one way (HeapLie), consistently: a kept object stays in the stats it reports, a
// lying Mark does not count a bad mark, a stats lie changes only the fields of its own identity
// (so the model's first failing check is that identity's). It exists to show that the heap model catches each family
// of bug (tests/Unit ModelCatchesBugsTests, tests/Properties ModelProperties): wrapped in a
// ModelCheckedHeap it must make the check throw ModelViolationException naming that identity,
// even when both heaps of a lock-step pair lie the same way.
namespace GoAlloc.Model;

public sealed class LyingHeap : DelegatingHeap
{
    private readonly HeapLie _lie;
    /// <summary>KeepsOneUnmarkedObject: the objects kept (dropped from OnFree) and their slot sizes.</summary>
    private readonly List<(nint Addr, long Size)> _kept = [];
    private bool _keptThisCycle;

    public LyingHeap(Func<HeapOptions, IHeap> factory, HeapOptions? options, HeapLie lie) : base(options)
    {
        _lie = lie;
        HeapOptions user = Options;
        Inner = factory(lie != HeapLie.KeepsOneUnmarkedObject ? user : user with
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

    public override bool Mark(nint ptr)
    {
        bool r = Inner.Mark(ptr);
        return r || _lie == HeapLie.MarkAcceptsEveryPointer;
    }

    public override void FinishMark()
    {
        Inner.FinishMark();
        _keptThisCycle = false;
    }

    public override HeapStats ReadStats()
    {
        HeapStats s = Inner.ReadStats();
        switch (_lie)
        {
            case HeapLie.HeapAllocOffByOneSlot when s.Mallocs > 0:
                return Copy(s, heapAlloc: s.HeapAlloc + 8);
            case HeapLie.MarkAcceptsEveryPointer:
                return Copy(s, badMarks: 0);
            case HeapLie.HeapObjectsOneTooMany when s.Frees > 0:
                return Copy(s, frees: s.Frees - 1);
            case HeapLie.BySizeNmallocOffByOne when s.BySize.Length > 1 && Array.FindIndex(s.BySize, 1, b => b.Mallocs > 0) is int c and > 0:
            {
                SizeClassStats[] bySize = [.. s.BySize];
                bySize[c] = bySize[c] with { Mallocs = bySize[c].Mallocs + 1 };
                return Copy(s, bySize: bySize);
            }
            case HeapLie.MallocsAndFreesOneTooHigh when s.Mallocs > 0:
                return Copy(Copy(s, frees: s.Frees + 1), nameof(HeapStats.Mallocs), s.Mallocs + 1);
            case HeapLie.TinyAllocsOffByOne when s.TinyAllocs > 0:
                return Copy(s, nameof(HeapStats.TinyAllocs), s.TinyAllocs + 1);
            case HeapLie.LargeAllocsOffByOne when s.LargeAllocs > 0:
                return Copy(s, nameof(HeapStats.LargeAllocs), s.LargeAllocs + 1);
            case HeapLie.HeapInuseOnePageShort when s.PagesInUse > 0:
                return Copy(s, nameof(HeapStats.HeapInuse), s.HeapInuse - MallocConstants.PageSize);
            case HeapLie.HeapReleasedAboveIdle when s.Mallocs > 0:
                return Copy(s, nameof(HeapStats.HeapReleased), s.HeapSys - s.HeapInuse + MallocConstants.PageSize);
            case HeapLie.HeapMarkedOffByOneSlot when s.NumGC > 0:
                return Copy(s, nameof(HeapStats.HeapMarked), s.HeapMarked + 8);
            case HeapLie.NumGcOffByOne when s.NumGC > 0:
                return Copy(s, nameof(HeapStats.NumGC), s.NumGC + 1);
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
                        int c = SizeOracle.SizeClassOf(size);
                        bySize[c] = bySize[c] with { Frees = bySize[c].Frees - 1 };
                    }
                }
                return Copy(s, heapAlloc: s.HeapAlloc + bytes, frees: s.Frees - _kept.Count, largeFrees: largeFrees, bySize: bySize);
            }
            default:
                return s;
        }
    }

    private static HeapStats Copy(HeapStats s, string field, long value) => HeapStatsFields.With(s, field, value);

    private static HeapStats Copy(HeapStats s, long? heapAlloc = null, long? frees = null, long? largeFrees = null, long? badMarks = null, SizeClassStats[]? bySize = null)
    {
        HeapStats c = HeapStatsFields.Copy(s);
        if (heapAlloc is { } a)
            c = HeapStatsFields.With(c, nameof(HeapStats.HeapAlloc), a);
        if (frees is { } f)
            c = HeapStatsFields.With(c, nameof(HeapStats.Frees), f);
        if (largeFrees is { } l)
            c = HeapStatsFields.With(c, nameof(HeapStats.LargeFrees), l);
        if (badMarks is { } b)
            c = HeapStatsFields.With(c, nameof(HeapStats.BadMarks), b);
        return bySize == null ? c : HeapStatsFields.WithBySize(c, bySize);
    }

    public override bool FindObject(nint ptr, out ObjectInfo info)
    {
        bool found = Inner.FindObject(ptr, out info);
        if (found && !info.Allocated && _lie == HeapLie.FindObjectReportsFreeSlotsAllocated)
            info = info with { Allocated = true };
        return found;
    }

    protected override IProcessor WrapProcessor(IProcessor inner) => new Processor(this, inner);

    private sealed unsafe class Processor(LyingHeap heap, IProcessor inner) : DelegatingProcessor(inner)
    {
        public override nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = InnerProcessor.Alloc(size, noscan, needzero);
            if (heap._lie == HeapLie.SkipsZeroingAfterACycle && needzero && size >= SizeClasses.MaxTinySize && heap.Inner.ReadStats().NumGC > 0)
                *(byte*)(x + (nint)size - 1) = 0x5A;
            return x;
        }
    }
}
