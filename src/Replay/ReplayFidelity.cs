// ReplayFidelity: how closely a replay follows the Go program it was recorded from (an extended
// trace: p= and noscan=). Three figures: (a) the tiny allocator: for every tiny allocation, is our
// offset inside the 16-byte block Go's (address & 15)? (b) span packing: for consecutive
// allocations of one size class on one P, did Go place them next to each other, and did we? (c) the
// live bytes and objects after each cycle's sweep against the trace's own. Go's runtime is 1.19 and
// this allocator is 1.16's design; the README explains each kind of disagreement. Plain counters:
// the replayer fills them, the report prints them; only an unexplained tiny offset fails a replay.
// No Go counterpart.
namespace GoAlloc.Replay;

/// <summary>Why a tiny allocation's offset differs from Go's.</summary>
public enum TinyMismatch
{
    /// <summary>Go allocated it with no P (p=-1: the bootstrap mcache0), we on P0's mcache.</summary>
    NoP,
    /// <summary>The previous tiny allocation on this P already differed: the blocks diverged.</summary>
    Cascade,
    /// <summary>After a tracegc: Go drops its tiny blocks at mark termination (later, untraced), we at the cycle.</summary>
    GcTiming,
    /// <summary>None of the above: a real difference (fails the replay).</summary>
    Unexplained,
}

public sealed class ReplayFidelity
{
    private readonly Dictionary<TinyMismatch, long> _tinyMismatches = [];

    public long TinyAllocs { get; private set; }
    public long TinyAgree { get; private set; }
    public IReadOnlyDictionary<TinyMismatch, long> TinyMismatches => _tinyMismatches;
    public long TinyUnexplained => _tinyMismatches.GetValueOrDefault(TinyMismatch.Unexplained);

    /// <summary>Pairs of consecutive allocations of one span class on one P.</summary>
    public long PackPairs { get; private set; }
    /// <summary>Of those, pairs Go placed next to each other.</summary>
    public long GoAdjacent { get; private set; }
    /// <summary>Of those, pairs we placed next to each other.</summary>
    public long OurAdjacent { get; private set; }
    /// <summary>Pairs where Go and we agree (both adjacent or both not).</summary>
    public long PackAgree { get; private set; }

    public int Cycles { get; private set; }
    /// <summary>Cycles whose live objects and bytes equal the trace's exactly.</summary>
    public int CyclesLiveEqual { get; private set; }
    public long MaxLiveBytesDiff { get; private set; }
    public long MaxLiveObjectsDiff { get; private set; }

    public void AddTiny(TinyMismatch? mismatch)
    {
        TinyAllocs++;
        if (mismatch is not { } kind)
            TinyAgree++;
        else
            _tinyMismatches[kind] = _tinyMismatches.GetValueOrDefault(kind) + 1;
    }

    public void AddPacking(bool goAdjacent, bool ourAdjacent)
    {
        PackPairs++;
        if (goAdjacent)
            GoAdjacent++;
        if (ourAdjacent)
            OurAdjacent++;
        if (goAdjacent == ourAdjacent)
            PackAgree++;
    }

    public void AddCycle(long ourObjects, long ourBytes, long traceObjects, long traceBytes)
    {
        Cycles++;
        if (ourObjects == traceObjects && ourBytes == traceBytes)
            CyclesLiveEqual++;
        MaxLiveBytesDiff = Math.Max(MaxLiveBytesDiff, Math.Abs(ourBytes - traceBytes));
        MaxLiveObjectsDiff = Math.Max(MaxLiveObjectsDiff, Math.Abs(ourObjects - traceObjects));
    }

    public static string Percent(long part, long whole) => whole == 0 ? "-" : $"{100.0 * part / whole:0.00}%";

    public string TinyText() => TinyAllocs == 0
        ? "no tiny allocations (old trace format: no noscan)"
        : $"{TinyAgree:N0} of {TinyAllocs:N0} offsets equal Go's ({Percent(TinyAgree, TinyAllocs)})" +
          (_tinyMismatches.Count == 0 ? "" : "; differ: " + string.Join(", ", _tinyMismatches.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value:N0}")));

    public string PackingText() => PackPairs == 0
        ? "-"
        : $"{Percent(PackAgree, PackPairs)} agree of {PackPairs:N0} pairs (adjacent: Go {Percent(GoAdjacent, PackPairs)}, ours {Percent(OurAdjacent, PackPairs)})";

    public string LiveText() =>
        $"{CyclesLiveEqual} of {Cycles} cycles equal the trace's (max diff {MaxLiveObjectsDiff:N0} objects, {MaxLiveBytesDiff:N0} bytes)";
}
