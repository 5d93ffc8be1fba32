// Trace: an allocation trace in memory (the events Go prints under GODEBUG=allocfreetrace=1:
// runtime.tracealloc, runtime.tracefree and runtime.tracegc in runtime/mprof.go). It owns the
// parsed events in file order and what the reader had to skip; it does not interpret them (pairing
// frees with allocations is TracePlan's job). The Go type printed after an allocation is dropped:
// the replay treats every object as a scan object.
namespace GoAlloc.Cli;

public enum TraceEventKind : byte
{
    /// <summary>tracealloc(addr, size[, type]): an object of size bytes was allocated at addr.</summary>
    Alloc,
    /// <summary>tracefree(addr, size): the sweeper freed the object at addr.</summary>
    Free,
    /// <summary>tracegc(): a GC cycle started.</summary>
    Gc,
}

/// <summary>One trace event; Line is its 1-based line number in the file (for reports).</summary>
public readonly record struct TraceEvent(TraceEventKind Kind, ulong Address, long Size, int Line)
{
    public override string ToString() => Kind switch
    {
        TraceEventKind.Alloc => $"line {Line}: tracealloc(0x{Address:x}, 0x{Size:x})",
        TraceEventKind.Free => $"line {Line}: tracefree(0x{Address:x}, 0x{Size:x})",
        _ => $"line {Line}: tracegc()",
    };
}

/// <summary>A malformed line the reader skipped, kept (the first few) for the report.</summary>
public readonly record struct MalformedLine(int Line, string Text);

public sealed class Trace
{
    /// <summary>How many malformed lines are kept verbatim; the rest are only counted.</summary>
    public const int MaxMalformedKept = 10;

    public Trace(IReadOnlyList<TraceEvent> events, long malformedLines, IReadOnlyList<MalformedLine> firstMalformed)
    {
        Events = events;
        MalformedLines = malformedLines;
        FirstMalformed = firstMalformed;
        foreach (TraceEvent e in events)
        {
            switch (e.Kind)
            {
                case TraceEventKind.Alloc: Allocs++; break;
                case TraceEventKind.Free: Frees++; break;
                default: Gcs++; break;
            }
        }
    }

    public IReadOnlyList<TraceEvent> Events { get; }
    public int Allocs { get; }
    public int Frees { get; }
    public int Gcs { get; }
    /// <summary>Non-blank lines that were not a well-formed trace event.</summary>
    public long MalformedLines { get; }
    public IReadOnlyList<MalformedLine> FirstMalformed { get; }
}
