// TraceReplayer's own checks, each against a heap broken in the one way the check exists for (a
// Mark that finds no object, a sweep that reports a free at an address or a size the replay never
// allocated), and TimeAllocatorAlone: the untimed re-run of a checked replay must make the same
// allocations (its marks find every object) and stop where the checked replay stopped. Killers of
// Replay mutants the first record of src/Replay left alive (mutation/README.md, "Replay").
using GoAlloc.Model;
using GoAlloc.Reference;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class ReplayCheckTests
{
    private static ReplayResult Replay(Func<HeapOptions, IHeap> factory, Trace? trace = null) =>
        new TraceReplayer(factory).Replay(trace ?? CliTestSupport.Parse(CliTestSupport.HandTrace), "test");

    /// <summary>The hand trace and its checked replay on the Reference (whose marks TimeAllocatorAlone repeats).</summary>
    private static (Trace Trace, ReplayResult Result) CheckedHandReplay()
    {
        Trace trace = CliTestSupport.Parse(CliTestSupport.HandTrace);
        return (trace, Replay(o => new MHeap(o), trace));
    }

    /// <summary>The replay's options with the sweep's first OnFree report moved by the given address and size.</summary>
    private static HeapOptions MisreportFirstFree(HeapOptions o, nint addressDelta, long sizeDelta)
    {
        Action<nint, long> report = o.OnFree!;
        int frees = 0;
        return o with
        {
            OnFree = (a, size) =>
            {
                bool first = frees++ == 0;
                report(first ? a + addressDelta : a, first ? size + sizeDelta : size);
            },
        };
    }

    /// <summary>A heap whose n-th Mark (0-based) finds nothing: it marks no object and returns false.</summary>
    private sealed class MissingMarkHeap : DelegatingHeap
    {
        private readonly int _missMarkNumber;
        private int _marks;

        public MissingMarkHeap(HeapOptions options, int missMarkNumber) : base(options)
        {
            Inner = new MHeap(options);
            _missMarkNumber = missMarkNumber;
        }

        public override bool Mark(nint ptr) => _marks++ != _missMarkNumber && Inner.Mark(ptr);
    }

    [Fact]
    public void Replay_MarkThatFindsNoObject_IsReportedAsMarkMissed()
    {
        // Mark 0 of cycle 0 is the first live object (0xc000000000); it is then swept too.
        ReplayResult r = Replay(o => new MissingMarkHeap(o, missMarkNumber: 0));
        Assert.False(r.Passed);
        Disagreement miss = Assert.Single(r.Disagreements, d => d.Kind == DisagreementKind.MarkMissed);
        Assert.Equal(0, miss.Cycle);
        Assert.Contains("trace 0xc000000000", miss.Message);
        Assert.Contains(r.Disagreements, d => d.Kind == DisagreementKind.FreedLiveObject && d.Cycle == 0);
    }

    [Fact]
    public void Replay_SweepReportingAFreeAtAnotherAddress_IsReportedAsFreedUnknownAddressAndKeptDead()
    {
        ReplayResult r = Replay(o => new MHeap(MisreportFirstFree(o, addressDelta: 8, sizeDelta: 0)));
        Assert.False(r.Passed);
        Disagreement unknown = Assert.Single(r.Disagreements, d => d.Kind == DisagreementKind.FreedUnknownAddress);
        Assert.Equal(0, unknown.Cycle);
        Assert.Contains("which is no replay object", unknown.Message);
        // The object the sweep really freed (0x10) was not reported freed: the trace frees it, so
        // the replay saw it kept, and when its slot is handed out again it is still "live".
        Assert.Equal(
            [(0, DisagreementKind.FreedUnknownAddress), (0, DisagreementKind.KeptDeadObject), (1, DisagreementKind.AddressStillLive)],
            r.Disagreements.Select(d => (d.Cycle, d.Kind)));
        Assert.Equal(r.SweepFrees, r.Rows.Sum(row => row.SweepFrees));
    }

    [Fact]
    public void Replay_SweepReportingAnotherSlotSize_IsReportedAsFreedSizeMismatch()
    {
        ReplayResult r = Replay(o => new MHeap(MisreportFirstFree(o, addressDelta: 0, sizeDelta: 16)));
        Assert.False(r.Passed);
        Disagreement d = Assert.Single(r.Disagreements);
        Assert.Equal(DisagreementKind.FreedSizeMismatch, d.Kind);
        Assert.Equal(0, d.Cycle);
        Assert.Equal(1, r.Rows[0].Disagreements);
        Assert.Equal(0, r.Rows[1].Disagreements);
    }

    [Fact]
    public void Replay_CleanHeap_KeepsOneMarkListPerCycle()
    {
        ReplayResult r = Replay(o => new MHeap(o));
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        // Cycle 0 marks the two survivors (0x0 and 0x20), cycle 1 the replacement 0x10 and 0x20,
        // cycle 2 the three objects live after it.
        Assert.Equal([2, 2, 3], r.MarkOffsets.Select(m => m.Length));
        Assert.All(r.MarkOffsets, m => Assert.All(m, off => Assert.True(off >= 0)));
    }

    [Fact]
    public void TimeAllocatorAlone_WithTheCheckedReplaysMarks_FindsEveryObject()
    {
        (Trace trace, ReplayResult r) = CheckedHandReplay();
        int procs = 0;
        TimeSpan? t = TraceReplayer.TimeAllocatorAlone(trace, r.MarkOffsets, o => { procs = o.Procs; return new MHeap(o); }, r.Procs);
        Assert.NotNull(t);
        Assert.Equal(r.Procs, procs);
    }

    [Fact]
    public void TimeAllocatorAlone_OnTheRecordedPs_RepeatsTheCheckedReplaysAddresses()
    {
        // Two Ps (p=1 wraps to itself, p=-1 runs on P0): the untimed run must place each object
        // where the checked replay did, or a mark finds nothing and the figure is withheld.
        Trace trace = CliTestSupport.Parse("""
            tracealloc(0xc000000000, 0x20) p=0 noscan=false
            tracealloc(0xc000010000, 0x30) p=1 noscan=false
            tracealloc(0xc000000020, 0x20) p=-1 noscan=false
            tracealloc(0xc000010030, 0x30) p=1 noscan=false
            tracegc()
            tracefree(0xc000000000, 0x20)
            tracealloc(0xc000010060, 0x30) p=1 noscan=false
            tracegc()
            """);
        ReplayResult r = Replay(o => new MHeap(o), trace);
        Assert.True(r.Passed, string.Join("\n", r.Disagreements) + r.Failure);
        Assert.Equal(2, r.Procs);
        Assert.NotNull(TraceReplayer.TimeAllocatorAlone(trace, r.MarkOffsets, o => new MHeap(o), r.Procs));
    }

    [Fact]
    public void TimeAllocatorAlone_AMarkThatFindsNoObject_WithholdsTheFigure()
    {
        (Trace trace, ReplayResult r) = CheckedHandReplay();
        var marks = r.MarkOffsets.Select(m => m.ToArray()).ToList();
        marks[1] = [.. marks[1], 1L << 30]; // an offset no object of the replay has
        Assert.Null(TraceReplayer.TimeAllocatorAlone(trace, marks, o => new MHeap(o), r.Procs));
    }

    [Fact]
    public void TimeAllocatorAlone_StopsAtTheLastCycleTheCheckedReplayMarked()
    {
        // A checked replay that stopped after cycle 0 left one mark list: the timed run stops at
        // the second tracegc instead of reading past the list.
        (Trace trace, ReplayResult r) = CheckedHandReplay();
        Assert.NotNull(TraceReplayer.TimeAllocatorAlone(trace, [r.MarkOffsets[0]], o => new MHeap(o), r.Procs));
        Assert.NotNull(TraceReplayer.TimeAllocatorAlone(trace, [], o => new MHeap(o), r.Procs));
    }
}
