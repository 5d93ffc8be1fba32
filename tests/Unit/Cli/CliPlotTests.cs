// The pictures: `alloc replay --plot` (HeapPlotData's series are the replay's cycle rows, one point
// per GC cycle; SpanOccupancy's walk finds every in-use page and counts the objects the heap
// holds; the PNG is written whole, at the size asked) and `--swimlane` on explore / reproduce
// (SwimLaneData reads the steps of the reproduce text, one lane per thread; explore reproduces the
// trace it found; the PNG is written); a path that cannot be written is a usage error (exit 2,
// one line, nothing launched or replayed), and a failed write leaves no file.
using System.Buffers.Binary;
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;
using SwimLaneData = GoAlloc.Concurrency.SwimLaneData;
using SwimStep = GoAlloc.Concurrency.SwimStep;

namespace GoAlloc.Tests;

public class CliPlotTests
{
    /// <summary>Lines as the concurrency tool prints them for `reproduce` (a seeded Go46500 reproduction, cut short).</summary>
    private const string ReproduceText = """
        reproduce /tmp/cycle-boundary.reference.Go46500SweepDoneWhileSweeping.random.seed17.trace
          scenario cycle-boundary on reference, seeded bug Go46500SweepDoneWhileSweeping (seeded build); found with strategy random, seed 17, at iteration 3
          recorded failure: Unhandled exception. GoAlloc.HeapInvariantException: INV-SWEEP-3: sweep is done but span has sweepgen 1 (heap 2)

        interleaving: 9 allocator steps of the replayed schedule
          (P = the P the step works for (-- none: background sweeper, FindObject, GC driver); span = ...)
           1  P0 (thread 7)    acquireP
           2  P0 (thread 7)    cacheSpan spc 64 (1024 B): nothing to reuse, grew span +0x2000 (sg) (heap sg 0)
           3  P0 (thread 7)    refill spc 64 (1024 B): cached span +0x2000, sg -> sg+3 (heap sg 0)
           4  -- (thread 7)    FinishMark (world stopped): heap sweepgen 0 -> 2; every span is now unswept, cached ones stale
           5  P1 (thread 13)   acquireP
           6  P0 (thread 12)   uncacheSpan spc 64 (1024 B): stale span +0x2000 sg+1 -> sg-1, sweeping it now (heap sg 2)
           7  -- (thread 15)   ensureSwept span +0x0 spc 64 (1024 B): sweeping it here, sg-2 -> sg-1 (heap sg 2)
           8  -- (thread 11)   sweepone: popped fullUnswept span +0x80000 spc 65 (1024 B noscan), won it: sg-2 -> sg-1 (heap sg 2)
           9  P1 (thread 13)   releaseP

        failure:
          Unhandled exception. GoAlloc.HeapInvariantException: INV-SWEEP-3: sweep is done but span has sweepgen 1 (heap 2)
             at GoAlloc.Reference.MHeap.Check(Boolean ok, String id, Func`1 detail)
        REPRODUCED: the replay hit the recorded failure
        """;

    private static string TempPng() => Path.Combine(Path.GetTempPath(), $"alloc-plot-test-{Guid.NewGuid():N}.png");

    /// <summary>Width and height from a PNG's IHDR; asserts the signature and the chunk.</summary>
    private static (int Width, int Height) PngSize(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    private static (int Exit, string Out, string Err) RunReplay(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static LockstepReplayResult ReplayHandTrace(ReplayPlotter plotter, out Trace trace)
    {
        trace = CliTestSupport.Parse(CliTestSupport.HandTrace);
        return TraceReplayer.ReplayLockstep(trace, TracePlan.Build(trace),
            (HeapFactories.Reference, HeapFactories.Available[HeapFactories.Reference]),
            (HeapFactories.Optimized, HeapFactories.Available[HeapFactories.Optimized]),
            plotter.Attach(new ReplayOptions()));
    }

    // ---------------------------------------------------------------- replay --plot

    [Fact]
    public void PlotSeries_HaveOnePointPerGcCycle_EqualToTheReplaysCycleRows()
    {
        var plotter = new ReplayPlotter(TempPng());
        LockstepReplayResult lockstep = ReplayHandTrace(plotter, out Trace trace);
        Assert.True(lockstep.Passed);
        HeapPlotData data = plotter.Data("hand.trace", [lockstep.A, lockstep.B]);

        Assert.Equal([HeapFactories.Reference, HeapFactories.Optimized], data.Series.Select(s => s.Implementation));
        foreach ((HeapSeries series, ReplayResult r) in data.Series.Zip([lockstep.A, lockstep.B]))
        {
            Assert.Equal(trace.Gcs, series.Cycles.Length);
            Assert.Equal(r.Rows.Select(x => (double)x.Cycle), series.Cycles);
            Assert.Equal(r.Rows.Select(x => (double)x.HeapInuse), series.HeapInuse);
            Assert.Equal(r.Rows.Select(x => (double)x.HeapAlloc), series.HeapAlloc);
            Assert.Equal(r.Rows.Select(x => (double)x.HeapReleased), series.HeapReleased);
            Assert.Equal(r.Rows.Select(x => (double)x.TraceLiveBytes), series.TraceLiveBytes);
            Assert.All(series.HeapInuse, v => Assert.True(v > 0));
        }
        // The walk ran once per heap of the lockstep replay, after the last event.
        Assert.Equal([HeapFactories.Reference, HeapFactories.Optimized], data.Occupancy.Select(o => o.Implementation));
        Assert.All(data.Occupancy, o => Assert.True(o.Occupancy.Complete, $"{o.Implementation}: {o.Occupancy.PagesFound} of {o.Occupancy.PagesInUse} pages"));
        Assert.True(data.Occupancy[0].Occupancy.SameAs(data.Occupancy[1].Occupancy));
        Assert.Equal(lockstep.A.FinalStats.HeapObjects,
            data.Occupancy[0].Occupancy.Spans.Sum(s => (long)s.Allocated) + data.Occupancy[0].Occupancy.LargeSpans);
    }

    [Fact]
    public void Replay_Plot_WritesAPngOfThePlotsSize_AndSaysWhere()
    {
        string trace = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        string png = TempPng();
        try
        {
            (int exit, string stdout, string stderr) = RunReplay("replay", trace, "--impl", "reference", "--quiet", "--plot", png);
            Assert.True(exit == ExitCodes.Ok, stderr);
            Assert.Contains($"plot: {png}", stdout);
            (int width, int height) = PngSize(png);
            Assert.Equal(HeapPlot.Width, width);
            // The lines panel and one heat map (a single implementation).
            Assert.True(height > HeapPlot.LinesHeight, $"height {height}");
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(png)!, $".{Path.GetFileName(png)}*"));
        }
        finally
        {
            File.Delete(trace);
            File.Delete(png);
        }
    }

    [Fact]
    public void Replay_Plot_TraceWithoutAGcCycle_StillDrawsTheSpans()
    {
        string trace = CliTestSupport.WriteTempTrace("tracealloc(0xc000000000, 0x10)\ntracealloc(0xc000000010, 0x20)\n");
        string png = TempPng();
        try
        {
            (int exit, string stdout, string stderr) = RunReplay("replay", trace, "--impl", "both", "--quiet", "--plot", png);
            Assert.True(exit == ExitCodes.Ok, stderr);
            Assert.Contains("(0 GC cycles x 2 implementations; span occupancy: 2 small spans)", stdout);
            Assert.Equal(HeapPlot.Width, PngSize(png).Width);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(png);
        }
    }

    [Fact]
    public void HeapPlot_Save_WritesExactlyTheComputedSize()
    {
        var plotter = new ReplayPlotter(TempPng());
        LockstepReplayResult lockstep = ReplayHandTrace(plotter, out _);
        HeapPlotData data = plotter.Data("hand.trace", [lockstep.A, lockstep.B]);
        try
        {
            HeapPlot.Save(data, plotter.Path);
            Assert.Equal((HeapPlot.Width, HeapPlot.Height(data)), PngSize(plotter.Path));
        }
        finally
        {
            File.Delete(plotter.Path);
        }
    }

    [Theory]
    [InlineData("/no/such/folder/heap.png", "does not exist")]
    [InlineData("heap.txt", ".png")]
    [InlineData("", "file name")]
    public void Replay_PlotPathThatCannotBeWritten_IsAUsageErrorBeforeTheReplay(string path, string message)
    {
        (int exit, string stdout, string stderr) = RunReplay("replay", "--plot", path);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("--plot", stderr);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("trace ", stdout); // nothing was read or replayed
    }

    [Fact]
    public void Replay_PlotPathThatIsAFolder_IsAUsageError()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"alloc-plot-dir-{Guid.NewGuid():N}.png");
        Directory.CreateDirectory(folder);
        try
        {
            (int exit, _, string stderr) = RunReplay("replay", "--plot", folder);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains("is a folder", stderr);
        }
        finally
        {
            Directory.Delete(folder);
        }
    }

    [Fact]
    public void PlotFile_Save_FailedWrite_LeavesNoFileAndSaysWhy()
    {
        string png = TempPng();
        var e = Assert.Throws<PlotFileException>(() => PlotFile.Save(png, tmp =>
        {
            File.WriteAllText(tmp, "half a picture");
            throw new IOException("disk full");
        }));
        Assert.Contains("disk full", e.Message);
        Assert.False(File.Exists(png));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(png)!, $".{Path.GetFileName(png)}*"));
    }

    // ---------------------------------------------------------------- span occupancy

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void SpanOccupancy_CountsEveryAllocatedObjectAndEveryInUsePage(string impl)
    {
        using IHeap heap = HeapFactories.Available[impl](new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 100; i++)
            p.Alloc(16);                 // size class 2: 512 per 8 KiB span
        for (int i = 0; i < 3; i++)
            p.Alloc(1000);               // the 1024-byte class: 8 per span
        p.Alloc(64 << 10);               // a large object: its own 8-page span
        p.Flush();
        p.Release();

        SpanOccupancy occ = SpanOccupancy.Read(heap);

        Assert.True(occ.Complete, $"{occ.PagesFound} of {occ.PagesInUse} pages");
        Assert.Equal(1, occ.LargeSpans);
        Assert.Equal([new SpanFill(2, false, 100, 512), new SpanFill(32, false, 3, 8)], occ.Spans.OrderBy(s => s.SizeClass));
        Assert.Equal([2, 32], occ.SizeClassesPresent());
        int[,] h = occ.Histogram();
        Assert.Equal(1, h[0, 1]);        // 100/512 = 19.5%: the 10-20% column
        Assert.Equal(1, h[1, 3]);        // 3/8 = 37.5%: the 30-40% column
    }

    [Theory]
    [InlineData(0, 512, 0)]
    [InlineData(51, 512, 0)]             // 9.96%
    [InlineData(52, 512, 1)]             // 10.2%
    [InlineData(7, 8, 8)]                // 87.5%
    [InlineData(511, 512, 9)]            // 99.8%: not full
    [InlineData(512, 512, 10)]           // full: its own column
    [InlineData(1, 1, 10)]
    public void SpanOccupancy_Bin_IsTenPercentSteps_WithFullSpansApart(int allocated, int nelems, int bin) =>
        Assert.Equal(bin, SpanOccupancy.Bin(new SpanFill(2, true, allocated, nelems)));

    // ---------------------------------------------------------------- swim lanes

    [Fact]
    public void SwimLaneData_HasOneLanePerThread_InFirstStepOrder()
    {
        SwimLaneData data = SwimLaneData.Parse(ReproduceText.Split('\n'));
        Assert.Equal(9, data.Steps.Count);
        Assert.Equal(Enumerable.Range(1, 9), data.Steps.Select(s => s.Number));
        Assert.Equal([7, 13, 12, 15, 11], data.Lanes.Select(l => l.Thread));
        Assert.Equal(data.Steps.Select(s => s.Thread).Distinct().Count(), data.Lanes.Count);
        Assert.Equal(data.Steps.Count, data.Lanes.Sum(l => l.Steps.Count));
        Assert.Equal([0], data.Lanes[0].Ps);
        Assert.Equal("thread 15 (no P)", data.Lanes[3].Label);
        Assert.StartsWith("scenario cycle-boundary on reference", data.Scenario);
        Assert.StartsWith("Unhandled exception. GoAlloc.HeapInvariantException: INV-SWEEP-3", data.Failure);
        Assert.StartsWith("REPRODUCED", data.Verdict);
    }

    [Fact]
    public void SwimLaneData_ReadsSpanClassAndSweepgenOfAStep()
    {
        SwimStep s = SwimLaneData.ParseStep("   8  -- (thread 11)   sweepone: popped fullUnswept span +0x80000 spc 65 (1024 B noscan), won it: sg-2 -> sg-1 (heap sg 2)")!;
        Assert.Equal(new SwimStep(8, 11, null, "sweepone", 0x80000, "65 (1024 B noscan)", "sg-2 -> sg-1", 2u,
            "sweepone: popped fullUnswept span +0x80000 spc 65 (1024 B noscan), won it: sg-2 -> sg-1 (heap sg 2)"), s);

        SwimStep grew = SwimLaneData.ParseStep("   2  P0 (thread 7)    cacheSpan spc 64 (1024 B): nothing to reuse, grew span +0x2000 (sg) (heap sg 0)")!;
        Assert.Equal((0, "cacheSpan", 0x2000L, "sg", 0u), (grew.P!.Value, grew.Operation, grew.SpanOffset!.Value, grew.SweepGen, grew.HeapSweepGen!.Value));

        SwimStep acquire = SwimLaneData.ParseStep("  17  P1 (thread 13)   acquireP")!;
        Assert.Equal((1, 13, "acquireP"), (acquire.P!.Value, acquire.Thread, acquire.Operation));
        Assert.Null(acquire.SpanOffset);
        Assert.Null(acquire.SweepGen);

        Assert.Null(SwimLaneData.ParseStep("interleaving: 9 allocator steps of the replayed schedule"));
        Assert.Null(SwimLaneData.ParseStep("     at GoAlloc.Reference.MHeap.Check(Boolean ok, String id, Func`1 detail)"));
    }

    [Fact]
    public void SwimLanePlot_Save_WritesAPngWithAColumnPerLaneAndARowPerStep()
    {
        SwimLaneData data = SwimLaneData.Parse(ReproduceText.Split('\n'));
        string png = TempPng();
        try
        {
            SwimLanePlot.Save(data, png);
            Assert.Equal((SwimLanePlot.Width(data), SwimLanePlot.Height(data)), PngSize(png));
            // Five lanes: four lane widths more than a picture of one (or none).
            Assert.Equal(SwimLanePlot.Width(SwimLaneData.Parse([])) + 4 * SwimLanePlot.LaneWidth, SwimLanePlot.Width(data));
        }
        finally
        {
            File.Delete(png);
        }
    }

    private sealed class FakeTool(params (int Exit, string Output)[] answers)
    {
        public List<ConcurrencyRun> Runs { get; } = [];

        public int Launch(ConcurrencyRun run)
        {
            (int exit, string output) = answers[Runs.Count];
            Runs.Add(run);
            foreach (string line in output.Split('\n'))
                run.OnOutputLine?.Invoke(line.TrimEnd('\r'));
            return exit;
        }
    }

    private static string TempCoyoteTrace()
    {
        string path = Path.Combine(Path.GetTempPath(), $"alloc-swimlane-test-{Guid.NewGuid():N}.trace");
        File.WriteAllText(path, CliConcurrencyTests.MinimalCoyoteTrace);
        File.WriteAllText(path + ".json", """{ "scenario": "cycle-boundary", "impl": "reference", "build": "seeded", "bug": "Go46500SweepDoneWhileSweeping" }""");
        return path;
    }

    [Fact]
    public void Reproduce_SwimLane_DrawsTheStepsTheToolPrinted()
    {
        string trace = TempCoyoteTrace();
        string png = TempPng();
        try
        {
            var tool = new FakeTool((ExitCodes.Ok, ReproduceText));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int exit = Program.Run(["reproduce", trace, "--swimlane", png], stdout, stderr, tool.Launch);
            Assert.True(exit == ExitCodes.Ok, stderr.ToString());
            Assert.Equal(["reproduce", Path.GetFullPath(trace)], Assert.Single(tool.Runs).Args);
            Assert.True(tool.Runs[0].Seeded);
            Assert.Contains($"swimlane: {png} (9 steps in 5 lanes", stdout.ToString());
            PngSize(png);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(trace + ".json");
            File.Delete(png);
        }
    }

    [Fact]
    public void Explore_SwimLane_ReproducesTheTraceItFound_AndKeepsExploresExitCode()
    {
        string png = TempPng();
        const string found = "/tmp/TestResults/coyote/cycle-boundary.reference.Go46500SweepDoneWhileSweeping.random.seed17.trace";
        try
        {
            var tool = new FakeTool(
                (ExitCodes.Disagreement, $"BUG found at iteration 3: ...\ntrace:     {found}\nsidecar:   {found}.json"),
                (ExitCodes.Ok, ReproduceText));
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            int exit = Program.Run(["explore", "cycle-boundary", "--bug", "Go46500SweepDoneWhileSweeping", "--swimlane", png], stdout, stderr, tool.Launch);
            Assert.Equal(ExitCodes.Disagreement, exit); // a bug was found
            Assert.Equal(2, tool.Runs.Count);
            Assert.Equal(["reproduce", found], tool.Runs[1].Args);
            Assert.True(tool.Runs[1].Seeded);
            PngSize(png);
        }
        finally
        {
            File.Delete(png);
        }
    }

    [Fact]
    public void Explore_SwimLane_NoBug_WritesNoPictureAndSaysSo()
    {
        string png = TempPng();
        var tool = new FakeTool((ExitCodes.Ok, "no bug found in 1,000 iterations"));
        var stderr = new StringWriter();
        int exit = Program.Run(["explore", "cycle-boundary", "--swimlane", png], new StringWriter(), stderr, tool.Launch);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Single(tool.Runs);
        Assert.False(File.Exists(png));
        Assert.Contains("no bug found", stderr.ToString());
    }

    [Theory]
    [InlineData("explore", "cycle-boundary", "--swimlane", "/no/such/folder/lanes.png")]
    [InlineData("explore", "cycle-boundary", "--swimlane", "lanes.svg")]
    [InlineData("reproduce", "TRACE", "--swimlane", "/no/such/folder/lanes.png")]
    public void SwimLanePathThatCannotBeWritten_IsAUsageErrorWithoutLaunching(params string[] args)
    {
        string trace = TempCoyoteTrace();
        try
        {
            var tool = new FakeTool();
            var stderr = new StringWriter();
            int exit = Program.Run([.. args.Select(a => a == "TRACE" ? trace : a)], new StringWriter(), stderr, tool.Launch);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Empty(tool.Runs);
            Assert.Contains("--swimlane", stderr.ToString());
            Assert.DoesNotContain("   at ", stderr.ToString());
        }
        finally
        {
            File.Delete(trace);
            File.Delete(trace + ".json");
        }
    }
}
