// HeapOptions: how a heap is created (the knobs Go reads from GOMAXPROCS, GOGC, MemProfileRate and
// GODEBUG), and the debug hooks (OnSample, OnFree, OnTrace). Both allocators honour every option
// identically.
namespace GoAlloc;

/// <summary>How a heap is created: Go's GOMAXPROCS, GOGC, MemProfileRate and GODEBUG knobs and the debug hooks. Both allocators honour every option identically; a heap's constructor throws ArgumentOutOfRangeException for a value out of range.</summary>
public sealed record HeapOptions
{
    /// <summary>Number of Ps (GOMAXPROCS).</summary>
    public int Procs { get; init; } = 4;

    /// <summary>Place arenas at Go's hint addresses (0x00c0&lt;&lt;32 upward); off = anywhere the kernel picks.</summary>
    public bool UseArenaHints { get; init; } = true;

    /// <summary>Upper bound on heap_sys (mapped arena bytes); growth past it throws OutOfMemoryException.</summary>
    public long MemoryLimit { get; init; } = long.MaxValue;

    /// <summary>GOGC: the sweep pacing trigger is max(4 MiB, heap_marked * (1 + 7/8 * GcPercent/100)) (Go's initial trigger ratio); -1 disables proportional sweeping; below -1 is refused.</summary>
    public int GcPercent { get; init; } = 100;

    /// <summary>runtime.MemProfileRate: mean bytes between samples; 0 turns sampling off, 1 samples everything.</summary>
    public int MemProfileRate { get; init; } = 512 * 1024;

    /// <summary>Seed of the per-P sample generators (Go's fastrand state), so samples are reproducible.</summary>
    public ulong SampleSeed { get; init; } = 0x9E3779B97F4A7C15UL;

    /// <summary>Receives each sampled allocation (Go's mProf_Malloc). Called on the allocating thread.</summary>
    public Action<SampledAllocation>? OnSample { get; init; }

    /// <summary>Debug (GODEBUG=allocfreetrace): called with (address, size) for every object a sweep frees.
    /// Runs on the sweeping thread while it owns the span: it must not call back into the heap.</summary>
    public Action<nint, long>? OnFree { get; init; }

    /// <summary>
    /// Debug hook (the role of Go's runtime/trace): receives every step of the sweep protocol
    /// (HeapTraceEvent: refill, cacheSpan, uncacheSpan, sweeps, flushes, the stop-the-world points).
    /// Called synchronously on the acting thread, sometimes under a heap lock or while that thread
    /// owns a span: it must be quick, thread-safe, and must not call back into the heap. Events come
    /// only from slow paths; with no hook, nothing is built or allocated. The hook itself takes no
    /// part in the protocol (it adds no Volatile/Interlocked access, so a Coyote schedule replays the
    /// same with or without it).
    /// </summary>
    public Action<HeapTraceEvent>? OnTrace { get; init; }

    /// <summary>Mark() of an address that is not an allocated object throws instead of being counted.</summary>
    public bool StrictMarks { get; init; }

    internal void Validate()
    {
        if (Procs is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(Procs), Procs, "Procs must be 1..256");
        if (MemoryLimit < 0)
            throw new ArgumentOutOfRangeException(nameof(MemoryLimit), MemoryLimit, "MemoryLimit must be >= 0");
        if (MemProfileRate < 0)
            throw new ArgumentOutOfRangeException(nameof(MemProfileRate), MemProfileRate, "MemProfileRate must be >= 0");
        CheckGcPercent(GcPercent, nameof(GcPercent));
    }

    /// <summary>GOGC: -1 (off) or a percentage >= 0; anything below -1 has no meaning.</summary>
    internal static void CheckGcPercent(int percent, string paramName)
    {
        if (percent < -1)
            throw new ArgumentOutOfRangeException(paramName, percent, "GcPercent must be -1 (proportional sweep off) or >= 0");
    }
}
