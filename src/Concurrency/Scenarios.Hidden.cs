// The scenarios of issue 14 item 5, "scenarios where bugs hide today": paths the first scenarios
// did not race. Direct page allocation of large objects and arena growth against P-less Mark and
// FindObject and the scavenger; GC cycles against a background sweeper stopped and restarted;
// the spanSet block pool reused across sets and rounds (Optimized only); proportional sweep
// credit paid by several Ps at once. Each checks the answers it gets and the outcome at the end.
using GoAlloc.Optimized;

namespace GoAlloc.Concurrency;

public static partial class Scenarios
{
    private const long Page = MallocConstants.PageSize;

    /// <summary>
    /// Large objects of 20 pages (at least 16: they bypass the per-P page cache) allocated directly
    /// from the page heap on freed, dirty pages, and one 2 MiB object that maps a second arena and
    /// spans the boundary, all during marking, while a P-less marker and finder resolve interior
    /// pointers and the scavenger returns free pages. Checked: every Mark and FindObject answer
    /// for a live object (found, allocated, its base), the probe into the arena being mapped,
    /// reused memory reads zero, nothing released under a live object, and the outcome.
    /// </summary>
    public static async Task DirectAllocArenaGrowth(string impl)
    {
        const long large = 20 * Page;
        const long grownSize = 2L << 20;
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        // 62 MiB grows the first arena to all of its 64 MiB (whole 4 MiB chunks); the old
        // objects leave 136 free pages at its top, so a 2 MiB object needs a second arena.
        IProcessor p = heap.AcquireP(0);
        nint filler = p.Alloc(62L << 20, noscan: true);
        var old = new List<nint>();
        for (int i = 0; i < 6; i++)
        {
            old.Add(p.Alloc(large, noscan: true));
            Fill(old[i], large);
        }
        p.Release();
        // Cycle 1 frees old[1] and old[3]: free pages that are dirty and not scavenged.
        heap.StartMark();
        foreach (nint a in new[] { filler, old[0], old[2], old[4], old[5] })
            heap.Mark(a);
        heap.FinishMark();
        heap.FinishSweep();
        Check(heap.ReadStats().Arenas == 1, "the set-up already mapped a second arena");
        // Cycle 2: the concurrent part runs during marking; old[4] and old[5] are left unmarked.
        heap.StartMark();
        nint[] live = [filler, old[0], old[2]];
        // Just inside the second arena, which the 2 MiB object (placed after the old ones) reaches.
        nint probe = heap.ArenaBase + (nint)MallocConstants.HeapArenaBytes + (nint)(64 << 10);
        var made = new List<nint>[2];
        Task t0 = Spawn(() =>
        {
            made[0] = AllocOn(heap, 0, 2, large, noscan: true);
            foreach (nint a in made[0])
            {
                Check(IsZero(a, (int)large), $"reused large object at arena offset 0x{a - heap.ArenaBase:x} was not zero");
                Fill(a, large);
            }
        });
        Task t1 = Spawn(() =>
        {
            made[1] = AllocOn(heap, 1, 1, grownSize, noscan: true);
            made[1].AddRange(AllocOn(heap, 1, 1, large, noscan: true));
            nint g = made[1][0];
            // Its first and last pages, and the two on either side of the arena boundary.
            long boundary = MallocConstants.HeapArenaBytes - (g - heap.ArenaBase);
            foreach (long off in new[] { 0, grownSize - Page, boundary - Page, boundary }.Where(o => o >= 0 && o < grownSize))
                Check(IsZero(g + (nint)off, (int)Page), $"grown object: page at +0x{off:x} was not zero");
            Check(IsZero(made[1][1], (int)large), $"large object at arena offset 0x{made[1][1] - heap.ArenaBase:x} was not zero");
            Fill(g, grownSize);
            Fill(made[1][1], large);
        });
        Task marker = Spawn(() =>
        {
            foreach (nint a in live)
                Check(heap.Mark(a + 4097), $"Mark rejected the live object at arena offset 0x{a - heap.ArenaBase:x}");
        });
        Task finder = Spawn(() =>
        {
            foreach (nint a in live)
            {
                bool ok = heap.FindObject(a + (nint)Page + 3, out ObjectInfo info);
                Check(ok && info.Allocated && info.Base == a, $"FindObject reported the live object at arena offset 0x{a - heap.ArenaBase:x} "
                    + (!ok ? "not in the heap" : info.Base != a ? $"at base offset 0x{info.Base - heap.ArenaBase:x}" : "not allocated"));
                // Into the second arena: nothing there yet, or the 2 MiB object that covers it.
                if (heap.FindObject(probe, out ObjectInfo g))
                    Check(g.Size == grownSize && g.Base <= probe && probe < g.Base + (nint)g.Size && g.Allocated,
                        $"FindObject at arena offset 0x{probe - heap.ArenaBase:x}: base offset 0x{g.Base - heap.ArenaBase:x}, size {g.Size}, allocated {g.Allocated}");
            }
        });
        Task scavenger = Spawn(() =>
        {
            // 8 pages at a time: a freed 20-page run ends up partly scavenged, partly dirty.
            for (int i = 0; i < 3; i++)
                heap.Scavenge(8 * Page);
        });
        await Task.WhenAll(new[] { t0, t1, marker, finder, scavenger });
        heap.FinishMark();
        heap.FinishSweep();
        CheckSweepDone(heap);
        Check(heap.ReadStats().Arenas == 2, $"expected a second arena, heap has {heap.ReadStats().Arenas}");
        Check(IsFilled(made[1][0], grownSize), "a page of the grown object lost its contents");
        foreach (nint a in made[0].Concat(made[1].Skip(1)).Concat([old[0], old[2]]))
            Check(IsFilled(a, large), $"the live object at arena offset 0x{a - heap.ArenaBase:x} lost its contents (released while in use?)");
        // The targeted checks only: Verify walks both arenas page by page, about a second
        // per call under Coyote's scheduling points; the single-threaded run does it.
        CheckObjects(heap, live.Concat(made.SelectMany(m => m)), [old[4], old[5]], []);
        if (Sequential)
            heap.Verify();
        heap.Dispose();
    }

    /// <summary>
    /// StartMark / FinishMark cycles from one task while two Ps allocate between the
    /// stop-the-world points and another task stops and restarts the background sweeper, which
    /// must finish each cycle's sweep by itself. Checked per cycle: every Mark of a live object
    /// accepted, the sweep done (INV-SWEEP-3) once SweepDone says so, the marked and
    /// allocated-black objects kept and the unmarked ones freed; at the end, a stopped sweeper
    /// sweeps nothing.
    /// </summary>
    public static async Task SweeperRestartCycles(string impl)
    {
        const int cycles = 2;
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        var known = AllocOn(heap, 0, 10, 1024);
        known.AddRange(AllocOn(heap, 1, 10, 1024));
        var world = new StopTheWorld();
        var log = new List<nint>(); // objects made since the cycler last took them; under lock (log)
        List<nint> TakeLog()
        {
            lock (log)
            {
                List<nint> got = [.. log];
                log.Clear();
                return got;
            }
        }
        StartSweeper(heap);
        Task P(int id) => Spawn(() =>
        {
            for (int burst = 0; burst < 3; burst++)
            {
                world.Enter();
                try
                {
                    // Logged inside the burst: a cycler that stops the world between the burst
                    // and the log would see these objects allocated but not made since its last look.
                    List<nint> got = AllocOn(heap, id, 3, 1024);
                    lock (log)
                        log.AddRange(got);
                }
                finally
                {
                    world.Exit();
                }
            }
        });
        var marks = new object();
        int finishedMarks = 0; // cycles past FinishMark; under lock (marks)
        Task toggler = Spawn(() =>
        {
            if (Sequential)
                return; // no background sweeper to stop
            for (int c = 0; c < cycles; c++)
            {
                // Once cycle c's sweep is due: the sweeper may be in the middle of it.
                lock (marks)
                {
                    while (finishedMarks <= c)
                        Monitor.Wait(marks);
                }
                StopSweeper(heap);
                StartSweeper(heap);
            }
        });
        Task cycler = Spawn(() =>
        {
            for (int c = 0; c < cycles; c++)
            {
                world.Stop();
                heap.StartMark();
                known.AddRange(TakeLog());
                world.Start();
                var live = known.Where((_, i) => (i + c) % 2 == 0).ToList();
                var dead = known.Where((_, i) => (i + c) % 2 != 0).ToList();
                foreach (nint a in live)
                    Check(heap.Mark(a + 9), $"cycle {c}: Mark rejected the live object at arena offset 0x{a - heap.ArenaBase:x}");
                world.Stop();
                heap.FinishMark();
                live.AddRange(TakeLog()); // allocated black
                world.Start();
                lock (marks)
                {
                    finishedMarks = c + 1;
                    Monitor.PulseAll(marks);
                }
                WaitForBackgroundSweep(heap);
                CheckSweepDone(heap);
                world.Stop();
                List<nint> since;
                lock (log)
                    since = [.. log];
                // The whole-heap Verify once, at the end (each costs a few thousand scheduling points).
                CheckObjects(heap, live, dead, since);
                known = live;
                world.Start();
            }
        });
        await Task.WhenAll(new[] { P(0), P(1), toggler, cycler });
        StopSweeper(heap);
        // A stopped sweeper must be gone: after this cycle boundary nothing sweeps until asked.
        heap.StartMark();
        heap.FinishMark();
        long swept = heap.ReadStats().PagesSwept;
        Check(swept == 0 && !heap.SweepDone, $"the stopped background sweeper swept {swept} pages");
        heap.FinishSweep();
        CheckSweepDone(heap);
        heap.Verify();
        heap.Dispose();
    }

    /// <summary>
    /// Two spanSets sharing one block pool (Optimized), over two rounds separated by Reset (as at
    /// a cycle start): in each, set A crosses a block boundary with a pusher and two poppers (one
    /// holding an old position while the block's last popper frees it), while set B takes a
    /// block from the pool for its first push. Blocks freed by one set are reused by the other
    /// or by the same one. Checked: every pushed value popped exactly once, and no block leaked.
    /// </summary>
    public static async Task SpanSetBlockReuse()
    {
        using var pool = new SpanSetBlockPool();
        using var a = new SpanSet(pool);
        using var b = new SpanSet(pool);
        const int before = SpanSet.SpanSetBlockEntries - 3; // A's head and tail: 3 slots left in its block
        nint next = 64;
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < before; i++)
                a.Push(next + i * 64);
            for (int i = 0; i < before; i++)
                Check(a.Pop() == next + i * 64, "single-threaded pop order");
            next += before * 64;
            var pushed = new List<nint>();
            for (int i = 0; i < 10; i++)
                pushed.Add(next + i * 64);
            next += 10 * 64;
            var popped = new List<nint>[4];
            Task pushA = Spawn(() =>
            {
                for (int i = 0; i < 5; i++)
                    a.Push(pushed[i]);
            });
            Task pushB = Spawn(() =>
            {
                for (int i = 5; i < 10; i++)
                    b.Push(pushed[i]);
            });
            Task slowPopA = Spawn(() => popped[0] = PopSome(a, 1));
            Task popA = Spawn(() => popped[1] = PopSome(a, 4));
            Task popB = Spawn(() => popped[2] = PopSome(b, 3));
            await Task.WhenAll(new[] { pushA, pushB, slowPopA, popA, popB });
            popped[3] = [];
            nint v;
            while ((v = a.Pop()) != 0)
                popped[3].Add(v);
            while ((v = b.Pop()) != 0)
                popped[3].Add(v);
            var all = popped.SelectMany(x => x).ToList();
            Check(all.Count == all.Distinct().Count(), $"round {round}: a span was popped twice: {string.Join(",", all)}");
            Check(all.OrderBy(x => x).SequenceEqual(pushed), $"round {round}: spans lost or invented: got {string.Join(",", all.OrderBy(x => x))}");
            // A: old block freed by its last popper, new block; B: one block. Reused, never more.
            Check(pool.AllocatedBlocks <= 3, $"round {round}: {pool.AllocatedBlocks} blocks carved for 3 in use at most: freed blocks were not reused");
            a.Reset();
            b.Reset();
        }
    }

    /// <summary>
    /// Proportional sweep credit paid by three Ps at once: right after FinishMark, with 24 unswept
    /// one-page spans and no background sweeper, each P allocates 16 KiB objects (one per span,
    /// so each takes a fresh span and pays credit). Checked: PagesSwept is exactly the pages
    /// really swept (counted by their frees), within the debt of the pacing line (4.8) plus one
    /// span of overshoot per P and each P's stale cached span; and the outcome.
    /// </summary>
    public static async Task SweepCreditManyPs(string impl)
    {
        const int ps = 3;
        IHeap heap = CreateHeap(impl, new HeapOptions { Procs = ps, MemProfileRate = 0 });
        // 64 objects of 1 KiB per P: 8 one-page spans each, 4 of every span's 8 objects unmarked;
        // each P still caches its last span (stale now).
        (List<nint> live, List<nint> dead) = SetUpCycle(heap, 64, 1024, ps);
        HeapStats st0 = heap.ReadStats();
        Check(st0.PagesSwept == 0, "swept before any allocation");
        long freesBefore = Frees1024(st0);
        double pagesPerByte = PagesPerByte(st0, heap.Options.GcPercent);
        var made = new List<nint>[ps];
        var tasks = new Task[ps];
        for (int id = 0; id < ps; id++)
        {
            int pid = id;
            tasks[id] = Spawn(() => made[pid] = AllocOn(heap, pid, 8, 16384));
        }
        await Task.WhenAll(tasks);
        HeapStats st = heap.ReadStats();
        long sweptSpans = (Frees1024(st) - freesBefore) / 4;
        Check(st.PagesSwept == sweptSpans, $"PagesSwept {st.PagesSwept} but {sweptSpans} one-page spans were swept");
        long debt = (long)(pagesPerByte * (st.HeapLive - st0.HeapLive));
        Check(st.PagesSwept <= debt + 2 * ps, $"three Ps swept {st.PagesSwept} pages for a debt of {debt} (+{2 * ps})");
        heap.FinishSweep();
        CheckSweepDone(heap);
        CheckOutcome(heap, live, dead, made.SelectMany(m => m));
        heap.Dispose();
    }

    /// <summary>
    /// Leaves the cycle's sweep to the background sweeper (restarted after every stop) and the
    /// Ps: waits until the sweep is done without sweeping. A sweeper that never resumes its work
    /// after a restart leaves this waiting (the step bound). Single-threaded: FinishSweep.
    /// </summary>
    private static void WaitForBackgroundSweep(IHeap heap)
    {
        if (Sequential)
        {
            heap.FinishSweep();
            return;
        }
        while (!heap.SweepDone)
            Thread.Yield();
    }

    private static long Frees1024(HeapStats st) => st.BySize.Single(c => c.Size == 1024).Frees;

    /// <summary>spec/SPEC.md 4.8: the pacing ratio FinishMark sets, from the stats read right after it.</summary>
    private static double PagesPerByte(HeapStats st, int gcPercent)
    {
        long trigger = Math.Max(MallocConstants.HeapMinimum, st.HeapMarked + st.HeapMarked * gcPercent * 7 / 800);
        long heapDistance = Math.Max(Page, trigger - st.HeapLive - (1L << 20));
        return (double)(st.PagesInUse - st.PagesSwept) / heapDistance;
    }

    /// <summary>Writes a marker into the first, middle and last word of the object.</summary>
    private static unsafe void Fill(nint a, long size)
    {
        foreach (long off in new[] { 0, size / 2, size - 8 })
            *(long*)(a + (nint)off) = Marker(a + (nint)off);
    }

    private static unsafe bool IsFilled(nint a, long size) =>
        new[] { 0, size / 2, size - 8 }.All(off => *(long*)(a + (nint)off) == Marker(a + (nint)off));

    private static long Marker(nint at) => (long)at ^ 0x5A5A_5A5A_5A5A_5A5AL;
}
