// TracePlan: the pre-scan of a trace (no allocator involved). It gives every tracealloc an object
// id (its allocation ordinal), pairs each tracefree with the live trace object at that address, and
// from that decides, for every object, the GC cycle whose sweep must free it ("death cycle"). This
// is what Go's allocfreetrace implies: the objects freed between tracegc i and tracegc i+1 are
// exactly the objects GC cycle i found dead; all others were live (marked).
// Pairing rules: a free pairs with the live object at its address when the sizes are equal and the
// object was allocated before the cycle's tracegc. Anything else is an "unpaired" event: tolerated,
// counted and kept for the report, and the object (if any) stays live. An allocation at an address
// that is still live replaces the old object: the old one is dropped, so the replay stops marking it
// and it dies at the next cycle (counted as an unpaired event too).
// Tiny allocations (extended traces: noscan, under 16 bytes) share a 16-byte block: Go frees the
// block (tracefree(block, 0x10)) when every object in it is dead, so such a free pairs with the live
// block at that address and all its objects die in that cycle.
// Invariant: DeathCycle[id] is Never or a cycle after the object's allocation.
// No Go counterpart.
namespace GoAlloc.Replay;

public enum UnpairedKind
{
    /// <summary>tracefree of an address with no live trace object.</summary>
    FreeOfUnknownAddress,
    /// <summary>tracefree whose size differs from the live object's size.</summary>
    FreeSizeMismatch,
    /// <summary>tracefree before the first tracegc: no GC cycle could have found it dead.</summary>
    FreeBeforeFirstGc,
    /// <summary>tracefree of an object allocated after the cycle's tracegc (it was allocated black).</summary>
    FreeOfObjectAllocatedThisCycle,
    /// <summary>tracealloc at an address that is still live: the old object is replaced.</summary>
    AllocOverLiveObject,
}

/// <summary>An event that did not pair; Window is the number of tracegc() lines before it minus 1.</summary>
public readonly record struct UnpairedEvent(UnpairedKind Kind, int Window, TraceEvent Event);

public sealed class TracePlan
{
    /// <summary>DeathCycle of an object no cycle of the trace frees.</summary>
    public const int Never = int.MaxValue;
    /// <summary>How many unpaired events are kept verbatim; the rest are only counted.</summary>
    public const int MaxUnpairedKept = 20;

    private TracePlan(int cycles)
    {
        Cycles = cycles;
        AllocsBeforeCycle = new int[cycles];
        TraceFreesInCycle = new int[cycles];
        ReplacedDyingInCycle = new int[cycles];
        UnpairedInWindow = new int[cycles];
    }

    /// <summary>Number of GC cycles (tracegc() lines).</summary>
    public int Cycles { get; }
    public int ObjectCount => ObjectSize.Length;
    /// <summary>Per object id: the size the trace recorded.</summary>
    public long[] ObjectSize { get; private set; } = [];
    /// <summary>Per object id: the trace address (for reports).</summary>
    public ulong[] ObjectTraceAddress { get; private set; } = [];
    /// <summary>Per object id: the cycle whose sweep frees it, or Never.</summary>
    public int[] DeathCycle { get; private set; } = [];
    /// <summary>Per cycle: the objects the trace holds live after that cycle's sweep (a tiny block counts once).</summary>
    public long[] TraceLiveObjects { get; private set; } = [];
    /// <summary>Per cycle: their bytes (slot sizes; 16 per tiny block).</summary>
    public long[] TraceLiveBytes { get; private set; } = [];

    /// <summary>Allocations between tracegc i-1 (or the start) and tracegc i.</summary>
    public int[] AllocsBeforeCycle { get; }
    public int AllocsAfterLastCycle { get; private set; }
    /// <summary>Paired tracefree events between tracegc i and tracegc i+1.</summary>
    public int[] TraceFreesInCycle { get; }
    /// <summary>Objects replaced (AllocOverLiveObject) before tracegc i and after tracegc i-1: cycle i frees them.</summary>
    public int[] ReplacedDyingInCycle { get; }
    /// <summary>Unpaired events between tracegc i and tracegc i+1.</summary>
    public int[] UnpairedInWindow { get; }
    public int UnpairedBeforeFirstCycle { get; private set; }

    public long PairedFrees { get; private set; }
    public IReadOnlyDictionary<UnpairedKind, long> UnpairedByKind => _unpairedByKind;
    public long UnpairedEvents { get; private set; }
    public IReadOnlyList<UnpairedEvent> FirstUnpaired => _firstUnpaired;

    private readonly Dictionary<UnpairedKind, long> _unpairedByKind = [];
    private readonly List<UnpairedEvent> _firstUnpaired = [];

    /// <summary>Objects cycle i must free: paired trace frees of window i plus objects replaced before it.</summary>
    public int ExpectedFreesInCycle(int cycle) => TraceFreesInCycle[cycle] + ReplacedDyingInCycle[cycle];

    public static TracePlan Build(Trace trace)
    {
        var plan = new TracePlan(trace.Gcs);
        var size = new long[trace.Allocs];
        var traceAddr = new ulong[trace.Allocs];
        var death = new int[trace.Allocs];
        var birthWindow = new int[trace.Allocs];
        var live = new Dictionary<ulong, int>(); // trace address -> object id
        var liveTiny = new Dictionary<ulong, List<int>>(); // tiny block address -> its objects' ids
        var blockOf = new int[trace.Allocs];      // tiny object -> the id of its block's first object (-1: not tiny)
        int window = -1;                          // tracegc() lines seen - 1
        int nextId = 0;
        foreach (TraceEvent e in trace.Events)
        {
            switch (e.Kind)
            {
                case TraceEventKind.Gc:
                    window++;
                    break;

                case TraceEventKind.Alloc:
                {
                    int id = nextId++;
                    size[id] = e.Size;
                    traceAddr[id] = e.Address;
                    death[id] = Never;
                    birthWindow[id] = window;
                    if (window + 1 < plan.Cycles)
                        plan.AllocsBeforeCycle[window + 1]++;
                    else
                        plan.AllocsAfterLastCycle++;
                    blockOf[id] = -1;
                    ulong key = e.IsTiny ? e.TinyBlock : e.Address;
                    if (liveTiny.TryGetValue(key, out List<int>? members) && !e.IsTiny)
                    {
                        // A non-tiny object where a tiny block is live: the trace lost the block's free.
                        foreach (int m in members)
                            death[m] = window + 1 < plan.Cycles ? window + 1 : Never;
                        if (window + 1 < plan.Cycles)
                            plan.ReplacedDyingInCycle[window + 1]++;
                        plan.AddUnpaired(UnpairedKind.AllocOverLiveObject, window, e);
                        liveTiny.Remove(key);
                    }
                    if (e.IsTiny)
                    {
                        if (live.Remove(key, out int replaced))
                        {
                            if (window + 1 < plan.Cycles)
                            {
                                death[replaced] = window + 1;
                                plan.ReplacedDyingInCycle[window + 1]++;
                            }
                            plan.AddUnpaired(UnpairedKind.AllocOverLiveObject, window, e);
                        }
                        if (!liveTiny.TryGetValue(key, out members))
                            liveTiny[key] = members = [];
                        blockOf[id] = members.Count == 0 ? id : members[0];
                        members.Add(id);
                        break;
                    }
                    if (live.TryGetValue(e.Address, out int old))
                    {
                        // The trace lost the old object's free: drop it; the next cycle sweeps it.
                        if (window + 1 < plan.Cycles)
                        {
                            death[old] = window + 1;
                            plan.ReplacedDyingInCycle[window + 1]++;
                        }
                        plan.AddUnpaired(UnpairedKind.AllocOverLiveObject, window, e);
                    }
                    live[e.Address] = id;
                    break;
                }

                case TraceEventKind.Free:
                {
                    if (e.Size == TraceEvent.MaxTinySize && liveTiny.TryGetValue(e.Address, out List<int>? block))
                    {
                        if (window < 0)
                            plan.AddUnpaired(UnpairedKind.FreeBeforeFirstGc, window, e);
                        else if (block.Exists(m => birthWindow[m] == window))
                            plan.AddUnpaired(UnpairedKind.FreeOfObjectAllocatedThisCycle, window, e);
                        else
                        {
                            foreach (int m in block)
                                death[m] = window;
                            liveTiny.Remove(e.Address);
                            plan.TraceFreesInCycle[window]++;
                            plan.PairedFrees++;
                        }
                        break;
                    }
                    if (!live.TryGetValue(e.Address, out int id))
                        plan.AddUnpaired(UnpairedKind.FreeOfUnknownAddress, window, e);
                    else if (size[id] != e.Size)
                        plan.AddUnpaired(UnpairedKind.FreeSizeMismatch, window, e);
                    else if (window < 0)
                        plan.AddUnpaired(UnpairedKind.FreeBeforeFirstGc, window, e);
                    else if (birthWindow[id] == window)
                        plan.AddUnpaired(UnpairedKind.FreeOfObjectAllocatedThisCycle, window, e);
                    else
                    {
                        death[id] = window;
                        live.Remove(e.Address);
                        plan.TraceFreesInCycle[window]++;
                        plan.PairedFrees++;
                    }
                    break;
                }
            }
        }
        plan.ObjectSize = size;
        plan.ObjectTraceAddress = traceAddr;
        plan.DeathCycle = death;
        plan.CountTraceLive(birthWindow, blockOf);
        return plan;
    }

    /// <summary>
    /// TraceLiveObjects / TraceLiveBytes: an object allocated in window b (before tracegc b+1) and
    /// dying in cycle d is live after the sweeps of cycles b+1 .. d-1; a tiny block counts once, from
    /// its first object's window to its objects' death.
    /// </summary>
    private void CountTraceLive(int[] birthWindow, int[] blockOf)
    {
        var objects = new long[Cycles + 1];
        var bytes = new long[Cycles + 1];
        for (int id = 0; id < ObjectCount; id++)
        {
            if (blockOf[id] >= 0 && blockOf[id] != id)
                continue; // a tiny block is counted at its first object
            int from = birthWindow[id] + 1;
            int to = DeathCycle[id] == Never ? Cycles : Math.Min(DeathCycle[id], Cycles);
            if (from >= to)
                continue;
            long size = blockOf[id] == id ? TraceEvent.MaxTinySize : SlotSize(ObjectSize[id]);
            objects[from]++;
            objects[to]--;
            bytes[from] += size;
            bytes[to] -= size;
        }
        TraceLiveObjects = new long[Cycles];
        TraceLiveBytes = new long[Cycles];
        long o = 0, b = 0;
        for (int i = 0; i < Cycles; i++)
        {
            o += objects[i];
            b += bytes[i];
            TraceLiveObjects[i] = o;
            TraceLiveBytes[i] = b;
        }
    }

    private void AddUnpaired(UnpairedKind kind, int window, TraceEvent e)
    {
        UnpairedEvents++;
        _unpairedByKind[kind] = _unpairedByKind.GetValueOrDefault(kind) + 1;
        if (window >= 0)
            UnpairedInWindow[window]++;
        else
            UnpairedBeforeFirstCycle++;
        if (_firstUnpaired.Count < MaxUnpairedKept)
            _firstUnpaired.Add(new UnpairedEvent(kind, window, e));
    }

    /// <summary>
    /// The slot size an allocator gives a request of this size (Go's roundupsize): the smallest size
    /// class that holds it, or whole pages for large objects. Trace sizes are already rounded, so this
    /// is the identity on real traces; hand-written ones may use any size.
    /// </summary>
    public static long SlotSize(long size)
    {
        if (size <= SizeClasses.MaxSmallSize)
        {
            ReadOnlySpan<ushort> classes = SizeClasses.ClassToSize;
            for (int c = 1; c < classes.Length; c++)
            {
                if (classes[c] >= size)
                    return classes[c];
            }
        }
        return (size + MallocConstants.PageMask) & ~MallocConstants.PageMask;
    }
}
