// DelegatingHeap: the base of the test-side IHeap decorators that forward every call to a real
// heap and change one answer (LyingHeap: a lie the heap model must catch; DivergentHeap: a
// difference on one channel the lock-step comparator must catch). Every member is virtual and by
// default forwards unchanged; a subclass overrides the one it changes. The inner heap is made by
// the subclass's constructor (it often installs its own OnFree / OnSample hooks first) and set
// through Inner; Options stay the caller's. Processors are wrapped through WrapProcessor, whose
// default DelegatingProcessor (DelegatingProcessor.cs) forwards as well.
namespace GoAlloc.Model;

public abstract class DelegatingHeap(HeapOptions? options) : IHeap, IHeapWrapper
{
    private IHeap? _inner;

    /// <summary>The heap every call goes to; set once by the subclass's constructor.</summary>
    protected IHeap Inner
    {
        get => _inner ?? throw new InvalidOperationException($"{GetType().Name}: the constructor did not set the inner heap");
        init => _inner = value;
    }

    IHeap IHeapWrapper.Inner => Inner;

    public HeapOptions Options { get; } = options ?? new HeapOptions();
    public virtual nint ArenaBase => Inner.ArenaBase;
    public virtual nint ZeroBase => Inner.ZeroBase;
    public virtual int ProcCount => Inner.ProcCount;
    public virtual GcPhase Phase => Inner.Phase;
    public virtual bool SweepDone => Inner.SweepDone;
    public virtual IProcessor AcquireP() => WrapProcessor(Inner.AcquireP());
    public virtual IProcessor AcquireP(int id) => WrapProcessor(Inner.AcquireP(id));
    public virtual void StartMark() => Inner.StartMark();
    public virtual bool Mark(nint ptr) => Inner.Mark(ptr);
    public virtual void FinishMark() => Inner.FinishMark();
    public virtual long SweepOne() => Inner.SweepOne();
    public virtual void FinishSweep() => Inner.FinishSweep();
    public virtual void StartBackgroundSweeper() => Inner.StartBackgroundSweeper();
    public virtual void StopBackgroundSweeper() => Inner.StopBackgroundSweeper();
    public virtual void SetGcPercent(int percent) => Inner.SetGcPercent(percent);
    public virtual long Scavenge(long bytes) => Inner.Scavenge(bytes);
    public virtual HeapStats ReadStats() => Inner.ReadStats();
    public virtual bool FindObject(nint ptr, out ObjectInfo info) => Inner.FindObject(ptr, out info);
    public virtual void Verify() => Inner.Verify();
    public virtual void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The processor callers see for a processor of the inner heap (default: a plain forwarder).</summary>
    protected virtual IProcessor WrapProcessor(IProcessor inner) => new DelegatingProcessor(inner);
}
