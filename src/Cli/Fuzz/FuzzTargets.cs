// FuzzTargets: the entry points the AFL++ / SharpFuzz harness (tools/fuzz) runs, by name, and the
// regression tests replay: `trace` parses bytes as a trace file (gzip or text) and, when it is a
// trace, replays it on the Reference; `heap-ops` decodes bytes into heap operations
// (HeapOpDecoder) and runs them on the Reference and on the Optimized. Documented refusals (a
// TraceFormatException for what is not a trace) are not findings; any other exception is.
using GoAlloc.Replay;

namespace GoAlloc.Cli;

public static class FuzzTargets
{
    /// <summary>Traces with more events than this are not replayed (a fuzz input stays quick).</summary>
    public const int MaxReplayedEvents = 20_000;

    /// <summary>Allocation sizes above this are not replayed (the heap's memory limit is the subject of another check).</summary>
    public const long MaxReplayedSize = 64L << 20;

    public static IReadOnlyList<string> Names { get; } = ["trace", "heap-ops"];

    public static void Run(string name, byte[] data)
    {
        switch (name)
        {
            case "trace":
                Trace(data);
                break;
            case "heap-ops":
                HeapOpDecoder.Run(data, HeapFactories.Available[HeapFactories.Reference]);
                HeapOpDecoder.Run(data, HeapFactories.Available[HeapFactories.Optimized]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "fuzz targets: " + string.Join(", ", Names));
        }
    }

    public static void Trace(byte[] data)
    {
        Trace trace;
        try
        {
            trace = TraceReader.Read(new MemoryStream(data, writable: false));
            TraceReader.Check(trace, ReplayCommand.LenientFraction);
        }
        catch (TraceFormatException)
        {
            return;
        }
        if (trace.Events.Count > MaxReplayedEvents || trace.Events.Any(e => e.Size > MaxReplayedSize) || trace.MaxP > 7)
            return;
        new TraceReplayer(HeapFactories.Available[HeapFactories.Reference]).Replay(trace, HeapFactories.Reference);
    }
}
