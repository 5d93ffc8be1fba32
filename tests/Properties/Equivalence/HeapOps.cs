// HeapOps: the operation language of the heap properties. A Scenario is heap options plus a list
// of operations; each operation is a plain record that prints as one readable step
// ("3: P0.Alloc(1017, noscan, needzero)"). Operations name Ps by number and objects by index into
// the interpreter's list of objects it believes live, never by address, so any sublist of a
// scenario (what FsCheck's shrinking produces) is still a scenario: the interpreter resolves each
// operation against the state it has reached (HeapOpInterpreter).
using System.Collections.Immutable;
using System.Text;

namespace GoAlloc.Properties.Equivalence;

/// <summary>Addresses that are not live objects, for Mark and FindObject.</summary>
public enum BogusKind
{
    /// <summary>A small address far below any heap (0x1000).</summary>
    Small,
    /// <summary>The heap's zerobase.</summary>
    ZeroBase,
    /// <summary>8 bytes below the first arena.</summary>
    BelowArena,
    /// <summary>The last word of the first arena.</summary>
    ArenaTail,
    /// <summary>An object the interpreter believes freed (it may have been reused since).</summary>
    DeadObject,
    /// <summary>The slot right after a live object's rounded size (free, another object, or past the span).</summary>
    PastObject,
    /// <summary>64 slots after a live object (often a free slot of the same span).</summary>
    FarSlot,
    /// <summary>An address in the user range where no heap maps anything (1 &lt;&lt; 46).</summary>
    Unmapped,
    /// <summary>A negative address (-16).</summary>
    Negative,
}

public abstract record HeapOp
{
    protected static string PName(int p) => p < 0 ? "P?" : $"P{p}";
}

/// <summary>AcquireP(P), or AcquireP() (the lowest idle P) when P is -1.</summary>
public sealed record Acquire(int P) : HeapOp
{
    public override string ToString() => P < 0 ? "AcquireP()" : $"AcquireP({P})";
}

public sealed record Release(int P) : HeapOp
{
    public override string ToString() => $"{PName(P)}.Release()";
}

/// <summary>Count allocations of Size bytes on P, one after the other.</summary>
public sealed record Alloc(int P, long Size, bool Noscan, bool NeedZero, int Count = 1) : HeapOp
{
    public override string ToString() =>
        $"{PName(P)}.Alloc({Size}, {(Noscan ? "noscan" : "scan")}, {(NeedZero ? "needzero" : "dirty")}){(Count > 1 ? $" x{Count}" : "")}";
}

/// <summary>An allocation of an invalid size (negative or over MaxAlloc): both heaps must throw.</summary>
public sealed record AllocBad(int P, long Size) : HeapOp
{
    public override string ToString() => $"{PName(P)}.Alloc({Size}) [bad size]";
}

public sealed record Flush(int P) : HeapOp
{
    public override string ToString() => $"{PName(P)}.Flush()";
}

public sealed record StartMark : HeapOp
{
    public override string ToString() => "StartMark()";
}

/// <summary>Marks Count live objects from live[Index] on, each through an interior pointer at Offset (mod its size).</summary>
public sealed record MarkLive(int Index, int Offset, int Count = 1) : HeapOp
{
    public override string ToString() => $"Mark(live[{Index}{(Count > 1 ? $"..+{Count}" : "")}] + {Offset})";
}

public sealed record MarkBogus(BogusKind Kind, int Index = 0) : HeapOp
{
    public override string ToString() => $"Mark({Kind}{(Kind is BogusKind.DeadObject or BogusKind.PastObject or BogusKind.FarSlot ? $"[{Index}]" : "")})";
}

public sealed record FinishMark : HeapOp
{
    public override string ToString() => "FinishMark()";
}

public sealed record SweepOne(int Count = 1) : HeapOp
{
    public override string ToString() => Count > 1 ? $"SweepOne() x{Count}" : "SweepOne()";
}

public sealed record FinishSweep : HeapOp
{
    public override string ToString() => "FinishSweep()";
}

/// <summary>debug.SetGCPercent: re-paces the sweep at once (negative: proportional sweeping off).</summary>
public sealed record SetGcPercent(int Percent) : HeapOp
{
    public override string ToString() => $"SetGcPercent({Percent})";
}

public sealed record Scavenge(long Bytes) : HeapOp
{
    public override string ToString() => $"Scavenge({Bytes})";
}

public sealed record Stats : HeapOp
{
    public override string ToString() => "ReadStats()";
}

public sealed record FindLive(int Index, int Offset) : HeapOp
{
    public override string ToString() => $"FindObject(live[{Index}] + {Offset})";
}

public sealed record FindBogus(BogusKind Kind, int Index = 0) : HeapOp
{
    public override string ToString() => $"FindObject({Kind}{(Kind is BogusKind.DeadObject or BogusKind.PastObject or BogusKind.FarSlot ? $"[{Index}]" : "")})";
}

public sealed record VerifyHeap : HeapOp
{
    public override string ToString() => "Verify()";
}

/// <summary>
/// The options a scenario varies (the rest are HeapOptions' defaults). Hooks false: the heaps run
/// without OnFree / OnSample (the production path), compared through stats and the model only.
/// </summary>
public sealed record ScenarioOptions(int Procs, int MemProfileRate, int GcPercent, ulong SampleSeed,
    bool Hooks = true, bool StrictMarks = false, long MemoryLimit = long.MaxValue, bool UseArenaHints = true)
{
    public HeapOptions ToHeapOptions() => new()
    {
        Procs = Procs,
        MemProfileRate = MemProfileRate,
        GcPercent = GcPercent,
        SampleSeed = SampleSeed,
        StrictMarks = StrictMarks,
        MemoryLimit = MemoryLimit,
        UseArenaHints = UseArenaHints,
    };

    public override string ToString() =>
        $"Procs={Procs} MemProfileRate={MemProfileRate} GcPercent={GcPercent} SampleSeed=0x{SampleSeed:x}" +
        (Hooks ? "" : " Hooks=off") + (StrictMarks ? " StrictMarks" : "") +
        (MemoryLimit == long.MaxValue ? "" : $" MemoryLimit={MemoryLimit >> 20}MiB") + (UseArenaHints ? "" : " UseArenaHints=false");
}

/// <summary>A heap operation sequence and the options of the heaps it runs on.</summary>
public sealed record Scenario(ScenarioOptions Options, ImmutableArray<HeapOp> Ops)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('\n').Append("  heap options: ").Append(Options).Append('\n');
        for (int i = 0; i < Ops.Length; i++)
            sb.Append("  ").Append(i).Append(": ").Append(Ops[i]).Append('\n');
        sb.Append("  (then: release every P, FinishMark if marking, FinishSweep, Verify)");
        return sb.ToString();
    }
}
