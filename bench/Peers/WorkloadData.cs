// WorkloadData: the inputs every implementation (and the Go program) gets: size sequences from one
// xorshift64 generator with fixed seeds (bench/go/main.go computes the same sequences), pointer
// arrays allocated once (so no workload allocates managed memory while timed), and the replay plan
// of the recorded gofmt trace. Scale shrinks every count (smoke runs and tests).
using GoAlloc.Replay;

namespace GoAlloc.Peers;

public sealed class WorkloadData
{
    public const int ThreadsMax = 2;

    public WorkloadData(double scale, string? tracePath)
    {
        BatchCount = Scaled(1_000_000, scale);
        MixedSizes = Sizes(Scaled(100_000, scale), 8, 1024, 1);
        LargeSizes = Sizes(Scaled(200, scale), 64 << 10, 1 << 20, 2);
        PairCount = Scaled(1_000_000, scale);
        PairGcEvery = Scaled(100_000, scale);
        LiveCycles = 5;
        LiveSizes = Sizes(Scaled(200_000, scale), 16, 512, 3);
        PerThread = Scaled(500_000, scale);
        int max = Math.Max(Math.Max(BatchCount, MixedSizes.Length), Math.Max(LiveSizes.Length, PerThread));
        Ptrs = new nint[max];
        Survivors = new nint[LiveSizes.Length / 4 + 1];
        PrevSurvivors = new nint[LiveSizes.Length / 4 + 1];
        ThreadPtrs = new nint[ThreadsMax][];
        for (int t = 0; t < ThreadsMax; t++)
            ThreadPtrs[t] = new nint[PerThread];
        if (tracePath != null)
            Trace = TraceReplay.Load(tracePath, scale);
    }

    public int BatchCount { get; }
    public long[] MixedSizes { get; }
    public long[] LargeSizes { get; }
    public int PairCount { get; }
    public int PairGcEvery { get; }
    public int LiveCycles { get; }
    public long[] LiveSizes { get; }
    public int PerThread { get; }
    public nint[] Ptrs { get; }
    public nint[] Survivors { get; }
    public nint[] PrevSurvivors { get; }
    public nint[][] ThreadPtrs { get; }
    public TraceReplay? Trace { get; }
    /// <summary>Memory runs: workloads write every byte of every object, not just the first.</summary>
    public bool FillObjects { get; init; }

    public static int Scaled(int n, double scale) => Math.Max(4, (int)(n * scale));

    /// <summary>xorshift64 (13, 7, 17) from seed * golden ratio; size = lo + x % (hi - lo + 1).</summary>
    public static long[] Sizes(int n, long lo, long hi, ulong seed)
    {
        ulong x = seed * 0x9E3779B97F4A7C15UL;
        var sizes = new long[n];
        for (int i = 0; i < n; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sizes[i] = lo + (long)(x % (ulong)(hi - lo + 1));
        }
        return sizes;
    }
}
