// Rethrow points of deferred hook exceptions (spec/SPEC.md 4.15, src/Allocator/HookFaults.cs): a
// trace hook that throws at one chosen step has its exception rethrown by the very operation that
// reached that step, after the operation finished, so the heap is consistent (Verify passes) and
// the operation's effect is in place. One case per operation that owns a rethrow point; the
// fault-injection workload (HeapFaultInjectionTests) reaches them too, but under the mutation
// configuration it strides over hook steps, so each point has its own case here.
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class HookFaultRethrowPointTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    private sealed class InjectedHookException() : Exception("injected hook failure");

    /// <summary>A heap whose trace hook throws once, at the first event of the armed kind after Arm.</summary>
    private sealed class Armed : IDisposable
    {
        private HeapTraceKind? _kind;
        public readonly IHeap Heap;

        public Armed(Func<HeapOptions, IHeap> create, int procs = 2) =>
            Heap = create(new HeapOptions { Procs = procs, OnTrace = OnTrace });

        private void OnTrace(HeapTraceEvent ev)
        {
            if (_kind == ev.Kind)
            {
                _kind = null;
                throw new InjectedHookException();
            }
        }

        public void Arm(HeapTraceKind kind) => _kind = kind;

        /// <summary>Whether the armed event has not happened yet.</summary>
        public bool Pending => _kind != null;

        public void Dispose() => Heap.Dispose();
    }

    /// <summary>Allocates n objects of size on P0 and releases it; returns them.</summary>
    private static nint[] AllocOnP0(IHeap heap, int n, long size = 64)
    {
        IProcessor p = heap.AcquireP(0);
        var objs = new nint[n];
        for (int i = 0; i < n; i++)
            objs[i] = p.Alloc(size);
        p.Flush();
        p.Release();
        return objs;
    }

    /// <summary>One cycle marking nothing: every span allocated so far is unswept (sg-2) afterwards.</summary>
    private static void UnmarkedCycle(IHeap heap)
    {
        heap.StartMark();
        heap.FinishMark();
    }

    private static void AssertRethrownThenConsistent(Armed a, Action op)
    {
        Assert.Throws<InjectedHookException>(op);
        Assert.False(a.Pending, "the armed step was never reached");
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownByStartMark_PhaseMoved()
    {
        using var a = new Armed(o => CreateHeap(o));
        AllocOnP0(a.Heap, 10);
        a.Arm(HeapTraceKind.StartMark);
        AssertRethrownThenConsistent(a, a.Heap.StartMark);
        Assert.Equal(GcPhase.Mark, a.Heap.Phase);
        a.Heap.FinishMark();
        a.Heap.FinishSweep();
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownByFinishMark_SweepBegun()
    {
        using var a = new Armed(o => CreateHeap(o));
        AllocOnP0(a.Heap, 10);
        a.Heap.StartMark();
        a.Arm(HeapTraceKind.FinishMark);
        AssertRethrownThenConsistent(a, a.Heap.FinishMark);
        Assert.NotEqual(GcPhase.Mark, a.Heap.Phase);
        Assert.Equal(1, a.Heap.ReadStats().NumGC);
        a.Heap.FinishSweep();
        Assert.Equal(0, a.Heap.ReadStats().HeapAlloc);
    }

    [Fact]
    public void HookFault_RethrownBySweepOne_SpanSwept()
    {
        using var a = new Armed(o => CreateHeap(o));
        AllocOnP0(a.Heap, 10);
        UnmarkedCycle(a.Heap);
        a.Arm(HeapTraceKind.SweepDone);
        AssertRethrownThenConsistent(a, () => a.Heap.SweepOne());
        Assert.Equal(0, a.Heap.ReadStats().HeapAlloc); // the one small span was swept: its 10 objects freed
        a.Heap.FinishSweep();
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownByFinishSweep()
    {
        using var a = new Armed(o => CreateHeap(o));
        AllocOnP0(a.Heap, 10);
        AllocOnP0(a.Heap, 3, 100_000);
        UnmarkedCycle(a.Heap);
        a.Arm(HeapTraceKind.SweepDone);
        AssertRethrownThenConsistent(a, a.Heap.FinishSweep);
        Assert.True(a.Heap.SweepDone);
        Assert.Equal(0, a.Heap.ReadStats().HeapAlloc);
    }

    [Fact]
    public void HookFault_RethrownBySetGcPercent_PercentSet()
    {
        using var a = new Armed(o => CreateHeap(o));
        a.Arm(HeapTraceKind.SetGcPercent);
        AssertRethrownThenConsistent(a, () => a.Heap.SetGcPercent(50));
        // The setting took effect: setting it again traces and returns normally.
        a.Heap.SetGcPercent(50);
    }

    [Fact]
    public void HookFault_RethrownByFindObject_AfterItSweptTheSpan()
    {
        using var a = new Armed(o => CreateHeap(o));
        nint[] objs = AllocOnP0(a.Heap, 10);
        UnmarkedCycle(a.Heap);
        a.Arm(HeapTraceKind.EnsureSwept);
        AssertRethrownThenConsistent(a, () => a.Heap.FindObject(objs[0], out _));
        // FindObject swept the span before the rethrow: the unmarked object is gone.
        Assert.False(a.Heap.FindObject(objs[0], out ObjectInfo info) && info.Allocated);
    }

    [Fact]
    public void HookFault_RethrownByRelease_PIsFree()
    {
        using var a = new Armed(o => CreateHeap(o));
        IProcessor p = a.Heap.AcquireP(0);
        p.Alloc(64);
        a.Arm(HeapTraceKind.ReleaseP);
        AssertRethrownThenConsistent(a, p.Release);
        a.Heap.AcquireP(0).Release(); // released despite the throw
        UnmarkedCycle(a.Heap);       // no P held: the world can stop
        a.Heap.FinishSweep();
    }

    [Fact]
    public void HookFault_RethrownByFlush_CacheFlushed()
    {
        using var a = new Armed(o => CreateHeap(o));
        IProcessor p = a.Heap.AcquireP(0);
        p.Alloc(64);
        a.Arm(HeapTraceKind.Flush);
        Assert.Throws<InjectedHookException>(p.Flush);
        p.Release();
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownByAcquireP_StaleCacheFlushedAndPGivenBack()
    {
        using var a = new Armed(o => CreateHeap(o));
        IProcessor p = a.Heap.AcquireP(0);
        p.Alloc(64); // P0 keeps a cached span
        p.Release();
        UnmarkedCycle(a.Heap); // P0's cache is stale now
        a.Arm(HeapTraceKind.PrepareForSweep);
        AssertRethrownThenConsistent(a, () => a.Heap.AcquireP(0));
        // The flush finished and the P was given back: acquiring it again works and flushes nothing.
        IProcessor again = a.Heap.AcquireP(0);
        again.Alloc(64);
        again.Release();
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownBySweepCredit_NothingAllocated()
    {
        using var a = new Armed(o => CreateHeap(o));
        AllocOnP0(a.Heap, 80_000); // 625 one-page spans of 64 B objects: 5 MiB, past the pacing distance
        UnmarkedCycle(a.Heap);   // all unswept: a large allocation owes sweep credit for them
        IProcessor p = a.Heap.AcquireP(0);
        long mallocs = a.Heap.ReadStats().Mallocs;
        a.Arm(HeapTraceKind.CreditSweep);
        Assert.Throws<InjectedHookException>(() => p.Alloc(1 << 20, noscan: true));
        Assert.False(a.Pending, "the large allocation paid no sweep credit");
        Assert.Equal(mallocs, a.Heap.ReadStats().Mallocs); // thrown before the object was allocated
        p.Release();
        a.Heap.Verify();
        IProcessor q = a.Heap.AcquireP(0);
        Assert.NotEqual(0, q.Alloc(1 << 20, noscan: true));
        q.Release();
        a.Heap.Verify();
    }

    [Fact]
    public void HookFault_RethrownByAlloc_ObjectAllocated()
    {
        using var a = new Armed(o => CreateHeap(o));
        IProcessor p = a.Heap.AcquireP(0);
        a.Arm(HeapTraceKind.Refill);
        Assert.Throws<InjectedHookException>(() => p.Alloc(64));
        Assert.Equal(1, a.Heap.ReadStats().Mallocs); // the allocation finished before the rethrow
        nint x = p.Alloc(64);
        Assert.NotEqual(0, x);
        p.Release();
        a.Heap.Verify();
    }
}

public sealed class ReferenceHookFaultRethrowPointTests : HookFaultRethrowPointTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}

public sealed class OptimizedHookFaultRethrowPointTests : HookFaultRethrowPointTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);
}
