// StressOpLog: the operation log of a stress run, one ring of recent records per actor (each
// worker, the coordinator, the reader), each ring written only by its actor. Records carry a
// global sequence number (one Interlocked increment each), so the tail of the whole run can be
// put back in order when a violation is reported. Read only after the actors stopped (or gave up
// waiting for them: a torn record of a hung thread is shown as it is).
using System.Globalization;

namespace GoAlloc.Cli;

public enum StressOp : byte
{
    Alloc,
    Drop,
    Check,
    FindObject,
    Flush,
    Reacquire,
    SweepOne,
    Verify,
    StartMark,
    Mark,
    FinishMark,
    Scavenge,
    SetGcPercent,
    ReaderFind,
    ReadStats,
}

public sealed class StressOpLog
{
    private readonly record struct Entry(long Seq, int Cycle, StressOp Op, nint Address, long Size, string? Note);

    private readonly Entry[][] _rings;
    private readonly int[] _next; // per ring, written by its actor only
    private readonly string[] _names;
    private long _seq;            // atomic

    public StressOpLog(IReadOnlyList<string> actorNames, int capacity)
    {
        _names = [.. actorNames];
        _rings = new Entry[_names.Length][];
        for (int i = 0; i < _rings.Length; i++)
            _rings[i] = new Entry[capacity];
        _next = new int[_names.Length];
    }

    public void Add(int actor, int cycle, StressOp op, nint address = 0, long size = 0, string? note = null)
    {
        // Orders the records of all actors; the only shared write of the log.
        long seq = Interlocked.Increment(ref _seq);
        Entry[] ring = _rings[actor];
        ring[_next[actor]] = new Entry(seq, cycle, op, address, size, note);
        _next[actor] = (_next[actor] + 1) % ring.Length;
    }

    /// <summary>The last count records of all actors, oldest first.</summary>
    public IReadOnlyList<string> Tail(int count)
    {
        var all = new List<(Entry E, int Actor)>();
        for (int a = 0; a < _rings.Length; a++)
        {
            foreach (Entry e in _rings[a])
            {
                if (e.Seq != 0)
                    all.Add((e, a));
            }
        }
        return [.. all.OrderBy(x => x.E.Seq).TakeLast(count).Select(x => Format(x.E, _names[x.Actor]))];
    }

    private static string Format(Entry e, string actor) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{e.Seq,10} {actor,-11} c{e.Cycle,-5} {e.Op,-12} 0x{e.Address:x} {e.Size}{(e.Note == null ? "" : " " + e.Note)}");
}
