// TraceReplayer: replays an allocation trace on an allocator (any IHeap, made by a factory so the
// Reference and the Optimized can run the same trace side by side) and checks the allocator's sweep
// against the trace. It plays the part of Go's GC: a tracealloc allocates the recorded size on its
// recorded P with its noscan flag (old traces: P0, scan; p=-1: P0, counted; a P >= Procs wraps
// modulo Procs), needzero=true. Each P is acquired at its first allocation after a cycle and held:
// an idle P keeps its mcache across a tracegc, so the heap's lazy flush on the next AcquireP runs,
// as in Go. At the i-th tracegc() it releases every held P (stop-the-world needs none held),
// StartMark, Marks every live object the trace does not free in cycle i (TracePlan decides which),
// FinishMark, FinishSweep, and checks that the objects the sweep reported to HeapOptions.OnFree are
// exactly the ones the trace frees in cycle i (same addresses, same slot sizes). After each cycle it
// calls Verify() (optionally after Scavenge(all)) and checks HeapObjects / HeapAlloc against its
// own live set. Tiny objects are tracked by the 16-byte block our heap put them in: a block is
// expected free when all its objects are dead. Fidelity to Go (ReplayFidelity) is measured as it
// goes: tiny offsets, span packing, per-cycle live bytes / objects against the trace's own. The
// time spent inside the allocator (Alloc and the GC calls) is timed apart from the replayer's own
// bookkeeping. It does not own the console: the report is ReplayReport's job (src/Cli).
// End of trace: no extra cycle. The trace records no GC after its last event, so objects allocated
// after the last tracegc() are checked only by a final Verify() and the final stats.
// Lockstep (ReplayLockstep): the same replay on a LockstepHeap of two implementations, which
// compares both heaps after every call (addresses, frees, samples, full stats); the first
// EquivalenceException ends the replay and is kept with the trace event it happened at. The cycle
// rows and final stats are then read from each heap (LockstepHeap.A / .B): one ReplayResult each.
// Threading: single-threaded (no background sweeper), so the replay is deterministic.
// Out of memory (OutOfMemoryException from the heap or the runtime) ends the replay by propagating:
// the host failed, the allocator did not disagree with anything.
// No Go counterpart: it stands in for the Go program and its GC (runtime/mgc.go) that drove the
// allocator when the trace was recorded.
using System.Diagnostics;

namespace GoAlloc.Replay;

public sealed record ReplayOptions
{
    /// <summary>GOMAXPROCS of the replayed heap; 0 = the trace's highest P + 1.</summary>
    public int Procs { get; init; }
    /// <summary>Scavenge(long.MaxValue) after each cycle's sweep.</summary>
    public bool Scavenge { get; init; }
    /// <summary>Disagreements kept verbatim (all are counted).</summary>
    public int MaxDisagreementsKept { get; init; } = 20;
    /// <summary>How many size classes a cycle row lists.</summary>
    public int TopClasses { get; init; } = 5;
    /// <summary>Called after each GC cycle and at the end with the number of trace events replayed so far (a progress bar).</summary>
    public Action<int>? OnProgress { get; init; }
    /// <summary>Called once per stats view after the last event, before the heap is disposed and outside the timing (--plot reads span occupancy here).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Action<string, IHeap>? AtEnd { get; init; }
}

public sealed class TraceReplayer
{
    private readonly Func<HeapOptions, IHeap> _factory;
    private readonly ReplayOptions _options;

    public TraceReplayer(Func<HeapOptions, IHeap> factory, ReplayOptions? options = null)
    {
        _factory = factory;
        _options = options ?? new ReplayOptions();
    }

    public ReplayResult Replay(Trace trace, string implementation = "heap") =>
        Replay(trace, TracePlan.Build(trace), implementation);

    public ReplayResult Replay(Trace trace, TracePlan plan, string implementation = "heap") =>
        ReplayCore(trace, plan, [implementation], heap => [heap]).Results[0];

    /// <summary>
    /// Replays the trace once on a LockstepHeap of <paramref name="a"/> (the oracle) and
    /// <paramref name="b"/>, comparing both heaps after every operation (full stats after every
    /// StatsEvery-th allocation and after every other call). Every check of Replay runs too.
    /// modelChecked: the factories wrap each heap in a ModelCheckedHeap (reported, not done here).
    /// </summary>
    public static LockstepReplayResult ReplayLockstep(
        Trace trace, TracePlan plan,
        (string Name, Func<HeapOptions, IHeap> Factory) a, (string Name, Func<HeapOptions, IHeap> Factory) b,
        ReplayOptions? options = null, int statsEvery = 1, bool modelChecked = false)
    {
        var replayer = new TraceReplayer(o => new LockstepHeap(a.Factory, b.Factory, o, statsEvery, nameA: a.Name, nameB: b.Name), options);
        (ReplayResult[] results, Run run, long operations) = replayer.ReplayCore(trace, plan, [a.Name, b.Name], heap =>
        {
            var lockstep = (LockstepHeap)heap;
            return [lockstep.A, lockstep.B];
        });
        return new LockstepReplayResult
        {
            A = results[0],
            B = results[1],
            StatsEvery = Math.Max(1, statsEvery),
            Operations = operations,
            Disagreement = run.Equivalence,
            ModelChecked = modelChecked,
        };
    }

    /// <summary>One replay on the factory's heap; a ReplayResult per stats view (the heaps its rows and final stats are read from).</summary>
    private (ReplayResult[] Results, Run Run, long Operations) ReplayCore(Trace trace, TracePlan plan, string[] names, Func<IHeap, IHeap[]> views)
    {
        var run = new Run(plan, _options, names.Length);
        var sw = Stopwatch.StartNew();
        int procs = _options.Procs > 0 ? _options.Procs : Math.Max(1, trace.MaxP + 1);
        var heapOptions = new HeapOptions { Procs = procs, OnFree = run.RecordFree };
        using (IHeap heap = _factory(heapOptions))
        {
            IHeap[] viewHeaps = views(heap);
            run.Execute(heap, viewHeaps, trace);
            sw.Stop();
            for (int v = 0; v < names.Length; v++)
                _options.AtEnd?.Invoke(names[v], viewHeaps[v]);
            long operations = heap is LockstepHeap lockstep ? lockstep.Operations : 0;
            var results = new ReplayResult[names.Length];
            for (int v = 0; v < names.Length; v++)
            {
                results[v] = new ReplayResult
                {
                    Implementation = names[v],
                    Options = _options,
                    Plan = plan,
                    Rows = run.Rows[v],
                    Disagreements = run.Disagreements,
                    DisagreementCount = run.DisagreementCount,
                    Failure = run.Failure,
                    VerifyPasses = run.VerifyPasses,
                    Allocations = run.Allocations,
                    SweepFrees = run.SweepFrees,
                    FinalStats = run.FinalStats[v] ?? new HeapStats(),
                    WallTime = sw.Elapsed,
                    VerifyTime = run.VerifyTime,
                    AllocatorTime = run.AllocatorTime,
                    MarkOffsets = run.MarkOffsets,
                    Procs = procs,
                    Fidelity = run.Fidelity,
                };
            }
            return (results, run, operations);
        }
    }

    /// <summary>The state of one replay.</summary>
    private sealed class Run(TracePlan plan, ReplayOptions options, int viewCount)
    {
        private readonly nint[] _ourAddr = new nint[plan.ObjectCount];
        /// <summary>Objects our heap has freed (expected or not): never marked again.</summary>
        private readonly bool[] _gone = new bool[plan.ObjectCount];
        /// <summary>Object ids allocated and not yet freed by our sweep, in allocation order.</summary>
        private List<int> _live = [];
        /// <summary>Our address -> object id, for every object our heap still holds.</summary>
        private readonly Dictionary<nint, int> _byOurAddr = [];
        /// <summary>What OnFree reported in the current sweep; OnFree runs on the sweeping thread.</summary>
        private readonly List<(nint Addr, long Size)> _freed = [];
        private readonly Stopwatch _verifyWatch = new();
        /// <summary>Tiny objects by the 16-byte block our heap put them in.</summary>
        private readonly Dictionary<nint, List<int>> _tinyBlocks = [];
        private readonly bool[] _tiny = new bool[plan.ObjectCount];
        /// <summary>Per (P, span class): the previous allocation's trace and our address, for span packing.</summary>
        private readonly Dictionary<(int P, long Size, bool Noscan), (ulong Go, nint Ours)> _lastInClass = [];
        /// <summary>Per P: did the previous tiny allocation's offset disagree (a cascade follows)?</summary>
        private readonly Dictionary<int, bool> _tinyDiverged = [];
        /// <summary>Per (P, cycle): tiny divergences explained by the GC's timing.</summary>
        private readonly Dictionary<(int P, int Cycle), int> _gcTimingEpisodes = [];
        private long _allocatorTicks;

        public ReplayFidelity Fidelity { get; } = new();
        /// <summary>Per cycle: the arena offsets this replay marked (for TimeAllocatorAlone).</summary>
        public List<long[]> MarkOffsets { get; } = [];
        public TimeSpan AllocatorTime => Stopwatch.GetElapsedTime(0, _allocatorTicks);

        /// <summary>The cycle rows, one list per stats view.</summary>
        public List<CycleRow>[] Rows { get; } = [.. Enumerable.Range(0, viewCount).Select(_ => new List<CycleRow>())];
        public List<Disagreement> Disagreements { get; } = [];
        public long DisagreementCount { get; private set; }
        public string? Failure { get; private set; }
        public int VerifyPasses { get; private set; }
        public long Allocations { get; private set; }
        public long SweepFrees { get; private set; }
        public HeapStats?[] FinalStats { get; } = new HeapStats?[viewCount];
        /// <summary>The first difference a LockstepHeap found (the replay stopped there).</summary>
        public LockstepDisagreement? Equivalence { get; private set; }
        public TimeSpan VerifyTime => _verifyWatch.Elapsed;

        public void RecordFree(nint addr, long size)
        {
            lock (_freed)
                _freed.Add((addr, size));
        }

        /// <param name="heap">The heap the replay drives.</param>
        /// <param name="views">The heaps the cycle rows and final stats are read from: the heap itself, or the two heaps of a LockstepHeap.</param>
        public void Execute(IHeap heap, IHeap[] views, Trace trace)
        {
            int cycle = 0, nextId = 0;
            TraceEvent? current = null;
            bool ended = false;
            string Where() => ended ? "end of trace" : current?.ToString() ?? "start of trace";
            var ps = new IProcessor?[heap.ProcCount];
            try
            {
                int done = 0;
                foreach (TraceEvent e in trace.Events)
                {
                    current = e;
                    done++;
                    if (e.Kind == TraceEventKind.Alloc)
                    {
                        int pid = e.P < 0 ? 0 : e.P % ps.Length;
                        IProcessor p = ps[pid] ?? Timed(() => heap.AcquireP(pid));
                        ps[pid] = p;
                        Alloc(p, nextId++, e, cycle);
                    }
                    else if (e.Kind == TraceEventKind.Gc)
                    {
                        ReleaseAll(ps);
                        if (!Cycle(heap, views, cycle))
                            break;
                        cycle++;
                        options.OnProgress?.Invoke(done);
                    }
                    // tracefree: nothing to do here; the plan already knows which cycle frees what.
                }
                ended = true;
                options.OnProgress?.Invoke(trace.Events.Count);
                ReleaseAll(ps);
                if (Failure == null)
                    VerifyHeap(heap, "end of trace");
            }
            catch (EquivalenceException ex)
            {
                // The two heaps of a lockstep replay differ: the replay stops at the first difference.
                Equivalence = new LockstepDisagreement(Where(), ended ? null : current, cycle, ex.Message);
                foreach (IProcessor? p in ps)
                    ReleaseAfterFailure(p);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A heap that throws (a fail-fast invariant check, an unexpected state) ends the replay.
                // Out of memory is not caught: it is the host's failure, not a finding about the
                // allocator (the command reports it as exit 3 and does not replay again).
                Failure = $"at {Where()}: {ex.GetType().Name}: {ex.Message}";
                foreach (IProcessor? p in ps)
                    ReleaseAfterFailure(p);
            }
            for (int v = 0; v < views.Length; v++)
                FinalStats[v] = views[v].ReadStats();
        }

        private void ReleaseAll(IProcessor?[] ps)
        {
            for (int i = 0; i < ps.Length; i++)
            {
                if (ps[i] is { } p)
                {
                    ps[i] = null;
                    Timed(p.Release);
                }
            }
        }

        private T Timed<T>(Func<T> call)
        {
            long t0 = Stopwatch.GetTimestamp();
            T r = call();
            _allocatorTicks += Stopwatch.GetTimestamp() - t0;
            return r;
        }

        private void Timed(Action call)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            _allocatorTicks += Stopwatch.GetTimestamp() - t0;
        }

        private static void ReleaseAfterFailure(IProcessor? p)
        {
            try
            {
                p?.Release();
            }
            catch (Exception ex) when (ex is InvalidOperationException or HeapInvariantException or EquivalenceException)
            {
                // The P may be in any state after a failure; the heap is disposed next anyway.
            }
        }

        private void Alloc(IProcessor p, int id, TraceEvent e, int cycle)
        {
            long t0 = Stopwatch.GetTimestamp();
            nint x = p.Alloc(e.Size, noscan: e.Noscan, needzero: true);
            _allocatorTicks += Stopwatch.GetTimestamp() - t0;
            Allocations++;
            _ourAddr[id] = x;
            _live.Add(id);
            if (e.IsTiny)
            {
                TinyFidelity(p.Id, id, e, x, cycle);
                return;
            }
            if (e.Size <= SizeClasses.MaxSmallSize)
            {
                var key = (p.Id, e.Size, e.Noscan);
                if (_lastInClass.TryGetValue(key, out var last))
                    Fidelity.AddPacking(e.Address == last.Go + (ulong)e.Size, x == last.Ours + (nint)e.Size);
                _lastInClass[key] = (e.Address, x);
            }
            if (!_byOurAddr.TryAdd(x, id))
            {
                int old = _byOurAddr[x];
                Disagree(cycle, DisagreementKind.AddressStillLive,
                    $"{e}: Alloc returned 0x{x:x}, still holding live {Describe(old)}");
                _gone[old] = true;
                _byOurAddr[x] = id;
            }
        }

        /// <summary>
        /// Tiny allocator fidelity: our offset inside the 16-byte block against Go's (address &amp; 15).
        /// A disagreement is explained when the object was allocated with no P (Go used another
        /// mcache), when the previous tiny allocation on this P already disagreed (the block states
        /// diverged and stay so until an equal offset inside a block), or by the GC's timing (at
        /// most two episodes per P and cycle, see below).
        /// </summary>
        private void TinyFidelity(int pid, int id, TraceEvent e, nint x, int cycle)
        {
            _tiny[id] = true;
            nint block = x & ~(nint)(TraceEvent.MaxTinySize - 1);
            if (!_tinyBlocks.TryGetValue(block, out List<int>? members))
                _tinyBlocks[block] = members = [];
            members.Add(id);
            long goOffset = (long)(e.Address & (TraceEvent.MaxTinySize - 1));
            long ourOffset = x & (TraceEvent.MaxTinySize - 1);
            bool diverged = _tinyDiverged.GetValueOrDefault(pid);
            if (goOffset == ourOffset)
            {
                Fidelity.AddTiny(null);
                // Equal offsets inside a block leave equal tinyoffsets: the states agree again.
                if (goOffset != 0)
                    _tinyDiverged[pid] = false;
                return;
            }
            TinyMismatch kind;
            if (e.P < 0)
                kind = TinyMismatch.NoP;
            else if (diverged)
                kind = TinyMismatch.Cascade;
            else if (cycle > 0 && _gcTimingEpisodes.GetValueOrDefault((pid, cycle)) < 2)
            {
                // Go's tracegc() is printed at gcStart; its mcaches drop their tiny blocks at mark
                // termination, later and at a moment the trace does not record. We drop them at the
                // cycle. So once per P and cycle Go may keep using its old block past the tracegc, and
                // once its reset may come later than ours.
                _gcTimingEpisodes[(pid, cycle)] = _gcTimingEpisodes.GetValueOrDefault((pid, cycle)) + 1;
                kind = TinyMismatch.GcTiming;
            }
            else
                kind = TinyMismatch.Unexplained;
            Fidelity.AddTiny(kind);
            _tinyDiverged[pid] = true;
            if (kind == TinyMismatch.Unexplained)
                Disagree(cycle, DisagreementKind.TinyOffset, $"{e}: tiny offset {ourOffset}, Go's {goOffset} (P{pid})");
        }

        /// <summary>One GC cycle at the i-th tracegc(); false if the replay must stop (a failure).</summary>
        private bool Cycle(IHeap heap, IHeap[] views, int i)
        {
            long disagreementsBefore = DisagreementCount;
            long t0 = Stopwatch.GetTimestamp();
            heap.StartMark();
            _allocatorTicks += Stopwatch.GetTimestamp() - t0;
            var expected = new Dictionary<nint, int>(plan.ExpectedFreesInCycle(i));
            int[] death = plan.DeathCycle;
            long markTicks = 0;
            var marked = new List<long>(_live.Count);
            foreach (int id in _live)
            {
                if (_gone[id])
                    continue;
                if (_tiny[id])
                {
                    // Tiny: the block is expected free when every object in it is dead this cycle.
                    nint block = _ourAddr[id] & ~(nint)(TraceEvent.MaxTinySize - 1);
                    if (death[id] > i)
                    {
                        long m0 = Stopwatch.GetTimestamp();
                        bool ok = heap.Mark(_ourAddr[id]);
                        markTicks += Stopwatch.GetTimestamp() - m0;
                        marked.Add(_ourAddr[id] - heap.ArenaBase);
                        if (!ok)
                            Disagree(i, DisagreementKind.MarkMissed, $"live tiny object {Describe(id)}: Mark found no allocated object");
                    }
                    else if (death[id] == i && !expected.ContainsKey(block)
                        && _tinyBlocks[block].TrueForAll(m => _gone[m] || death[m] <= i))
                    {
                        expected[block] = id;
                    }
                    continue;
                }
                if (death[id] == i)
                    expected[_ourAddr[id]] = id;
                else if (death[id] > i)
                {
                    long m0 = Stopwatch.GetTimestamp();
                    bool ok = heap.Mark(_ourAddr[id]);
                    markTicks += Stopwatch.GetTimestamp() - m0;
                    marked.Add(_ourAddr[id] - heap.ArenaBase);
                    if (!ok)
                        Disagree(i, DisagreementKind.MarkMissed, $"live object {Describe(id)}: Mark found no allocated object");
                }
                // death[id] < i: reported as KeptDeadObject already; left unmarked so this sweep frees it.
            }
            _allocatorTicks += markTicks;
            MarkOffsets.Add([.. marked]);
            lock (_freed)
                _freed.Clear();
            t0 = Stopwatch.GetTimestamp();
            heap.FinishMark();
            heap.FinishSweep();
            _allocatorTicks += Stopwatch.GetTimestamp() - t0;

            (nint Addr, long Size)[] freed;
            lock (_freed)
                freed = [.. _freed];
            SweepFrees += freed.Length;
            foreach ((nint addr, long size) in freed)
            {
                if (_tinyBlocks.Remove(addr, out List<int>? members))
                {
                    expected.Remove(addr);
                    foreach (int m in members)
                    {
                        if (!_gone[m] && death[m] > i)
                            Disagree(i, DisagreementKind.FreedLiveObject, $"tiny {Describe(m)}: its block was swept, but the trace keeps it live in cycle {i}");
                        _gone[m] = true;
                    }
                    continue;
                }
                if (expected.Remove(addr, out int id))
                {
                    long slot = TracePlan.SlotSize(plan.ObjectSize[id]);
                    if (size != slot)
                        Disagree(i, DisagreementKind.FreedSizeMismatch, $"{Describe(id)}: sweep freed {size} bytes, expected a {slot}-byte slot");
                }
                else if (_byOurAddr.TryGetValue(addr, out id))
                {
                    if (death[id] >= i && !_gone[id])
                        Disagree(i, DisagreementKind.FreedLiveObject, $"{Describe(id)}: swept, but the trace keeps it live in cycle {i}");
                    // else: a late free of an object already reported as kept.
                }
                else
                {
                    Disagree(i, DisagreementKind.FreedUnknownAddress, $"sweep freed 0x{addr:x} ({size} bytes), which is no replay object");
                    continue;
                }
                _gone[id] = true;
                _byOurAddr.Remove(addr);
            }
            foreach ((nint addr, int id) in expected)
                Disagree(i, DisagreementKind.KeptDeadObject, $"{Describe(id)}: the trace frees it in cycle {i}, our sweep kept it");

            // Compact the live list: drop what the sweep freed. A tiny block counts once.
            var live = new List<int>(_live.Count);
            long liveBytes = 0, liveObjects = 0;
            foreach (int id in _live)
            {
                if (!_gone[id])
                {
                    live.Add(id);
                    if (!_tiny[id])
                    {
                        liveObjects++;
                        liveBytes += TracePlan.SlotSize(plan.ObjectSize[id]);
                    }
                }
            }
            liveObjects += _tinyBlocks.Count;
            liveBytes += (long)_tinyBlocks.Count * TraceEvent.MaxTinySize;
            _live = live;
            Fidelity.AddCycle(liveObjects, liveBytes, plan.TraceLiveObjects[i], plan.TraceLiveBytes[i]);

            long scavenged = options.Scavenge ? heap.Scavenge(long.MaxValue) : 0;
            if (!VerifyHeap(heap, $"cycle {i}"))
                return false;

            long disagreements = DisagreementCount - disagreementsBefore;
            for (int v = 0; v < views.Length; v++)
            {
                HeapStats st = views[v].ReadStats();
                // The first view is the oracle (a lockstep heap has already checked that the others equal it).
                if (v == 0 && DisagreementCount == 0)
                {
                    CheckStats(i, st, liveObjects, liveBytes);
                    disagreements = DisagreementCount - disagreementsBefore;
                }
                Rows[v].Add(new CycleRow(
                    Cycle: i,
                    AllocsSinceLastCycle: plan.AllocsBeforeCycle[i],
                    TraceFrees: plan.ExpectedFreesInCycle(i),
                    SweepFrees: freed.Length,
                    Unpaired: plan.UnpairedInWindow[i],
                    HeapSys: st.HeapSys,
                    HeapInuse: st.HeapInuse,
                    HeapAlloc: st.HeapAlloc,
                    HeapReleased: st.HeapReleased,
                    ScavengedBytes: scavenged,
                    LiveObjects: st.HeapObjects,
                    TraceLiveObjects: plan.TraceLiveObjects[i],
                    TraceLiveBytes: plan.TraceLiveBytes[i],
                    TopClasses: TopClasses(st, options.TopClasses),
                    Disagreements: (int)disagreements));
            }
            return true;
        }

        /// <summary>After a clean sweep our heap holds exactly the replay's live objects.</summary>
        private void CheckStats(int i, HeapStats st, long liveObjects, long liveBytes)
        {
            if (st.HeapObjects != liveObjects)
                Disagree(i, DisagreementKind.Stats, $"HeapObjects {st.HeapObjects} != {liveObjects} live replay objects");
            if (st.HeapAlloc != liveBytes)
                Disagree(i, DisagreementKind.Stats, $"HeapAlloc {st.HeapAlloc} != {liveBytes} bytes of live replay objects");
        }

        private bool VerifyHeap(IHeap heap, string where)
        {
            _verifyWatch.Start();
            try
            {
                heap.Verify();
                VerifyPasses++;
                return true;
            }
            catch (HeapInvariantException ex)
            {
                Failure = $"{where}: Verify: {ex.Message}";
                return false;
            }
            finally
            {
                _verifyWatch.Stop();
            }
        }

        private string Describe(int id) =>
            $"object #{id} (trace 0x{plan.ObjectTraceAddress[id]:x}, 0x{plan.ObjectSize[id]:x} bytes, ours 0x{_ourAddr[id]:x})";

        private void Disagree(int cycle, DisagreementKind kind, string message)
        {
            DisagreementCount++;
            if (Disagreements.Count < options.MaxDisagreementsKept)
                Disagreements.Add(new Disagreement(cycle, kind, message));
        }
    }

    /// <summary>
    /// The allocator alone: the trace's allocations on their Ps and, at each tracegc, the marks a
    /// checked replay of the same implementation made (<paramref name="markOffsets"/>, arena
    /// offsets: the heap is deterministic), StartMark .. FinishSweep; no bookkeeping, no checks, one
    /// clock read at each end. Returns the elapsed time, or null when a mark found no object (the
    /// heap did not repeat the checked replay's addresses: no figure rather than a wrong one).
    /// </summary>
    public static TimeSpan? TimeAllocatorAlone(Trace trace, IReadOnlyList<long[]> markOffsets, Func<HeapOptions, IHeap> factory, int procs)
    {
        // The events as flat arrays, so the timed loop reads no records.
        int n = trace.Events.Count;
        var kind = new byte[n];
        var size = new long[n];
        var pid = new int[n];
        var noscan = new bool[n];
        for (int i = 0; i < n; i++)
        {
            TraceEvent e = trace.Events[i];
            kind[i] = (byte)e.Kind;
            size[i] = e.Size;
            pid[i] = e.P < 0 ? 0 : e.P % procs;
            noscan[i] = e.Noscan;
        }
        using IHeap heap = factory(new HeapOptions { Procs = procs });
        var ps = new IProcessor?[procs];
        int cycle = 0;
        bool missed = false;
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            if (kind[i] == (byte)TraceEventKind.Alloc)
            {
                IProcessor p = ps[pid[i]] ??= heap.AcquireP(pid[i]);
                p.Alloc(size[i], noscan[i], needzero: true);
            }
            else if (kind[i] == (byte)TraceEventKind.Gc)
            {
                if (cycle >= markOffsets.Count)
                    break; // the checked replay stopped before this cycle
                for (int j = 0; j < procs; j++)
                {
                    ps[j]?.Release();
                    ps[j] = null;
                }
                heap.StartMark();
                nint arena = heap.ArenaBase;
                foreach (long off in markOffsets[cycle])
                    missed |= !heap.Mark(arena + (nint)off);
                heap.FinishMark();
                heap.FinishSweep();
                cycle++;
            }
        }
        for (int j = 0; j < procs; j++)
            ps[j]?.Release();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(t0);
        return missed ? null : elapsed;
    }

    /// <summary>The size classes with the most live objects (class 0 = large objects), most first.</summary>
    public static IReadOnlyList<ClassCount> TopClasses(HeapStats st, int n)
    {
        var counts = new List<ClassCount>();
        for (int c = 1; c < st.BySize.Length; c++)
        {
            long live = st.BySize[c].Mallocs - st.BySize[c].Frees;
            if (live > 0)
                counts.Add(new ClassCount(c, st.BySize[c].Size, live));
        }
        long large = st.LargeAllocs - st.LargeFrees;
        if (large > 0)
            counts.Add(new ClassCount(0, 0, large));
        counts.Sort((a, b) => b.Objects != a.Objects ? b.Objects.CompareTo(a.Objects) : a.SizeClass.CompareTo(b.SizeClass));
        return counts.Count > n ? counts.GetRange(0, n) : counts;
    }
}
