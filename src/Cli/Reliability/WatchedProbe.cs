// WatchedProbe: one OomProbe run on a fresh heap, watched from the kernel's side (issue #20, item 5:
// "nothing is left mapped after Dispose", also after an out-of-memory refusal). Reads
// /proc/self/maps and VmSize before the heap is created, once it is created, at the end of the
// probe and after Dispose. Optionally lowers the soft RLIMIT_AS to "VmSize once created + headroom"
// for the probe (AddressSpaceLimit), so the kernel refuses the heap's next mapping past that point,
// and raises it back before anything else runs. Judged: the probe's own checks; no byte of the
// heap's first arena mapped after Dispose; with checkLeaks, nothing that appeared during the
// heap's life still mapped after Dispose (AddressSpace.Leaked; off for warm-ups, where the runtime
// makes its own first-time mappings).
using System.Globalization;

namespace GoAlloc.Cli.Reliability;

public sealed record WatchedProbeResult
{
    public required OomProbeResult Probe { get; init; }
    /// <summary>The headroom given (WatchedProbe.NoHeadroom: none).</summary>
    public long AsHeadroom { get; init; }
    public long VmBefore { get; init; }
    public long VmCreated { get; init; }
    public long VmDuring { get; init; }
    public long VmAfter { get; init; }
    /// <summary>Bytes of the heap's first arena still mapped after Dispose.</summary>
    public long FirstArenaMappedAfter { get; init; }
    /// <summary>What appeared while the heap lived and is still mapped after Dispose.</summary>
    public IReadOnlyList<MappedRange> Leaked { get; init; } = [];
    public long LeakedBytes => Leaked.Sum(r => r.Length);
    public bool CheckLeaks { get; init; }
    public long Milliseconds { get; init; }

    public bool Passed => Probe.Passed && FirstArenaMappedAfter == 0 && (LeakedBytes == 0 || !CheckLeaks);

    /// <summary>The machine-readable result line (key=value; the texts quoted).</summary>
    public string Line()
    {
        string headroom = AsHeadroom == WatchedProbe.NoHeadroom ? "none" : AsHeadroom.ToString(CultureInfo.InvariantCulture);
        string leaked = LeakedBytes == 0 ? "" : $" leaked=\"{string.Join(", ", Leaked.Take(8))}\"";
        return string.Join(' ', Probe.Fields(),
            FormattableString.Invariant($"as_headroom={headroom} vm_before={VmBefore} vm_created={VmCreated} vm_during={VmDuring} vm_after={VmAfter}"),
            FormattableString.Invariant($"first_arena_mapped_after={FirstArenaMappedAfter} leaked_bytes={LeakedBytes}{leaked}"),
            FormattableString.Invariant($"ms={Milliseconds} result={(Passed ? "ok" : "fail")}"));
    }
}

public static class WatchedProbe
{
    /// <summary>asHeadroom for "leave the soft RLIMIT_AS alone".</summary>
    public const long NoHeadroom = -1;

    public static WatchedProbeResult Run(string name, Func<HeapOptions, IHeap> factory, OomProbeOptions options, long memoryLimit,
        long asHeadroom = NoHeadroom, bool checkLeaks = true)
    {
        long started = Environment.TickCount64;
        AddressSpace before = AddressSpace.Read();
        long vmBefore = AddressSpace.VmSizeBytes();
        IHeap heap = factory(new HeapOptions { Procs = 1, MemProfileRate = 0, MemoryLimit = memoryLimit });
        long vmCreated = AddressSpace.VmSizeBytes();
        OomProbeResult r;
        AddressSpace during;
        long vmDuring;
        nint arenaBase;
        try
        {
            if (asHeadroom != NoHeadroom)
                AddressSpaceLimit.SetSoft(vmCreated + asHeadroom);
            try
            {
                r = OomProbe.Run(name, heap, options);
            }
            finally
            {
                if (asHeadroom != NoHeadroom)
                    AddressSpaceLimit.SetSoft(long.MaxValue);
            }
            arenaBase = heap.ArenaBase;
            during = AddressSpace.Read();
            vmDuring = AddressSpace.VmSizeBytes();
        }
        finally
        {
            heap.Dispose();
        }
        AddressSpace after = AddressSpace.Read();
        return new WatchedProbeResult
        {
            Probe = r,
            AsHeadroom = asHeadroom,
            VmBefore = vmBefore,
            VmCreated = vmCreated,
            VmDuring = vmDuring,
            VmAfter = AddressSpace.VmSizeBytes(),
            // The first arena is certainly the heap's alone: none of it may stay mapped, in any phase.
            FirstArenaMappedAfter = arenaBase == 0 ? 0 : after.MappedBytesIn(arenaBase, arenaBase + MallocConstants.HeapArenaBytes),
            Leaked = AddressSpace.Leaked(before, during, after),
            CheckLeaks = checkLeaks,
            Milliseconds = Environment.TickCount64 - started,
        };
    }
}
