// DivergentHeap: an IHeap decorator (a DelegatingHeap) that differs from the heap it wraps on
// exactly one lock-step channel (a Divergence), and nowhere else: a free or a sample reported
// differently through the hook while the stats still count it, an answer changed while the heap's
// state is not, one stats field changed while the others stand. It exists so the lock-step
// comparator can be shown to catch each channel on its own (tests/Unit
// LockstepCatchesEachChannelTests, tests/Properties LockstepSelfCheckProperties). Each change is
// made when the channel carries something to change (a stats field once it is nonzero, FindObject
// once it finds an object), so a shrunk counterexample must keep the steps that get there.
// Diverged says whether any answer was changed. Out-of-memory exceptions pass unchanged (the
// comparator treats them as the host's failure, not a difference).
using System.Reflection;

namespace GoAlloc.Model;

public sealed class DivergentHeap : DelegatingHeap
{
    private readonly Divergence _d;
    private bool _droppedFree, _droppedSample;

    public DivergentHeap(Func<HeapOptions, IHeap> factory, HeapOptions? options, Divergence divergence) : base(options)
    {
        _d = divergence;
        HeapOptions user = Options;
        Inner = factory(divergence.Channel switch
        {
            LockstepChannel.FreedList when user.OnFree is { } onFree => user with { OnFree = (p, n) => Freed(onFree, p, n) },
            LockstepChannel.Samples when user.OnSample is { } onSample => user with { OnSample = s => Sampled(onSample, s) },
            _ => user,
        });
    }

    public Divergence Divergence => _d;

    /// <summary>True once an answer, a report or a snapshot differed from the wrapped heap's.</summary>
    public bool Diverged { get; private set; }

    private bool On(LockstepChannel c, string part = "") => _d.Channel == c && (part.Length == 0 || _d.Part == part);

    private T Diverge<T>(T value)
    {
        Diverged = true;
        return value;
    }

    /// <summary>A value changed by a little: an address or a size by 8 bytes, a count by one, a flag flipped.</summary>
    private static object Skew(object value) => value switch
    {
        nint p => p + 8,
        long n => n + 8,
        int i => i + 1,
        bool b => !b,
        _ => throw new NotSupportedException($"no skew for a {value.GetType().Name}: teach DivergentHeap about it"),
    };

    /// <summary>A copy of a struct with one property skewed.</summary>
    private static T SkewField<T>(T value, string field) where T : struct
    {
        PropertyInfo p = typeof(T).GetProperty(field) ?? throw new ArgumentException($"{typeof(T).Name} has no {field}");
        object boxed = value;
        p.SetValue(boxed, Skew(p.GetValue(boxed)!));
        return (T)boxed;
    }

    // ---- Hooks: the freed list and the samples ----

    private void Freed(Action<nint, long> onFree, nint p, long n)
    {
        switch (_d.Part)
        {
            case Divergence.Dropped when !_droppedFree:
                _droppedFree = Diverge(true);
                return;
            case Divergence.FreedAddress:
                onFree(Diverge(p + 8), n);
                return;
            case Divergence.FreedSize:
                onFree(p, Diverge(n + 8));
                return;
            default:
                onFree(p, n);
                return;
        }
    }

    private void Sampled(Action<SampledAllocation> onSample, SampledAllocation s)
    {
        if (_d.Part == Divergence.Dropped)
        {
            if (!_droppedSample)
            {
                _droppedSample = Diverge(true);
                return;
            }
            onSample(s);
            return;
        }
        onSample(Diverge(SkewField(s, _d.Part)));
    }

    // ---- Exceptions: every call goes through Call ----

    private T Call<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (Exception e) when (e is not OutOfMemoryException && On(LockstepChannel.ExceptionType, Divergence.Changed))
        {
            Diverged = true;
            if (e is InvalidOperationException)
                throw new ArgumentException($"(diverged from {e.GetType().Name}) {e.Message}", e);
            throw new InvalidOperationException($"(diverged from {e.GetType().Name}) {e.Message}", e);
        }
        catch (Exception e) when (e is not OutOfMemoryException && On(LockstepChannel.ExceptionType, Divergence.Swallowed))
        {
            return Diverge<T>(default!);
        }
    }

    private void Call(Action f) => Call(() =>
    {
        f();
        return 0;
    });

    // ---- The heap's answers ----

    public override IProcessor AcquireP() => Call(base.AcquireP);
    public override IProcessor AcquireP(int id) => Call(() => base.AcquireP(id));
    public override void StartMark() => Call(base.StartMark);
    public override void FinishMark() => Call(base.FinishMark);
    public override void FinishSweep() => Call(base.FinishSweep);
    public override void SetGcPercent(int percent) => Call(() => base.SetGcPercent(percent));

    public override bool Mark(nint ptr)
    {
        bool r = Call(() => base.Mark(ptr));
        return On(LockstepChannel.Mark) ? Diverge(!r) : r;
    }

    public override long SweepOne()
    {
        long r = Call(base.SweepOne);
        return On(LockstepChannel.SweepOne) && r >= 0 ? Diverge(r + 1) : r;
    }

    public override long Scavenge(long bytes)
    {
        long r = Call(() => base.Scavenge(bytes));
        return On(LockstepChannel.Scavenge) ? Diverge(r + 1) : r;
    }

    public override bool FindObject(nint ptr, out ObjectInfo info)
    {
        ObjectInfo i = default;
        bool found = Call(() => base.FindObject(ptr, out i));
        info = i;
        if (!found || !On(LockstepChannel.FindObject))
            return found;
        if (_d.Part == Divergence.Found)
            return Diverge(false);
        info = Diverge(SkewField(info, _d.Part));
        return true;
    }

    public override void Verify()
    {
        Call(base.Verify);
        if (On(LockstepChannel.ExceptionType, Divergence.Thrown))
            throw Diverge(new HeapInvariantException("INV-DIVERGED", "this heap's Verify fails where the wrapped heap's passed"));
    }

    public override bool SweepDone => On(LockstepChannel.SweepDone) ? Diverge(!base.SweepDone) : base.SweepDone;

    public override GcPhase Phase => On(LockstepChannel.Phase) ? Diverge(base.Phase == GcPhase.Off ? GcPhase.Mark : GcPhase.Off) : base.Phase;

    public override HeapStats ReadStats()
    {
        HeapStats s = Call(base.ReadStats);
        if (!On(LockstepChannel.Stats))
            return s;
        if (_d.Part == Divergence.BySizeLength)
            return Diverge(HeapStatsFields.WithBySize(s, [.. s.BySize, default]));
        if (_d.Part.StartsWith(Divergence.BySizeEntry, StringComparison.Ordinal))
        {
            // The first size class in use whose field is not zero.
            string field = _d.Part[Divergence.BySizeEntry.Length..];
            PropertyInfo p = typeof(SizeClassStats).GetProperty(field)!;
            SizeClassStats[] bySize = [.. s.BySize];
            for (int c = 0; c < bySize.Length; c++)
            {
                if (bySize[c].Mallocs != 0 && Convert.ToInt64(p.GetValue(bySize[c])) != 0)
                {
                    bySize[c] = SkewField(bySize[c], field);
                    return Diverge(HeapStatsFields.WithBySize(s, bySize));
                }
            }
            return s;
        }
        long v = HeapStatsFields.Get(s, _d.Part);
        return v == 0 ? s : Diverge(HeapStatsFields.With(s, _d.Part, v + 1));
    }

    protected override IProcessor WrapProcessor(IProcessor inner) => new Processor(this, inner);

    private sealed class Processor(DivergentHeap heap, IProcessor inner) : DelegatingProcessor(inner)
    {
        public override int Id => heap.On(LockstepChannel.ProcessorId) ? heap.Diverge(InnerProcessor.Id + 1) : InnerProcessor.Id;

        public override nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = heap.Call(() => InnerProcessor.Alloc(size, noscan, needzero));
            return heap.On(LockstepChannel.Address) && size > 0 ? heap.Diverge(x + 8) : x;
        }

        public override void Flush() => heap.Call(InnerProcessor.Flush);
        public override void Release() => heap.Call(InnerProcessor.Release);
    }
}
