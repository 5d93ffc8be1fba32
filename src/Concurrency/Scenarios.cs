// The concurrent scenarios Coyote explores, each on either allocator. A scenario sets up a heap
// single-threaded, runs its concurrent part as controlled tasks (plus the real background sweeper
// thread where named), then checks at the end of the iteration: Verify(), no object handed out
// twice, no marked (or allocated-black) object freed, every unmarked object freed once sweeping
// is done, and the scenario's own rules. Any exception is a bug for Coyote.
// A scenario disposes its heap only when it passes: a failed one leaves it (Coyote stops at the
// first bug), because Dispose would throw "P still held" for the failed task's P, and that
// exception would replace the real failure in the bug report. Every heap gets TraceSink as its
// HeapOptions.OnTrace (null in the tests; `reproduce` sets it to print the replayed interleaving).
// Sequential mode (SequentialScope) runs the same scenario single-threaded: every task body runs
// to completion where it is started, in program order, and no background sweeper starts (the
// foreground sweeps do its work). A seeded bug that fails there needs no race.
using System.Runtime.CompilerServices;

namespace GoAlloc.Concurrency;

public static partial class Scenarios
{
    public const string Reference = ConcurrencyChoices.Reference;
    public const string Optimized = ConcurrencyChoices.Optimized;

    /// <summary>Every scenario Get knows (the list `alloc explore` accepts: ConcurrencyChoices.cs).</summary>
    public static IReadOnlyList<string> Names => ConcurrencyChoices.Scenarios;

    /// <summary>Scenarios that exist for one allocator only.</summary>
    public static bool Applies(string name, string impl) => ConcurrencyChoices.Applies(name, impl);

    /// <summary>
    /// Receives every allocator step (HeapOptions.OnTrace) of the heaps the scenarios create; null
    /// in the tests. Set by `reproduce` around a replay to print the interleaving. It must add no
    /// Coyote scheduling point (no lock, Volatile or Interlocked in rewritten code), or the replay
    /// would no longer follow the recorded schedule.
    /// </summary>
    public static Action<HeapTraceEvent>? TraceSink { get; set; }

    public static IHeap CreateHeap(string impl, HeapOptions options)
    {
        options = options with { OnTrace = options.OnTrace + TraceSink };
        return impl switch
        {
            Reference => new GoAlloc.Reference.MHeap(options),
            Optimized => new GoAlloc.Optimized.MHeap(options),
            _ => throw new ArgumentOutOfRangeException(nameof(impl), impl, "reference or optimized"),
        };
    }

    /// <summary>
    /// Sequential mode: task bodies run inline in program order and the background sweeper stays
    /// off, so the scenario is one thread. Set only through SequentialScope (one exploration at a
    /// time: the suite runs its tests one by one).
    /// </summary>
    public static bool Sequential { get; internal set; }

    /// <summary>Starts a scenario task: a controlled Task.Run, or the body run now in sequential mode.</summary>
    private static Task Spawn(Action body)
    {
        if (!Sequential)
            return Task.Run(body);
        body();
        return Task.CompletedTask;
    }

    /// <summary>Starts an async scenario task: a controlled Task.Run, or the body run now in sequential mode.</summary>
    private static Task Spawn(Func<Task> body) => Sequential ? body() : Task.Run(body);

    private static void StartSweeper(IHeap heap)
    {
        if (!Sequential)
            heap.StartBackgroundSweeper();
    }

    private static void StopSweeper(IHeap heap)
    {
        if (!Sequential)
            heap.StopBackgroundSweeper();
    }

    public static Func<Task> Get(string name, string impl) => name switch
    {
        "refill-sweep-flush" => () => RefillSweepFlush(impl),
        "cycle-boundary" => () => CycleBoundary(impl),
        "mark-vs-alloc" => () => MarkVsAlloc(impl),
        "pagecache-vs-scavenger" => () => PageCacheVsScavenger(impl),
        "large-vs-small" => () => LargeVsSmall(impl),
        "sweep-credit-repace" => () => SweepCreditRepace(impl),
        "sweep-vs-refill" => () => SweepVsRefill(impl),
        "spanset-push-pop" => SpanSetPushPop,
        "findobject-across-cycles" => () => FindObjectAcrossCycles(impl),
        "direct-alloc-arena-growth" => () => DirectAllocArenaGrowth(impl),
        "sweeper-restart-cycles" => () => SweeperRestartCycles(impl),
        "spanset-block-reuse" => SpanSetBlockReuse,
        "sweep-credit-many-ps" => () => SweepCreditManyPs(impl),
        "sweep-pacing" => () => SweepPacingModel(impl),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "scenarios: " + string.Join(", ", Names)),
    };

    /// <summary>INV-SWEEP-3 checked concurrently (the allocators' internal CheckSweepDone).</summary>
    private static void CheckSweepDone(IHeap heap)
    {
        switch (heap)
        {
            case GoAlloc.Reference.MHeap r:
                r.CheckSweepDone();
                break;
            case GoAlloc.Optimized.MHeap o:
                o.CheckSweepDone();
                break;
        }
    }

    private static void Check(bool ok, string what)
    {
        if (!ok)
            throw new InvalidOperationException("scenario check failed: " + what);
    }

    /// <summary>Allocates n objects of size on P id from the calling thread (acquire, alloc, release).</summary>
    private static List<nint> AllocOn(IHeap heap, int id, int n, long size, bool noscan = false)
    {
        IProcessor p = heap.AcquireP(id);
        var got = new List<nint>(n);
        try
        {
            for (int i = 0; i < n; i++)
                got.Add(p.Alloc(size, noscan));
        }
        finally
        {
            // A failing allocation must not leave the P held: the other tasks would wait for it forever.
            p.Release();
        }
        return got;
    }

    /// <summary>After sweeping is complete: the survivors are allocated, the dead are not (unless reallocated), nothing twice.</summary>
    private static void CheckOutcome(IHeap heap, IEnumerable<nint> survivors, IEnumerable<nint> dead, IEnumerable<nint> allocatedSince)
    {
        CheckObjects(heap, survivors, dead, allocatedSince);
        heap.Verify();
    }

    /// <summary>CheckOutcome without the whole-heap Verify.</summary>
    private static void CheckObjects(IHeap heap, IEnumerable<nint> survivors, IEnumerable<nint> dead, IEnumerable<nint> allocatedSince)
    {
        var since = new HashSet<nint>();
        foreach (nint a in allocatedSince)
            Check(since.Add(a), $"object 0x{a:x} handed out twice");
        foreach (nint a in survivors)
        {
            Check(!since.Contains(a), $"live object 0x{a:x} handed out again");
            Check(heap.FindObject(a, out ObjectInfo i) && i.Allocated && i.Base == a, $"marked object 0x{a:x} was freed");
        }
        foreach (nint a in dead)
        {
            if (!since.Contains(a))
                Check(!(heap.FindObject(a, out ObjectInfo i) && i.Allocated && i.Base == a), $"unmarked object 0x{a:x} survived sweep done");
        }
        foreach (nint a in since)
            Check(heap.FindObject(a, out ObjectInfo i) && i.Allocated && i.Base == a, $"new object 0x{a:x} is not allocated");
    }

    /// <summary>Objects in two spans of one class, half of them marked, then a new sweep cycle.</summary>
    private static (List<nint> Live, List<nint> Dead) SetUpCycle(IHeap heap, int perP, long size, int ps)
    {
        var all = new List<nint>();
        for (int id = 0; id < ps; id++)
            all.AddRange(AllocOn(heap, id, perP, size));
        heap.StartMark();
        var live = new List<nint>();
        var dead = new List<nint>();
        for (int i = 0; i < all.Count; i++)
        {
            if (i % 2 == 0)
            {
                heap.Mark(all[i]);
                live.Add(all[i]);
            }
            else
            {
                dead.Add(all[i]);
            }
        }
        heap.FinishMark();
        return (live, dead);
    }

    /// <summary>Two Ps refill one span class (lazy sweeping in cacheSpan) while the background sweeper sweeps and a third P flushes its cache.</summary>
    public static async Task RefillSweepFlush(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 3, MemProfileRate = 0 });
        (List<nint> live, List<nint> dead) = SetUpCycle(heap, 12, 1024, 3); // 8 objects per span
        StartSweeper(heap);
        var made = new List<nint>[3];
        Task t0 = Spawn(() => made[0] = AllocOn(heap, 0, 10, 1024));
        Task t1 = Spawn(() => made[1] = AllocOn(heap, 1, 10, 1024));
        Task t2 = Spawn(() =>
        {
            IProcessor p = heap.AcquireP(2);
            made[2] = [p.Alloc(1024), p.Alloc(1024)];
            p.Flush();
            p.Release();
        });
        await Task.WhenAll(new[] { t0, t1, t2 });
        heap.FinishSweep();
        CheckSweepDone(heap);
        heap.Verify();
        StopSweeper(heap);
        CheckOutcome(heap, live, dead, made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>Across a cycle boundary: Ps acquired after FinishMark flush lazily while the sweeper runs and the main thread finishes the sweep.</summary>
    public static async Task CycleBoundary(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        (List<nint> live, List<nint> dead) = SetUpCycle(heap, 10, 1024, 2); // cached spans on both Ps
        StartSweeper(heap);
        var made = new List<nint>[2];
        Task t0 = Spawn(() => made[0] = AllocOn(heap, 0, 8, 1024));
        Task t1 = Spawn(() => made[1] = AllocOn(heap, 1, 8, 1024));
        Task main = Spawn(() =>
        {
            heap.FinishSweep();
            // Right when FinishSweep returns, while the Ps may still be allocating.
            CheckSweepDone(heap);
        });
        // FindObject sweeps unswept spans itself (ensureSwept), racing the other sweepers.
        Task finder = Spawn(() =>
        {
            foreach (nint a in dead.Take(3).Concat(live.Take(3)))
                heap.FindObject(a, out _);
        });
        await Task.WhenAll(new[] { t0, t1, main, finder });
        heap.FinishSweep();
        // Sweep is done: nothing may still be unswept or being swept, with the sweeper still running.
        CheckSweepDone(heap);
        heap.Verify();
        StopSweeper(heap);
        CheckOutcome(heap, live, dead, made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>Mark concurrent with allocation: objects allocated during marking are allocated black and survive.</summary>
    public static async Task MarkVsAlloc(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        List<nint> old = AllocOn(heap, 0, 24, 1024);
        heap.StartMark();
        var live = old.Where((_, i) => i % 3 == 0).ToList();
        var dead = old.Where((_, i) => i % 3 != 0).ToList();
        List<nint> made = [];
        Task marker = Spawn(() =>
        {
            foreach (nint a in live)
                Check(heap.Mark(a + 7), $"Mark rejected live 0x{a:x}");
        });
        Task mutator = Spawn(() => made = AllocOn(heap, 1, 16, 1024));
        await Task.WhenAll(new[] { marker, mutator });
        heap.FinishMark();
        heap.FinishSweep();
        CheckOutcome(heap, live.Concat(made), dead, []);
        heap.Dispose();
    }

    /// <summary>Page allocation through per-P page caches while the scavenger releases free pages; reused memory must be zero.</summary>
    public static async Task PageCacheVsScavenger(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        // Free some pages first so the scavenger has something to release.
        List<nint> gone = AllocOn(heap, 0, 6, 20_000);
        gone.AddRange(AllocOn(heap, 1, 10, 4096));
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
        var made = new List<nint>[2];
        Task t0 = Spawn(() => made[0] = AllocOn(heap, 0, 8, 3000));
        Task t1 = Spawn(() => made[1] = AllocOn(heap, 1, 3, 24_000));
        Task scav = Spawn(() =>
        {
            for (int i = 0; i < 3; i++)
                heap.Scavenge(3 * MallocConstants.PageSize);
        });
        await Task.WhenAll(new[] { t0, t1, scav });
        foreach (nint a in made[0])
            Check(IsZero(a, 3000), $"object 0x{a:x} was not zero");
        foreach (nint a in made[1])
            Check(IsZero(a, 24_000), $"object 0x{a:x} was not zero");
        CheckOutcome(heap, [], gone, made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>Large objects freed by the sweeper and allocated again while another P grows small spans.</summary>
    public static async Task LargeVsSmall(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        List<nint> large = AllocOn(heap, 0, 4, 40_000);
        List<nint> small = AllocOn(heap, 1, 20, 512);
        heap.StartMark();
        heap.Mark(large[0]);
        heap.Mark(small[0]);
        heap.FinishMark();
        StartSweeper(heap);
        var made = new List<nint>[2];
        Task t0 = Spawn(() => made[0] = AllocOn(heap, 0, 3, 70_000));
        Task t1 = Spawn(() => made[1] = AllocOn(heap, 1, 12, 2048));
        await Task.WhenAll(new[] { t0, t1 });
        heap.FinishSweep();
        StopSweeper(heap);
        CheckOutcome(heap, [large[0], small[0]], large.Skip(1).Concat(small.Skip(1)), made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>
    /// Proportional sweep credit while the sweep is paced again concurrently (Go 1.19's
    /// SetGCPercent path of golang/go#57523): an allocation pays a bounded debt, never "everything".
    /// </summary>
    public static async Task SweepCreditRepace(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        (List<nint> live, List<nint> dead) = SetUpCycle(heap, 16, 8192, 1); // 16 one-object spans
        var made = new List<nint>[2];
        // 16 KiB objects: one per span, so every allocation takes a fresh span and pays sweep
        // credit; no span of that class is unswept, so only the credit sweeps.
        Task t0 = Spawn(() => made[0] = AllocOn(heap, 0, 4, 16384));
        // P1 caches a 16-byte span (heap_live += its free slots) and then flushes it (heap_live -=
        // them again): re-paced in between, heap_live drops below the new basis.
        Task t1 = Spawn(() =>
        {
            IProcessor p = heap.AcquireP(1);
            made[1] = [p.Alloc(16), p.Alloc(16)];
            p.Flush();
            made[1].Add(p.Alloc(16384));
            p.Release();
        });
        Task pace = Spawn(() =>
        {
            heap.SetGcPercent(200);
            heap.SetGcPercent(150);
            heap.SetGcPercent(300);
        });
        await Task.WhenAll(new[] { t0, t1, pace });
        // The pacing line allows well under one page for 128 KiB here (16 pages to sweep over a
        // ~3 MiB runway); P0's stale cached span is swept when it is acquired. Sweeping all 16
        // unswept pages means the debt was computed as "everything".
        HeapStats st = heap.ReadStats();
        Check(st.PagesSwept <= 4, $"proportional sweeping swept {st.PagesSwept} pages for 128 KiB of allocation");
        heap.FinishSweep();
        CheckOutcome(heap, live, dead, made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>
    /// One sweeper and one refilling P on the same span: the sweeper turns a full unswept span
    /// into a partial swept one while the P looks for a span with free space in that class.
    /// </summary>
    public static async Task SweepVsRefill(string impl)
    {
        using IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        IProcessor p0 = heap.AcquireP(0);
        var objs = new List<nint>();
        for (int i = 0; i < 8; i++)
            objs.Add(p0.Alloc(1024)); // exactly one span
        p0.Flush();                    // into the full swept set
        p0.Release();
        heap.StartMark();
        var live = new List<nint> { objs[0], objs[3], objs[6] };
        foreach (nint a in live)
            heap.Mark(a);
        heap.FinishMark();
        var dead = objs.Except(live).ToList();
        List<nint> made = [];
        Task sweeper = Spawn(() =>
        {
            while (heap.SweepOne() != -1)
            {
            }
        });
        Task refill = Spawn(() => made = AllocOn(heap, 1, 2, 1024));
        await Task.WhenAll(new[] { sweeper, refill });
        heap.FinishSweep();
        CheckSweepDone(heap);
        CheckOutcome(heap, live, dead, made);
    }

    /// <summary>
    /// FindObject's contract (spec/SPEC.md, "FindObject under concurrency"): two P-less finders
    /// check every answer for objects that stay live (marked in every cycle) while P0's stale
    /// cached span is flushed and swept by an acquire, the background sweeper and FinishSweep
    /// sweep the rest, and a second cycle boundary passes. A live object reported free, or a
    /// finder that never returns (the step bound), is a bug.
    /// </summary>
    public static async Task FindObjectAcrossCycles(string impl)
    {
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        // 12 objects of 1 KiB: one full span (uncached) and one cached on P0 (stale after FinishMark).
        (List<nint> live, List<nint> dead) = SetUpCycle(heap, 12, 1024, 1);
        StartSweeper(heap);
        List<nint> made = [];
        Task mutator = Spawn(() => made = AllocOn(heap, 0, 3, 1024)); // flushes P0's stale span
        Task cycle = Spawn(async () =>
        {
            await mutator;
            heap.StartMark();
            foreach (nint a in live.Concat(made))
                heap.Mark(a);
            heap.FinishMark();
            heap.FinishSweep(); // flushes P0 (idle, stale again) and sweeps what is left
        });
        Task Finder(int skip) => Spawn(() =>
        {
            for (int round = 0; round < 2; round++)
            {
                // Newest first: the objects in P0's stale cached span, which the mutator's acquire flushes.
                foreach (nint a in live.AsEnumerable().Reverse().Skip(skip).Where((_, i) => i % 2 == 0))
                {
                    bool ok = heap.FindObject(a + 5, out ObjectInfo info);
                    // Offsets, not addresses: a replay's heap may sit at another arena hint.
                    Check(ok && info.Allocated && info.Base == a, $"FindObject reported the live object at arena offset 0x{a - heap.ArenaBase:x} "
                        + (!ok ? "not in the heap" : info.Base != a ? $"at base offset 0x{info.Base - heap.ArenaBase:x}" : "not allocated"));
                }
            }
        });
        await Task.WhenAll(new[] { mutator, cycle, Finder(0), Finder(1) });
        heap.FinishSweep();
        CheckSweepDone(heap);
        StopSweeper(heap);
        CheckOutcome(heap, live, dead, made);
        heap.Dispose();
    }

    /// <summary>
    /// Go's spanSet (Optimized) with pushers and poppers crossing a 512-entry block boundary, so a
    /// new block is added to the spine while a block is drained and recycled: every span pushed
    /// is popped exactly once. Twice: in Go's order (BlocksAhead 0: a pusher reserves its position,
    /// then adds its block, the path more than BlocksAhead racing pushers still take), then with a
    /// look-ahead of 2 positions (a pusher adds the block before it reserves, racing the others'
    /// lock-free reads of the spine).
    /// </summary>
    public static async Task SpanSetPushPop()
    {
        await SpanSetPushPopOnce(blocksAhead: 0);
        await SpanSetPushPopOnce(blocksAhead: 2);
    }

    private static async Task SpanSetPushPopOnce(uint blocksAhead)
    {
        using var pool = new GoAlloc.Optimized.SpanSetBlockPool();
        using var set = new GoAlloc.Optimized.SpanSet(pool) { BlocksAhead = blocksAhead };
        const int prefill = 509;
        for (int i = 1; i <= prefill; i++)
            set.Push(i * 64);
        for (int i = 0; i < prefill - 3; i++)
            Check(set.Pop() == (i + 1) * 64, "single-threaded pop order");
        var popped = new List<nint>[2];
        Task push0 = Spawn(() =>
        {
            for (int i = 0; i < 3; i++)
                set.Push((1000 + i) * 64);
        });
        Task push1 = Spawn(() =>
        {
            for (int i = 0; i < 3; i++)
                set.Push((2000 + i) * 64);
        });
        Task pop0 = Spawn(() => popped[0] = PopSome(set, 3));
        Task pop1 = Spawn(() => popped[1] = PopSome(set, 3));
        await Task.WhenAll(new[] { push0, push1, pop0, pop1 });
        var all = popped[0].Concat(popped[1]).ToList();
        nint v;
        while ((v = set.Pop()) != 0)
            all.Add(v);
        var expected = new List<nint>();
        for (int i = prefill - 2; i <= prefill; i++)
            expected.Add(i * 64);
        for (int i = 0; i < 3; i++)
        {
            expected.Add((1000 + i) * 64);
            expected.Add((2000 + i) * 64);
        }
        Check(all.Count == all.Distinct().Count(), $"a span was popped twice: {string.Join(",", all)}");
        Check(all.OrderBy(x => x).SequenceEqual(expected.OrderBy(x => x)), $"spans lost or invented: got {string.Join(",", all.OrderBy(x => x))}");
    }

    private static List<nint> PopSome(GoAlloc.Optimized.SpanSet set, int tries)
    {
        var got = new List<nint>();
        for (int i = 0; i < tries; i++)
        {
            nint v = set.Pop();
            if (v != 0)
                got.Add(v);
        }
        return got;
    }

    private static unsafe bool IsZero(nint p, int n) => new ReadOnlySpan<byte>((void*)p, n).IndexOfAnyExcept((byte)0) < 0;
}
