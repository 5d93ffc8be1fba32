// ModelCheckedHeap: an IHeap decorator that runs every call on the heap it wraps and then checks the
// heap against a HeapModel: the call's answer (the address Alloc returned and its bytes, Mark's and
// FindObject's answers, what each sweep freed through OnFree) and, after the call, the stats
// identities (every call; Alloc and Mark: every CheckEvery-th) and the sweep set whenever the heap
// reports sweep done. ReadStats itself passes the snapshot on unchecked (the check after each call
// already covers it), so a caller comparing stats after a violation does not mask it. The first disagreement throws ModelViolationException naming the identity; a
// violation seen inside a hook (OnFree runs in the middle of a sweep) is held and thrown once the
// call has returned, so the heap is never left half-way through a sweep.
// Hooks: by default it installs OnFree / OnSample (chained after the caller's own), so the model
// sees every free; with hooks: false the heap gets the caller's options unchanged (the production
// path with no hook) and the model infers frees at sweep-done points.
// Sweep pacing (PacingModel, INV-PACE-1..3): re-paced after FinishMark and SetGcPercent from the
// stats the heap reports then; checked with every stats check, and after every Alloc that took a
// span (a refill, seen through OnTrace when hooks are on) or made a large object.
// Single-threaded: no background sweeper (Start/StopBackgroundSweeper throw NotSupportedException).
namespace GoAlloc.Model;

public sealed class ModelCheckedHeap : IHeap, IHeapWrapper
{
    private readonly IHeap _inner;
    private readonly HeapOptions _options;
    private ModelViolationException? _pending;
    private int _sinceCheck;
    private int _gcPercent;
    /// <summary>OnTrace saw a refill since the last Alloc returned.</summary>
    private bool _refilled;

    /// <param name="factory">Makes the heap under test from the options (with the model's hooks added).</param>
    /// <param name="options">The caller's options (its own OnFree / OnSample still run).</param>
    /// <param name="hooks">Install OnFree / OnSample for the model; false: the heap runs without them.</param>
    /// <param name="checkEvery">Full stats checks after every call, and after every n-th Alloc or Mark.</param>
    /// <param name="fill">Fill each object with HeapModel.Pattern after its checks (off when the caller writes its own).</param>
    public ModelCheckedHeap(Func<HeapOptions, IHeap> factory, HeapOptions? options = null, bool hooks = true, int checkEvery = 1, bool fill = true)
    {
        _options = options ?? new HeapOptions();
        HeapOptions user = _options;
        Model = new HeapModel(user.Procs, seesFrees: hooks, seesSamples: hooks, strictMarks: user.StrictMarks, fillObjects: fill);
        CheckEvery = Math.Max(1, checkEvery);
        _gcPercent = user.GcPercent;
        Pacing = new PacingModel(seesDrain: hooks);
        PacingModel pacing = Pacing;
        HeapModel model = Model;
        _inner = factory(!hooks ? user : user with
        {
            OnTrace = e =>
            {
                user.OnTrace?.Invoke(e);
                if (e.Kind == HeapTraceKind.Refill)
                    _refilled = true;
                else if (e.Kind == HeapTraceKind.MarkDrained)
                    pacing.SweepDrained();
            },
            OnFree = (p, n) =>
            {
                user.OnFree?.Invoke(p, n);
                Hold(() => model.Freed(p, n));
            },
            OnSample = s =>
            {
                user.OnSample?.Invoke(s);
                model.Sampled();
            },
        });
    }

    public HeapModel Model { get; }
    /// <summary>The sweep pacing the heap must keep to (INV-PACE-1..3).</summary>
    public PacingModel Pacing { get; }
    public IHeap Inner => _inner;
    public int CheckEvery { get; set; }
    /// <summary>Calls checked so far.</summary>
    public long Checks { get; private set; }

    /// <summary>Set by the first violation: the report is that one; later calls are not checked (the model's state no longer fits the heap).</summary>
    public bool Broken { get; private set; }

    private void Hold(Action check)
    {
        if (Broken)
            return;
        try
        {
            check();
        }
        catch (ModelViolationException e)
        {
            _pending ??= e;
        }
    }

    private void ThrowPending()
    {
        if (_pending is { } e)
        {
            _pending = null;
            Broken = true;
            throw e;
        }
    }

    /// <summary>Runs a model update or check unless the model is broken; a violation breaks it.</summary>
    private void Check(Action check)
    {
        if (Broken)
            return;
        try
        {
            check();
        }
        catch (ModelViolationException)
        {
            Broken = true;
            throw;
        }
    }

    /// <summary>After a call: a violation a hook held, the sweep set if the heap says sweep done, the stats.</summary>
    private void After(string op, bool bulk = false)
    {
        ThrowPending();
        if (Broken || (bulk && ++_sinceCheck < CheckEvery))
            return;
        _sinceCheck = 0;
        Checks++;
        Check(() =>
        {
            bool done = _inner.SweepDone;
            if (done)
                Model.SweepFinished(op); // done implies every P flushed and every unmarked object freed (2.5)
            HeapStats s = _inner.ReadStats();
            Model.CheckStats(s, op);
            Pacing.Check(s, done, Model.StaleCachesHoldSpans, op);
        });
    }

    /// <summary>After an Alloc that took a span (refill) or made a large object: the pacing line, whatever the stats cadence.</summary>
    private void AfterAlloc(long size, string op)
    {
        bool large = size > SizeClasses.MaxSmallSize;
        bool refilled = _refilled;
        _refilled = false;
        if (Broken)
            return;
        if (large)
            Pacing.LargeAllocated(SizeOracle.Pages(size));
        else if (refilled)
            Pacing.Refilled();
        if (large || refilled)
            Check(() => Pacing.Check(_inner.ReadStats(), _inner.SweepDone, Model.StaleCachesHoldSpans, op));
    }

    public HeapOptions Options => _options;
    public nint ArenaBase => _inner.ArenaBase;
    public nint ZeroBase => _inner.ZeroBase;
    public int ProcCount => _inner.ProcCount;
    public GcPhase Phase => _inner.Phase;
    public bool SweepDone => _inner.SweepDone;

    public IProcessor AcquireP() => Acquired(_inner.AcquireP(), "AcquireP()");

    public IProcessor AcquireP(int id) => Acquired(_inner.AcquireP(id), $"AcquireP({id})");

    private Processor Acquired(IProcessor p, string op)
    {
        Check(() => Model.Acquired(p.Id));
        After(op);
        return new Processor(this, p);
    }

    public void StartMark()
    {
        _inner.StartMark();
        ThrowPending();
        Check(Model.MarkStarted);
        After("StartMark()");
    }

    public bool Mark(nint ptr)
    {
        bool r;
        try
        {
            r = _inner.Mark(ptr);
        }
        catch (ArgumentOutOfRangeException) when (_options.StrictMarks && _inner.Phase == GcPhase.Mark)
        {
            Check(() => Model.Marked(ptr, false));
            After($"Mark(0x{ptr:x})");
            throw;
        }
        Check(() => Model.Marked(ptr, r));
        After($"Mark(0x{ptr:x})", bulk: true);
        return r;
    }

    public void FinishMark()
    {
        _inner.FinishMark();
        ThrowPending();
        Check(Model.MarkFinished);
        Check(() => Pacing.CycleStarted(_inner.ReadStats(), _gcPercent));
        After("FinishMark()");
    }

    public long SweepOne()
    {
        long r = _inner.SweepOne();
        After("SweepOne()");
        return r;
    }

    public void FinishSweep()
    {
        _inner.FinishSweep();
        ThrowPending();
        Check(() => Model.SweepFinished("FinishSweep()"));
        After("FinishSweep()");
    }

    public void StartBackgroundSweeper() => ThrowSingleThreaded();

    public void StopBackgroundSweeper() => ThrowSingleThreaded();

    private void ThrowSingleThreaded()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        throw new NotSupportedException("the model-checked heap is single-threaded: no background sweeper");
    }

    public void SetGcPercent(int percent)
    {
        _inner.SetGcPercent(percent);
        _gcPercent = percent;
        Check(() => Pacing.Paced(_inner.ReadStats(), percent, _inner.SweepDone));
        After($"SetGcPercent({percent})");
    }

    public long Scavenge(long bytes)
    {
        long r = _inner.Scavenge(bytes);
        After($"Scavenge({bytes})");
        return r;
    }

    public HeapStats ReadStats()
    {
        HeapStats s = _inner.ReadStats();
        ThrowPending(); // stats are checked after every call (After); a snapshot read by the caller is passed on as is
        return s;
    }

    public bool FindObject(nint ptr, out ObjectInfo info)
    {
        bool found = _inner.FindObject(ptr, out info);
        ThrowPending(); // the frees of a sweep FindObject ran come first
        ObjectInfo i = info;
        Check(() => Model.Found(ptr, found, i));
        After($"FindObject(0x{ptr:x})");
        return found;
    }

    public void Verify()
    {
        _inner.Verify();
        After("Verify()");
    }

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        _inner.Dispose();
    }

    private sealed class Processor(ModelCheckedHeap heap, IProcessor inner) : IProcessor
    {
        public int Id => inner.Id;

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = inner.Alloc(size, noscan, needzero);
            heap.ThrowPending();
            heap.Check(() => heap.Model.Allocated(Id, size, noscan, needzero, x, heap.ZeroBase));
            string op = $"P{Id}.Alloc({size}, noscan: {noscan}, needzero: {needzero})";
            heap.AfterAlloc(size, op);
            heap.After(op, bulk: true);
            return x;
        }

        public void Flush()
        {
            inner.Flush();
            heap.Check(() => heap.Model.Flushed(Id));
            heap.After($"P{Id}.Flush()");
        }

        public void Release()
        {
            inner.Release();
            heap.Check(() => heap.Model.Released(Id));
            heap.After($"P{Id}.Release()");
        }
    }
}
