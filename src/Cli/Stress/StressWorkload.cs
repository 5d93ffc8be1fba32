// StressWorkload: one real-thread stress run of a heap (tests/Stress and `alloc soak` share it).
// Threads workers each hold their own P and, in epochs, run random operations: allocations of
// every kind (tiny, small scan/noscan, large, zero-sized; needzero on or off) whose memory is
// checked zero when it must be and then filled with a per-object pattern, drops (the object
// becomes garbage after its pattern is checked), pattern checks, FindObject on their own live
// objects (found, allocated, bounds; also at each epoch's start while holding no P, when its idle
// P may be being flushed by another thread), Flush, Release + AcquireP, SweepOne. A reader thread calls
// FindObject on the objects marked in the last cycle (while they are certainly live) and ReadStats;
// the heap's background sweeper runs. The coordinator (the calling thread) drives the cycles:
//   sweep epoch (workers run, the background sweeper and the reader sweep and look up)
//   -> rendezvous: reader paused, sweeper stopped, Verify, every live object's pattern and
//      FindObject checked, sweeper restarted, reader resumed
//   -> StartMark -> mark epoch (workers allocate black while the coordinator marks every object
//      the workers held at the rendezvous) -> rendezvous -> FinishMark.
// The first violation (a check failing, or an exception from the heap) stops the run; it is
// reported with the seed and the tail of the operation log (StressOpLog). Interleavings are the
// OS scheduler's, so a seed fixes the operations of each worker, not the run.
using System.Diagnostics;

namespace GoAlloc.Cli;

// Not IDisposable (CA1001): a worker the run reports as hung may still wait on _start / _end or
// read _cts after Run returns; the barriers and the token source live as long as the process.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A hung worker may still use them after Run returns.")]
public sealed class StressWorkload
{
    private const double LargeShare = 0.01;
    private const long MaxLarge = 256 * 1024;
    /// <summary>FindObject calls a worker makes on its own objects at the start of each epoch, before it takes its P.</summary>
    private const int PlessLookups = 16;

    private readonly string _impl;
    private readonly IHeap _heap;
    private readonly StressOptions _o;
    private readonly StressOpLog _log;
    private readonly Worker[] _workers;
    private readonly int _readerActor;
    private readonly int _coordinatorActor;
    private readonly Barrier _start;
    private readonly Barrier _end;
    private readonly CancellationTokenSource _cts = new();
    private readonly Stopwatch _clock = new();

    // Set by the coordinator before a start rendezvous; read by the workers after it (the barrier orders them).
    private bool _stopping;
    private bool _markEpoch;
    private int _cycle;

    // The first violation; written once (CompareExchange).
    private StressViolation? _violation;

    // The reader's gate (under _readerGate): paused by the coordinator around each rendezvous.
    private readonly object _readerGate = new();
    private bool _readerPaused;
    private bool _readerParked;
    private bool _readerStop;
    // Objects marked in the last cycle, valid while _readerEpoch equals the snapshot's epoch (atomic).
    private ReaderSnapshot? _readerSnapshot;
    private long _readerEpoch;
    private long _readerLookups;

    private long _maxHeapSys;
    private long _coordinatorChecks;
    private long _coordinatorFinds;

    private sealed record ReaderSnapshot(long Epoch, LiveObject[] Objects);

    private readonly record struct LiveObject(nint Address, long Size, ulong Tag)
    {
        public bool Tiny => Size < 16 && Size > 0 && NoScan;
        public bool NoScan { get; init; }
    }

    /// <summary>A worker's state: touched only by its thread, except Snapshot (read by the coordinator in the mark epoch).</summary>
    private sealed class Worker(int id, ulong seed)
    {
        public readonly int Id = id;
        public readonly Random Rng = new((int)(seed ^ (seed >> 32)) ^ (id * 7919 + 1));
        public readonly List<LiveObject> Live = [];
        public LiveObject[] Snapshot = [];
        public long Ops;
        public long Finds;
        public long Checks;
        public Thread? Thread;
    }

    private StressWorkload(string impl, IHeap heap, StressOptions o)
    {
        _impl = impl;
        _heap = heap;
        _o = o;
        _workers = new Worker[o.Threads];
        var names = new List<string>();
        for (int i = 0; i < o.Threads; i++)
        {
            _workers[i] = new Worker(i, o.Seed);
            names.Add($"worker{i}");
        }
        _readerActor = names.Count;
        names.Add("reader");
        _coordinatorActor = names.Count;
        names.Add("coordinator");
        _log = new StressOpLog(names, 64);
        _start = new Barrier(o.Threads + 1);
        _end = new Barrier(o.Threads + 1);
    }

    /// <summary>Runs the workload on a fresh heap from factory (Procs = Threads) and disposes it.</summary>
    public static StressResult Run(string implementation, Func<HeapOptions, IHeap> factory, StressOptions options)
    {
        options.Validate();
        IHeap heap = factory(new HeapOptions { Procs = options.Threads });
        var run = new StressWorkload(implementation, heap, options);
        bool clean = false;
        try
        {
            StressResult result = run.Coordinate();
            clean = result.Passed;
            return result;
        }
        finally
        {
            // A heap that failed a check may refuse to be disposed (or a thread may still hang in it).
            if (clean)
                heap.Dispose();
            else
            {
                try
                {
                    heap.Dispose();
                }
                catch (Exception)
                {
                    // Reported already as the violation; the finalizer unmaps it later.
                }
            }
        }
    }

    // ---------------------------------------------------------------- coordinator

    private StressResult Coordinate()
    {
        _clock.Start();
        var coordRng = new Random((int)_o.Seed ^ 0x5eed);
        var reader = new Thread(ReaderMain) { IsBackground = true, Name = "stress reader" };
        foreach (Worker w in _workers)
        {
            w.Thread = new Thread(() => WorkerMain(w)) { IsBackground = true, Name = $"stress worker {w.Id}" };
            w.Thread.Start();
        }
        if (_o.Reader)
            reader.Start();
        TimeSpan nextProgress = _o.ProgressEvery;
        try
        {
            if (_o.BackgroundSweeper)
                _heap.StartBackgroundSweeper();
            while (true)
            {
                // Sweep epoch.
                _markEpoch = false;
                if (!Rendezvous(_start, "the start of a sweep epoch"))
                    break;
                CoordinatorExtras(coordRng);
                if (!Rendezvous(_end, "the end of a sweep epoch"))
                    break;

                // Quiescent point: no P is held and the reader is parked.
                PauseReader();
                // The last rendezvous always verifies (unless VerifyEvery is 0).
                bool last = _clock.Elapsed >= _o.Duration || _cycle >= _o.MaxCycles;
                bool verify = _o.VerifyEvery > 0 && (last || _cycle % _o.VerifyEvery == 0);
                if (verify || _cycle == _o.CorruptAtCycle)
                {
                    if (_o.BackgroundSweeper)
                        _heap.StopBackgroundSweeper();
                    if (_cycle == _o.CorruptAtCycle)
                        CorruptOneObject();
                    _log.Add(_coordinatorActor, _cycle, StressOp.Verify);
                    _heap.Verify();
                    if (!CheckEveryLiveObject())
                        break;
                    if (_o.BackgroundSweeper)
                        _heap.StartBackgroundSweeper();
                }
                long heapSys = _heap.ReadStats().HeapSys;
                _maxHeapSys = Math.Max(_maxHeapSys, heapSys);
                // The reader's snapshot is only certainly live until the next cycle starts marking.
                Interlocked.Increment(ref _readerEpoch);
                if (last)
                    break;
                ResumeReader();

                // Mark epoch: the workers allocate black while everything they held is marked here.
                _log.Add(_coordinatorActor, _cycle, StressOp.StartMark);
                _heap.StartMark();
                _markEpoch = true;
                if (!Rendezvous(_start, "the start of a mark epoch"))
                    break;
                var marked = new List<LiveObject>();
                foreach (Worker w in _workers)
                {
                    if (w.Id == 0 && _cycle == _o.SkipMarkAtCycle)
                    {
                        _log.Add(_coordinatorActor, _cycle, StressOp.Mark, 0, w.Snapshot.Length, "SKIPPED worker0's objects (test hook)");
                        continue;
                    }
                    foreach (LiveObject obj in w.Snapshot)
                    {
                        if (!_heap.Mark(obj.Address))
                        {
                            Fail(_coordinatorActor, $"Mark(0x{obj.Address:x}) of a live object ({obj.Size} bytes) returned false (not an allocated object)");
                            break;
                        }
                        marked.Add(obj);
                    }
                }
                if (!Rendezvous(_end, "the end of a mark epoch"))
                    break;
                _log.Add(_coordinatorActor, _cycle, StressOp.FinishMark);
                _heap.FinishMark();
                _cycle++;
                Volatile.Write(ref _readerSnapshot, new ReaderSnapshot(Interlocked.Read(ref _readerEpoch), [.. marked]));

                if (_o.Progress != null && _clock.Elapsed >= nextProgress)
                {
                    _o.Progress(new StressProgress(_clock.Elapsed, Operations, _cycle, _maxHeapSys));
                    nextProgress = _clock.Elapsed + _o.ProgressEvery;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Fail(_coordinatorActor, "the heap threw", ex);
        }
        catch (OperationCanceledException)
        {
            // A violation elsewhere cancelled the run.
        }
        // Stop: the workers leave at the next start rendezvous (or on cancellation).
        _stopping = true;
        if (_violation == null)
            Rendezvous(_start, "the final stop");
        _cts.Cancel();
        lock (_readerGate)
        {
            _readerStop = true;
            _readerPaused = false;
            Monitor.PulseAll(_readerGate);
        }
        bool joined = true;
        foreach (Worker w in _workers)
            joined &= w.Thread!.Join(_o.HangTimeout);
        if (_o.Reader)
            joined &= reader.Join(_o.HangTimeout);
        if (!joined)
            Fail(_coordinatorActor, "a thread did not stop (hung inside the heap?)");
        if (_violation == null && _o.BackgroundSweeper)
            _heap.StopBackgroundSweeper();
        _clock.Stop();
        long finds = _coordinatorFinds, checks = _coordinatorChecks;
        foreach (Worker w in _workers)
        {
            finds += w.Finds;
            checks += w.Checks;
        }
        return new StressResult(_impl, _o.Threads, _o.Seed, _clock.Elapsed, Operations, _cycle, _maxHeapSys, finds, checks,
            Interlocked.Read(ref _readerLookups), _violation);
    }

    private long Operations
    {
        get
        {
            long n = 0;
            foreach (Worker w in _workers)
                n += Volatile.Read(ref w.Ops);
            return n;
        }
    }

    /// <summary>Waits at a rendezvous of the coordinator and every worker; false (and a violation) on a hang or a cancelled run.</summary>
    private bool Rendezvous(Barrier barrier, string what)
    {
        try
        {
            if (barrier.SignalAndWait(_o.HangTimeout, _cts.Token))
                return true;
            Fail(_coordinatorActor, $"hang: not every worker reached {what} within {_o.HangTimeout}");
        }
        catch (OperationCanceledException)
        {
        }
        return false;
    }

    /// <summary>Concurrent with the workers: now and then scavenge, re-pace the sweeper, sweep a span.</summary>
    private void CoordinatorExtras(Random rng)
    {
        if (rng.Next(4) == 0)
        {
            long bytes = rng.Next(0, 4 << 20);
            _log.Add(_coordinatorActor, _cycle, StressOp.Scavenge, 0, bytes);
            _heap.Scavenge(bytes);
        }
        if (rng.Next(8) == 0)
        {
            int percent = rng.Next(4) switch { 0 => -1, 1 => 25, 2 => 100, _ => 400 };
            _log.Add(_coordinatorActor, _cycle, StressOp.SetGcPercent, 0, percent);
            _heap.SetGcPercent(percent);
        }
    }

    /// <summary>At a quiescent point: every live object of every worker keeps its pattern and is found allocated.</summary>
    private bool CheckEveryLiveObject()
    {
        foreach (Worker w in _workers)
        {
            foreach (LiveObject obj in w.Live)
            {
                _coordinatorChecks++;
                if (!CheckPattern(_coordinatorActor, obj, "at the cycle's check"))
                    return false;
                _coordinatorFinds++;
                if (!CheckFound(_coordinatorActor, obj, obj.Address, "at the cycle's check"))
                    return false;
            }
        }
        return true;
    }

    private void CorruptOneObject()
    {
        foreach (Worker w in _workers)
        {
            if (w.Live.Count > 0)
            {
                LiveObject obj = w.Live[w.Live.Count / 2];
                unsafe
                {
                    ((byte*)obj.Address)[obj.Size - 1] ^= 0x5a;
                }
                _log.Add(_coordinatorActor, _cycle, StressOp.Check, obj.Address, obj.Size, "CORRUPTED one byte (test hook)");
                return;
            }
        }
    }

    // ---------------------------------------------------------------- workers

    private void WorkerMain(Worker w)
    {
        try
        {
            while (true)
            {
                if (!_start.SignalAndWait(_o.HangTimeout, _cts.Token))
                {
                    Fail(w.Id, "hang: the coordinator did not reach a stop-the-world point");
                    return;
                }
                if (_stopping)
                    return;
                Epoch(w);
                if (!_end.SignalAndWait(_o.HangTimeout, _cts.Token))
                {
                    Fail(w.Id, "hang: the other threads did not reach the end of the epoch");
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            Fail(w.Id, "the heap threw", ex);
        }
    }

    private void Epoch(Worker w)
    {
        // P-less lookups first: after FinishMark this worker's idle P is stale, and the background
        // sweeper or a FinishSweep may be flushing it (sweeping its cached spans) right now.
        for (int k = 0; k < PlessLookups && w.Live.Count > 0; k++)
        {
            LiveObject obj = w.Live[w.Rng.Next(w.Live.Count)];
            nint ptr = obj.Address + (nint)w.Rng.NextInt64(obj.Size);
            _log.Add(w.Id, _cycle, StressOp.FindObject, ptr, obj.Size, "without a P");
            w.Finds++;
            if (!CheckFound(w.Id, obj, ptr, "by its owner, holding no P"))
                return;
        }
        IProcessor p = _heap.AcquireP(w.Id);
        _log.Add(w.Id, _cycle, StressOp.Reacquire, 0, w.Id, _markEpoch ? "mark epoch" : "sweep epoch");
        try
        {
            for (int k = 0; k < _o.OpsPerEpoch && !_cts.IsCancellationRequested; k++)
            {
                if (!Step(w, ref p))
                    return;
                w.Ops++;
            }
        }
        finally
        {
            p.Release();
        }
        if (!_markEpoch)
            w.Snapshot = [.. w.Live];
    }

    /// <summary>One random operation; false after a violation.</summary>
    private bool Step(Worker w, ref IProcessor p)
    {
        Random rng = w.Rng;
        int r = rng.Next(1000);
        if (r < 550 || w.Live.Count == 0)
            return Allocate(w, p);
        if (r < 750)
        {
            int i = rng.Next(w.Live.Count);
            LiveObject obj = w.Live[i];
            _log.Add(w.Id, _cycle, StressOp.Drop, obj.Address, obj.Size);
            w.Checks++;
            if (!CheckPattern(w.Id, obj, "before it was dropped"))
                return false;
            w.Live[i] = w.Live[^1];
            w.Live.RemoveAt(w.Live.Count - 1);
            return true;
        }
        if (r < 870)
        {
            LiveObject obj = w.Live[rng.Next(w.Live.Count)];
            _log.Add(w.Id, _cycle, StressOp.Check, obj.Address, obj.Size);
            w.Checks++;
            return CheckPattern(w.Id, obj, "in a random check");
        }
        if (r < 990)
        {
            LiveObject obj = w.Live[rng.Next(w.Live.Count)];
            nint ptr = obj.Address + (nint)rng.NextInt64(obj.Size);
            _log.Add(w.Id, _cycle, StressOp.FindObject, ptr, obj.Size);
            w.Finds++;
            return CheckFound(w.Id, obj, ptr, "by its owner");
        }
        if (r < 994)
        {
            _log.Add(w.Id, _cycle, StressOp.Flush);
            p.Flush();
            return true;
        }
        if (r < 997)
        {
            _log.Add(w.Id, _cycle, StressOp.Reacquire, 0, w.Id);
            p.Release();
            p = _heap.AcquireP(w.Id);
            return true;
        }
        long pages = _heap.SweepOne();
        _log.Add(w.Id, _cycle, StressOp.SweepOne, 0, pages);
        return true;
    }

    private bool Allocate(Worker w, IProcessor p)
    {
        Random rng = w.Rng;
        (long size, bool noscan) = NextSize(rng);
        bool needzero = rng.Next(10) != 0;
        nint a = p.Alloc(size, noscan, needzero);
        _log.Add(w.Id, _cycle, StressOp.Alloc, a, size, noscan ? (needzero ? "noscan" : "noscan dirty-ok") : (needzero ? null : "dirty-ok"));
        if (size == 0)
        {
            if (a != _heap.ZeroBase)
                return Fail(w.Id, $"Alloc(0) returned 0x{a:x}, not ZeroBase 0x{_heap.ZeroBase:x}");
            return true;
        }
        if (a == 0)
            return Fail(w.Id, $"Alloc({size}) returned null");
        var obj = new LiveObject(a, size, (ulong)rng.NextInt64() | 1) { NoScan = noscan };
        // Go zeroes tiny blocks always, and everything else when needzero is set.
        if (needzero || obj.Tiny)
        {
            long k = StressPattern.FirstNonZero(a, size);
            if (k >= 0)
                return Fail(w.Id, $"Alloc({size}, noscan: {noscan}, needzero: {needzero}) returned 0x{a:x} with byte {k} = 0x{StressPattern.Actual(a, k):x2}, not zero");
        }
        StressPattern.Write(a, size, obj.Tag);
        w.Live.Add(obj);
        if (w.Live.Count > _o.MaxLivePerThread)
        {
            int i = rng.Next(w.Live.Count);
            LiveObject old = w.Live[i];
            w.Checks++;
            if (!CheckPattern(w.Id, old, "before it was dropped"))
                return false;
            w.Live[i] = w.Live[^1];
            w.Live.RemoveAt(w.Live.Count - 1);
        }
        return true;
    }

    /// <summary>Sizes: a third tiny, half small (log-uniform 16 B..32 KiB), some small odd sizes, 1% large, a few zero.</summary>
    private static (long Size, bool NoScan) NextSize(Random rng)
    {
        double r = rng.NextDouble();
        bool noscan = rng.Next(2) == 0;
        if (r < 0.33)
            return (rng.Next(1, 16), true);
        if (r < 0.83)
            return ((long)(16 * Math.Pow(2048, rng.NextDouble())), noscan);
        if (r < 0.83 + LargeShare)
            return (rng.NextInt64(SizeClasses.MaxSmallSize + 1, MaxLarge), noscan);
        if (r < 0.845)
            return (0, noscan);
        return (rng.Next(1, 600), noscan);
    }

    // ---------------------------------------------------------------- reader

    private void ReaderMain()
    {
        var rng = new Random((int)_o.Seed ^ 0x4eade4);
        ulong lastNumGc = 0;
        try
        {
            while (true)
            {
                lock (_readerGate)
                {
                    if (_readerStop)
                        return;
                    if (_readerPaused)
                    {
                        _readerParked = true;
                        Monitor.PulseAll(_readerGate);
                        while (_readerPaused && !_readerStop)
                            Monitor.Wait(_readerGate);
                        _readerParked = false;
                        if (_readerStop)
                            return;
                    }
                }
                ReaderSnapshot? snap = Volatile.Read(ref _readerSnapshot);
                long epoch = Interlocked.Read(ref _readerEpoch);
                if (snap == null || snap.Epoch != epoch || snap.Objects.Length == 0)
                {
                    HeapStats st = _heap.ReadStats();
                    _log.Add(_readerActor, _cycle, StressOp.ReadStats, 0, st.HeapInuse);
                    if (!CheckStats(st, ref lastNumGc))
                        return;
                    Thread.Yield();
                    continue;
                }
                for (int k = 0; k < 64; k++)
                {
                    LiveObject obj = snap.Objects[rng.Next(snap.Objects.Length)];
                    nint ptr = obj.Address + (nint)rng.NextInt64(obj.Size);
                    bool found = _heap.FindObject(ptr, out ObjectInfo info);
                    // The answer counts only if the object was certainly live throughout the call.
                    Interlocked.MemoryBarrier();
                    if (Interlocked.Read(ref _readerEpoch) != epoch)
                        break;
                    _log.Add(_readerActor, _cycle, StressOp.ReaderFind, ptr, obj.Size);
                    Interlocked.Increment(ref _readerLookups);
                    if (!Found(obj, ptr, found, info, out string why))
                    {
                        Fail(_readerActor, $"FindObject(0x{ptr:x}) of a live object 0x{obj.Address:x} ({obj.Size} bytes, marked in the last cycle) by the reader: {why}");
                        return;
                    }
                }
                if (rng.Next(16) == 0)
                {
                    HeapStats st = _heap.ReadStats();
                    _log.Add(_readerActor, _cycle, StressOp.ReadStats, 0, st.HeapInuse);
                    if (!CheckStats(st, ref lastNumGc))
                        return;
                }
            }
        }
        catch (Exception ex)
        {
            Fail(_readerActor, "the heap threw", ex);
        }
        finally
        {
            lock (_readerGate)
            {
                _readerParked = true;
                Monitor.PulseAll(_readerGate);
            }
        }
    }

    private bool CheckStats(HeapStats st, ref ulong lastNumGc)
    {
        ulong numGc = (ulong)st.NumGC;
        if (numGc < lastNumGc)
            return Fail(_readerActor, $"ReadStats: NumGC went back from {lastNumGc} to {numGc}");
        lastNumGc = numGc;
        if (st.HeapInuse < 0 || st.HeapInuse > st.HeapSys)
            return Fail(_readerActor, $"ReadStats: heap_inuse {st.HeapInuse} outside 0..heap_sys {st.HeapSys}");
        return true;
    }

    private void PauseReader()
    {
        if (!_o.Reader)
            return;
        lock (_readerGate)
        {
            _readerPaused = true;
            while (!_readerParked)
                Monitor.Wait(_readerGate);
        }
    }

    private void ResumeReader()
    {
        if (!_o.Reader)
            return;
        lock (_readerGate)
        {
            _readerPaused = false;
            Monitor.PulseAll(_readerGate);
        }
    }

    // ---------------------------------------------------------------- checks

    private bool CheckPattern(int actor, LiveObject obj, string when)
    {
        long k = StressPattern.FirstMismatch(obj.Address, obj.Size, obj.Tag);
        if (k < 0)
            return true;
        return Fail(actor, $"live object 0x{obj.Address:x} ({obj.Size} bytes{(obj.NoScan ? ", noscan" : "")}) lost its pattern {when}: " +
            $"byte {k} is 0x{StressPattern.Actual(obj.Address, k):x2}, expected 0x{StressPattern.Expected(obj.Tag, k):x2}");
    }

    private bool CheckFound(int actor, LiveObject obj, nint ptr, string who)
    {
        bool found = _heap.FindObject(ptr, out ObjectInfo info);
        if (Found(obj, ptr, found, info, out string why))
            return true;
        return Fail(actor, $"FindObject(0x{ptr:x}) of live object 0x{obj.Address:x} ({obj.Size} bytes{(obj.NoScan ? ", noscan" : "")}) {who}: {why}");
    }

    private static bool Found(LiveObject obj, nint ptr, bool found, ObjectInfo info, out string why)
    {
        why = "";
        if (!found)
            why = "not found";
        else if (!info.Allocated)
            why = $"reported not allocated ({info})";
        else if (obj.Address < info.Base || obj.Address + (nint)obj.Size > info.Base + (nint)info.Size)
            why = $"resolved to an object that does not hold it ({info})";
        else if (!obj.Tiny && info.Base != obj.Address)
            why = $"resolved to base 0x{info.Base:x}, not the object's address ({info})";
        return why.Length == 0;
    }

    /// <summary>Records the first violation and cancels the run; always false.</summary>
    private bool Fail(int actor, string message, Exception? ex = null)
    {
        string name = actor == _readerActor ? "reader" : actor == _coordinatorActor ? "coordinator" : $"worker{actor}";
        var v = new StressViolation(_impl, _o.Seed, _o.Threads, name, Volatile.Read(ref _cycle), message, ex?.ToString(), []);
        if (Interlocked.CompareExchange(ref _violation, v, null) == null)
        {
            // The log tail is taken at once (the other threads may add a few records meanwhile).
            _violation = v with { LogTail = _log.Tail(_o.LogTail) };
            _cts.Cancel();
        }
        return false;
    }
}
