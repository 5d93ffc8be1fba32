// Trace: an allocation trace in memory (the events Go prints under GODEBUG=allocfreetrace=1:
// runtime.tracealloc, runtime.tracefree and runtime.tracegc in runtime/mprof.go). It owns the
// parsed events in file order and what the reader had to skip; it does not interpret them (pairing
// frees with allocations is TracePlan's job). The Go type printed after an allocation is dropped.
// GoAlloc's extended format (tools/record/) adds " p=<P> noscan=<bool>" after a tracealloc: the
// allocating P (-1: no P attached) and whether the object has no pointers; a noscan request under
// 16 bytes is a tiny allocation, traced with its own size at its address inside its 16-byte block.
// Old traces (no suffix) are every object a scan object on P0.
// No Go counterpart in code: Go only prints these events (runtime/mprof.go); this holds them.
namespace GoAlloc.Replay;

public enum TraceEventKind : byte
{
    /// <summary>tracealloc(addr, size[, type]): an object of size bytes was allocated at addr.</summary>
    Alloc,
    /// <summary>tracefree(addr, size): the sweeper freed the object at addr.</summary>
    Free,
    /// <summary>tracegc(): a GC cycle started.</summary>
    Gc,
}

/// <summary>
/// One trace event; Line is its 1-based line number in the file (for reports). P is the allocating
/// P (-1: no P attached; 0 in old traces) and Noscan whether the object has no pointers.
/// </summary>
public readonly record struct TraceEvent(TraceEventKind Kind, ulong Address, long Size, int Line, int P = 0, bool Noscan = false)
{
    /// <summary>Go's maxTinySize: noscan requests below it use the tiny allocator.</summary>
    public const int MaxTinySize = 16;

    /// <summary>A tiny allocation: a noscan request under 16 bytes, placed inside a 16-byte block.</summary>
    public bool IsTiny => Kind == TraceEventKind.Alloc && Noscan && Size < MaxTinySize;

    /// <summary>The 16-byte block a tiny allocation lives in.</summary>
    public ulong TinyBlock => Address & ~(ulong)(MaxTinySize - 1);

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

    public Trace(IReadOnlyList<TraceEvent> events, long malformedLines, IReadOnlyList<MalformedLine> firstMalformed, bool extended = false)
    {
        Extended = extended;
        Events = events;
        MalformedLines = malformedLines;
        FirstMalformed = firstMalformed;
        foreach (TraceEvent e in events)
        {
            switch (e.Kind)
            {
                case TraceEventKind.Alloc:
                    Allocs++;
                    MaxP = Math.Max(MaxP, e.P);
                    if (e.P < 0)
                        NoPAllocs++;
                    if (e.IsTiny)
                        TinyAllocs++;
                    else if (e.Noscan)
                        NoscanAllocs++;
                    break;
                case TraceEventKind.Free: Frees++; break;
                default: Gcs++; break;
            }
        }
    }

    public IReadOnlyList<TraceEvent> Events { get; }
    public int Allocs { get; }
    public int Frees { get; }
    public int Gcs { get; }
    /// <summary>True when the trace carries p= and noscan= (GoAlloc's extended format).</summary>
    public bool Extended { get; }
    /// <summary>The highest P that allocated (0 for old traces).</summary>
    public int MaxP { get; }
    /// <summary>Allocations made with no P attached (p=-1): replayed on P0.</summary>
    public int NoPAllocs { get; }
    /// <summary>Tiny allocations (noscan, under 16 bytes).</summary>
    public int TinyAllocs { get; }
    /// <summary>Other noscan allocations.</summary>
    public int NoscanAllocs { get; }
    /// <summary>Non-blank lines that were not a well-formed trace event.</summary>
    public long MalformedLines { get; }
    public IReadOnlyList<MalformedLine> FirstMalformed { get; }
}
