// Workloads: the same allocation patterns for every implementation, generic over the IImpl struct
// so each implementation gets its own compiled body. Each returns the timed ticks and the number
// of allocations (the "op"); the pointer arrays come from WorkloadData so the loops allocate no
// managed memory. GoAlloc frees by a GC cycle (Collect) where the natives call free, and that
// cycle is inside the timed region: an allocation's cost includes its reclamation.
using System.Diagnostics;

namespace GoAlloc.Peers;

public enum Workload
{
    Batch16,
    Mixed,
    Large,
    Pairs16,
    LiveSet,
    Threads1,
    Threads2,
    Trace,
}

public readonly record struct Sample(long Ticks, long Ops, long ManagedBytes)
{
    public double NsPerOp => Ticks * 1e9 / Stopwatch.Frequency / Ops;
}

public static unsafe class Workloads
{
    /// <summary>
    /// The program uses what it allocated: its first byte (timing runs), or every byte (memory
    /// runs, WorkloadData.FillObjects), so no allocator looks cheaper for leaving pages untouched.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static nint Use(nint p, long size, bool fill)
    {
        if (fill)
            new Span<byte>((void*)p, (int)size).Fill(0xA5);
        else if (size > 0)
            *(byte*)p = 1;
        return p;
    }

    public static Sample Run<T>(T impl, Workload w, WorkloadData d) where T : struct, IImpl
    {
        long managed = GC.GetTotalAllocatedBytes(precise: true);
        (long ticks, long ops) = w switch
        {
            Workload.Batch16 => Batch(impl, d.Ptrs, d.BatchCount, d.FillObjects),
            Workload.Mixed => Sized(impl, d.Ptrs, d.MixedSizes, d.FillObjects),
            Workload.Large => Sized(impl, d.Ptrs, d.LargeSizes, d.FillObjects),
            Workload.Pairs16 => Pairs(impl, d.PairCount, d.PairGcEvery, d.FillObjects),
            Workload.LiveSet => LiveSet(impl, d),
            Workload.Threads1 => Threads(impl, d, 1),
            Workload.Threads2 => Threads(impl, d, 2),
            Workload.Trace => Replay(impl, d.Trace ?? throw new InvalidOperationException("no trace loaded"), d.FillObjects),
            _ => throw new ArgumentOutOfRangeException(nameof(w)),
        };
        managed = GC.GetTotalAllocatedBytes(precise: true) - managed;
        return new Sample(ticks, ops, managed);
    }

    /// <summary>n 16-byte objects, then all are freed (GoAlloc: one cycle that marks nothing).</summary>
    private static (long, long) Batch<T>(T impl, nint[] ptrs, int n, bool fill) where T : struct, IImpl
    {
        long t0 = Stopwatch.GetTimestamp();
        impl.BeginThread(0);
        for (int i = 0; i < n; i++)
            ptrs[i] = Use(impl.Alloc(0, 16), 16, fill);
        FreeAll(impl, ptrs.AsSpan(0, n));
        return (Stopwatch.GetTimestamp() - t0, n);
    }

    /// <summary>One object per size, then all are freed.</summary>
    private static (long, long) Sized<T>(T impl, nint[] ptrs, long[] sizes, bool fill) where T : struct, IImpl
    {
        long t0 = Stopwatch.GetTimestamp();
        impl.BeginThread(0);
        for (int i = 0; i < sizes.Length; i++)
            ptrs[i] = Use(impl.Alloc(0, sizes[i]), sizes[i], fill);
        FreeAll(impl, ptrs.AsSpan(0, sizes.Length));
        return (Stopwatch.GetTimestamp() - t0, sizes.Length);
    }

    /// <summary>Ends thread 0's use and frees every object of the span (GoAlloc: a cycle with no live object).</summary>
    private static void FreeAll<T>(T impl, ReadOnlySpan<nint> ptrs) where T : struct, IImpl
    {
        if (!impl.Collects)
        {
            foreach (nint p in ptrs)
                impl.Free(p);
        }
        impl.EndThread(0);
        if (impl.Collects)
            impl.Collect([]);
    }

    /// <summary>n alloc/free pairs of 16 B; GoAlloc runs a cycle every gcEvery allocations.</summary>
    private static (long, long) Pairs<T>(T impl, int n, int gcEvery, bool fill) where T : struct, IImpl
    {
        long t0 = Stopwatch.GetTimestamp();
        impl.BeginThread(0);
        for (int i = 1; i <= n; i++)
        {
            nint p = Use(impl.Alloc(0, 16), 16, fill);
            impl.Free(p);
            if (impl.Collects && i % gcEvery == 0)
            {
                impl.EndThread(0);
                impl.Collect([]);
                impl.BeginThread(0);
            }
        }
        impl.EndThread(0);
        if (impl.Collects)
            impl.Collect([]);
        return (Stopwatch.GetTimestamp() - t0, n);
    }

    /// <summary>
    /// LiveCycles cycles of LiveSizes (16..512 B): every 4th object of a cycle survives it and dies at
    /// the end of the next one, so a quarter of each cycle's objects stays live across a cycle.
    /// </summary>
    private static (long, long) LiveSet<T>(T impl, WorkloadData d) where T : struct, IImpl
    {
        long[] sizes = d.LiveSizes;
        nint[] ptrs = d.Ptrs;
        bool fill = d.FillObjects;
        nint[] keep = d.Survivors;
        nint[] prev = d.PrevSurvivors;
        int prevCount = 0;
        long t0 = Stopwatch.GetTimestamp();
        for (int c = 0; c < d.LiveCycles; c++)
        {
            impl.BeginThread(0);
            for (int i = 0; i < sizes.Length; i++)
                ptrs[i] = Use(impl.Alloc(0, sizes[i]), sizes[i], fill);
            int kept = 0;
            for (int i = 0; i < sizes.Length; i++)
            {
                if ((i & 3) == 0)
                    keep[kept++] = ptrs[i];
                else if (!impl.Collects)
                    impl.Free(ptrs[i]);
            }
            if (!impl.Collects)
            {
                for (int i = 0; i < prevCount; i++)
                    impl.Free(prev[i]);
            }
            impl.EndThread(0);
            if (impl.Collects)
                impl.Collect(keep.AsSpan(0, kept));
            (keep, prev) = (prev, keep);
            prevCount = kept;
        }
        if (!impl.Collects)
        {
            for (int i = 0; i < prevCount; i++)
                impl.Free(prev[i]);
        }
        else
        {
            impl.Collect([]);
        }
        return (Stopwatch.GetTimestamp() - t0, (long)d.LiveCycles * sizes.Length);
    }

    /// <summary>
    /// k threads, each bound to its own P (GoAlloc) and allocating PerThread 16-byte objects, then
    /// freeing them on the same thread (natives) or (GoAlloc) one cycle: the mark with the threads
    /// stopped, then one sweeper (the calling thread, as Go's single bgsweep goroutine) sweeps every
    /// span. Wall time. The calling thread is thread 0 and the k-1 others are started and spinning
    /// before the clock starts, so with k at most the core count no thread waits for a core and the
    /// timed region holds no thread creation or wake-up: on this 2-core VM a thread started or
    /// woken inside it often waited a whole time slice (about 3 ms of a 3-4 ms run) for the
    /// scheduler to place it, so the row measured the kernel's placement, not the allocators.
    /// Go's goroutines run on threads that exist already, too. (Two sweepers flat out on one size
    /// class are slower than one here: README, "Two threads".)
    /// </summary>
    private static (long, long) Threads<T>(T impl, WorkloadData d, int k) where T : struct, IImpl
    {
        var gate = new ThreadGate(k);
        var helpers = new Thread[k - 1];
        for (int t = 1; t < k; t++)
        {
            int id = t;
            helpers[t - 1] = new Thread(() =>
            {
                gate.SignalReady();
                gate.WaitOpen();
                AllocAndFree(impl, d, id);
                gate.Arrive();
            });
            helpers[t - 1].Start();
        }
        gate.WaitReady();
        long t0 = Stopwatch.GetTimestamp();
        gate.Open();
        AllocAndFree(impl, d, 0);
        gate.Arrive();
        gate.WaitArrived();
        impl.MarkTermination([]);
        impl.FinishSweep();
        long ticks = Stopwatch.GetTimestamp() - t0;
        foreach (Thread th in helpers)
            th.Join();
        return (ticks, (long)k * d.PerThread);
    }

    private static void AllocAndFree<T>(T impl, WorkloadData d, int id) where T : struct, IImpl
    {
        nint[] ptrs = d.ThreadPtrs[id];
        int n = d.PerThread;
        bool fill = d.FillObjects;
        impl.BeginThread(id);
        for (int i = 0; i < n; i++)
            ptrs[i] = Use(impl.Alloc(id, 16), 16, fill);
        if (!impl.Collects)
        {
            for (int i = 0; i < n; i++)
                impl.Free(ptrs[i]);
        }
        impl.EndThread(id);
    }

    /// <summary>The gofmt trace: allocations in order; at each GC the natives free the cycle's dead
    /// objects, GoAlloc marks the live ones and sweeps. Building the live list is not timed.</summary>
    private static (long, long) Replay<T>(T impl, TraceReplay r, bool fill) where T : struct, IImpl
    {
        long[] sizes = r.Sizes;
        nint[] ptrs = r.Ptrs;
        long ticks = 0;
        int next = 0;
        for (int c = 0; c <= r.Cycles; c++)
        {
            int upTo = c < r.Cycles ? r.AllocsBeforeCycle[c] : sizes.Length;
            long t0 = Stopwatch.GetTimestamp();
            impl.BeginThread(0);
            for (; next < upTo; next++)
                ptrs[next] = Use(impl.Alloc(0, sizes[next]), sizes[next], fill);
            impl.EndThread(0);
            ticks += Stopwatch.GetTimestamp() - t0;
            if (c == r.Cycles)
                break;
            if (impl.Collects)
            {
                int[] live = r.LiveAfterCycle[c];
                for (int i = 0; i < live.Length; i++)
                    r.LiveBuffer[i] = ptrs[live[i]];
                t0 = Stopwatch.GetTimestamp();
                impl.Collect(r.LiveBuffer.AsSpan(0, live.Length));
                ticks += Stopwatch.GetTimestamp() - t0;
            }
            else
            {
                t0 = Stopwatch.GetTimestamp();
                foreach (int id in r.DyingInCycle[c])
                    impl.Free(ptrs[id]);
                ticks += Stopwatch.GetTimestamp() - t0;
            }
        }
        // Everything still live dies at the end (a last cycle with nothing live, or free each one).
        long t1 = Stopwatch.GetTimestamp();
        if (impl.Collects)
        {
            impl.Collect([]);
        }
        else
        {
            foreach (int id in r.LiveAtEnd)
                impl.Free(ptrs[id]);
        }
        ticks += Stopwatch.GetTimestamp() - t1;
        return (ticks, sizes.Length);
    }
}
