// TraceReplay: the recorded gofmt trace (testdata/) reduced to what an allocator sees: object sizes
// in allocation order, and for each GC cycle how many objects exist by then, which die in it and
// which are live after it (from src/Replay's TracePlan). The replay times allocator work only: the
// allocations, the natives' frees of each cycle's dead objects, GoAlloc's mark of the live set and
// sweep. It is also written as a little binary file for the Go program (WriteForGo).
using GoAlloc.Replay;

namespace GoAlloc.Peers;

public sealed class TraceReplay
{
    private TraceReplay(long[] sizes, int[] allocsBefore, int[][] dying, int[][] live)
    {
        Sizes = sizes;
        AllocsBeforeCycle = allocsBefore;
        DyingInCycle = dying;
        LiveAfterCycle = live;
        var dead = new bool[sizes.Length];
        foreach (int[] ids in dying)
            foreach (int id in ids)
                dead[id] = true;
        LiveAtEnd = [.. Enumerable.Range(0, sizes.Length).Where(id => !dead[id])];
        Ptrs = new nint[sizes.Length];
        int maxLive = live.Length == 0 ? 0 : live.Max(l => l.Length);
        LiveBuffer = new nint[maxLive];
    }

    public long[] Sizes { get; }
    public int[] AllocsBeforeCycle { get; }
    public int[][] DyingInCycle { get; }
    public int[][] LiveAfterCycle { get; }
    /// <summary>Objects no cycle of the (possibly shortened) trace frees.</summary>
    public int[] LiveAtEnd { get; }
    public nint[] Ptrs { get; }
    public nint[] LiveBuffer { get; }
    public int Cycles => AllocsBeforeCycle.Length;

    /// <summary>Loads a trace; scale below 1 keeps only the first cycles (at least one).</summary>
    public static TraceReplay Load(string path, double scale)
    {
        TracePlan plan = TracePlan.Build(TraceReader.ReadFile(path));
        int cycles = scale >= 1 ? plan.Cycles : Math.Max(1, (int)(plan.Cycles * scale));
        int n = cycles < plan.Cycles ? plan.AllocsBeforeCycle[cycles] : plan.ObjectCount;
        var sizes = plan.ObjectSize[..n];
        var allocsBefore = plan.AllocsBeforeCycle[..cycles];
        var dying = new int[cycles][];
        var live = new int[cycles][];
        for (int c = 0; c < cycles; c++)
        {
            int upTo = allocsBefore[c];
            var d = new List<int>();
            var l = new List<int>();
            for (int id = 0; id < upTo; id++)
            {
                int death = plan.DeathCycle[id];
                if (death == c)
                    d.Add(id);
                else if (death > c)
                    l.Add(id);
            }
            dying[c] = [.. d];
            live[c] = [.. l];
        }
        return new TraceReplay(sizes, allocsBefore, dying, live);
    }

    /// <summary>
    /// Little-endian int32s: object count, cycle count, then each object's size, then per cycle its
    /// allocs-before count and its dying ids (count, ids). The Go program replays from this.
    /// </summary>
    public void WriteForGo(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Sizes.Length);
        w.Write(Cycles);
        foreach (long s in Sizes)
            w.Write((int)s);
        for (int c = 0; c < Cycles; c++)
        {
            w.Write(AllocsBeforeCycle[c]);
            w.Write(DyingInCycle[c].Length);
            foreach (int id in DyingInCycle[c])
                w.Write(id);
        }
    }
}
