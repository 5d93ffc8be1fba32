// OomProbe: drives one heap out of memory and back (issue #20, item 5: "OOM is an
// OutOfMemoryException at the allocation that cannot be served, at any point of a refill or a
// grow; after a GC cycle frees memory, allocation resumes"). On P0: an optional lead object of
// LeadPages pages (it shifts where in an arena, a 4 MiB chunk and the page cache the limit falls),
// then the workload until an allocation throws. Checks, in order: the exception is an
// OutOfMemoryException (anything else, or no failure before MaxBytes, is a finding); heap_sys
// never exceeded MemoryLimit (read every 1,024 allocations and at every step); under a
// MemoryLimit (and no address-space limit) the refusal was due (one more arena of the request's
// span would pass the limit); Verify() passes; every kept object (one in KeepEvery, its first
// bytes stamped) is still allocated and intact; a GC cycle that marks only the kept objects
// (StartMark / Mark / FinishMark / FinishSweep) leaves no more heap_alloc than the kept objects
// take (and the P's tiny block), Verify passes, the kept objects survive; the freed requests are
// made again (the workload from its start, kept ones skipped) until half the freed bytes are
// served, with no exception; Verify passes. The heap is not disposed here (the caller watches
// Dispose).
using System.Globalization;

namespace GoAlloc.Cli.Reliability;

public sealed record OomProbeOptions
{
    public OomWorkloadKind Workload { get; init; } = OomWorkloadKind.Small;
    public ulong Seed { get; init; } = 1;
    /// <summary>Pages of a first large (or 8 KiB) object allocated before the workload; 0: none.</summary>
    public int LeadPages { get; init; }
    /// <summary>One object in KeepEvery is kept live across the GC cycle (marked) and checked ...</summary>
    public int KeepEvery { get; init; } = 64;
    /// <summary>... up to MaxKept of them: past that the stride doubles and every other kept object is let go.</summary>
    public int MaxKept { get; init; } = 4096;
    /// <summary>A heap that serves this many requested bytes without refusing is a finding (no limit took effect).</summary>
    public long MaxBytes { get; init; } = 256L << 30;
}

public sealed record OomProbeResult
{
    public required string Implementation { get; init; }
    public required OomProbeOptions Options { get; init; }
    /// <summary>The limit the heap was created with (long.MaxValue: none).</summary>
    public long MemoryLimit { get; init; }
    /// <summary>Null when every check passed; else what failed.</summary>
    public string? Failure { get; init; }
    public long Allocations { get; init; }
    public long BytesRequested { get; init; }
    public OomRequest FailedRequest { get; init; }
    public string OomMessage { get; init; } = "";
    public long HeapSysAtOom { get; init; }
    public long HeapAllocAtOom { get; init; }
    public long HeapAllocAfterCycle { get; init; }
    public long ResumedAllocations { get; init; }
    public long ResumedBytes { get; init; }
    public long MaxHeapSys { get; init; }
    public bool Passed => Failure == null;

    /// <summary>key=value pairs for the probe's result line (values without spaces, the message quoted).</summary>
    public string Fields()
    {
        string limit = MemoryLimit == long.MaxValue ? "none" : MemoryLimit.ToString(CultureInfo.InvariantCulture);
        string failure = Failure == null ? "" : $" failure=\"{Quote(Failure)}\"";
        return string.Join(' ',
            FormattableString.Invariant($"impl={Implementation} workload={Options.Workload.ToString().ToLowerInvariant()} seed={Options.Seed}"),
            FormattableString.Invariant($"lead_pages={Options.LeadPages} memory_limit={limit} allocations={Allocations} bytes={BytesRequested}"),
            FormattableString.Invariant($"failed_request={FailedRequest.Size} heap_sys_at_oom={HeapSysAtOom} max_heap_sys={MaxHeapSys}"),
            FormattableString.Invariant($"heap_alloc_at_oom={HeapAllocAtOom} heap_alloc_after_cycle={HeapAllocAfterCycle}"),
            FormattableString.Invariant($"resumed_allocations={ResumedAllocations} resumed_bytes={ResumedBytes} oom=\"{Quote(OomMessage)}\"{failure}"));
    }

    private static string Quote(string s) => s.ReplaceLineEndings(" ").Replace("\"", "'", StringComparison.Ordinal);
}

public static unsafe class OomProbe
{
    private const int StatsEvery = 1024;

    /// <summary>Runs the probe on a fresh heap (no P held, nothing allocated); leaves it undisposed.</summary>
    public static OomProbeResult Run(string implementation, IHeap heap, OomProbeOptions options)
    {
        var run = new ProbeRun(implementation, heap, options);
        string? failure;
        try
        {
            failure = run.Execute();
        }
        catch (Exception e)
        {
            // Any exception out of a step (Verify, the GC cycle, FindObject, Release) is a finding too.
            failure = $"{run.Stage}: {e.GetType().FullName}: {e.Message}";
        }
        return run.Result(failure);
    }

    private sealed class ProbeRun(string implementation, IHeap heap, OomProbeOptions options)
    {
        private readonly long _limit = heap.Options.MemoryLimit;
        private List<(nint Address, long Size, long Index, long Footprint)> _kept = [];
        private long _keepEvery = options.KeepEvery;
        private long _allocations, _bytes, _maxHeapSys, _resumedAllocations, _resumedBytes;
        private OomRequest _failed;
        private string _oomMessage = "";
        private HeapStats? _atOom, _afterCycle;

        /// <summary>The step running (for an exception's report).</summary>
        public string Stage { get; private set; } = "filling";

        public OomProbeResult Result(string? failure) => new()
        {
            Implementation = implementation,
            Options = options,
            MemoryLimit = _limit,
            Failure = failure,
            Allocations = _allocations,
            BytesRequested = _bytes,
            FailedRequest = _failed,
            OomMessage = _oomMessage,
            HeapSysAtOom = _atOom?.HeapSys ?? 0,
            HeapAllocAtOom = _atOom?.HeapAlloc ?? 0,
            HeapAllocAfterCycle = _afterCycle?.HeapAlloc ?? 0,
            ResumedAllocations = _resumedAllocations,
            ResumedBytes = _resumedBytes,
            MaxHeapSys = _maxHeapSys,
        };

        public string? Execute()
        {
            // 1. Fill until the heap refuses.
            IProcessor p = heap.AcquireP(0);
            var workload = new OomWorkload(options.Workload, options.Seed);
            OutOfMemoryException? oom = null;
            if (options.LeadPages > 0)
            {
                var lead = new OomRequest(options.LeadPages * MallocConstants.PageSize, NoScan: true, NeedZero: true);
                if (Allocate(p, lead, out oom, out string? bad) is { } a)
                    Keep(a, lead, -1);
                else if (bad != null)
                    return Released(p, bad);
                else
                    _failed = lead;
            }
            while (oom == null)
            {
                if (_bytes > options.MaxBytes)
                    return Released(p, $"no OutOfMemoryException after {_allocations} allocations of {_bytes} bytes (heap_sys {heap.ReadStats().HeapSys})");
                OomRequest r = workload.Next();
                if (Allocate(p, r, out oom, out string? bad) is { } a)
                {
                    if (_allocations % _keepEvery == 0)
                        Keep(a, r, _allocations);
                    _allocations++;
                    _bytes += r.Size;
                    if (_allocations % StatsEvery == 0 && CheckLimit("filling") is { } over)
                        return Released(p, over);
                }
                else if (bad != null)
                {
                    return Released(p, bad);
                }
                else
                {
                    _failed = r;
                }
            }
            _oomMessage = oom.Message;
            Stage = "after the OutOfMemoryException";
            p.Release();

            // 2. The refusal: due, within the limit, and the heap consistent.
            _atOom = heap.ReadStats();
            if (CheckLimit("at the OutOfMemoryException") is { } limitBroken)
                return limitBroken;
            // Under an address-space limit (prlimit --as) the kernel may refuse first; the heap cannot know.
            bool osLimited = AddressSpaceLimit.Soft != long.MaxValue;
            if (_limit != long.MaxValue && !osLimited && _atOom.HeapSys + RoundUpToArenas(OomWorkload.SpanBytes(_failed.Size)) <= _limit)
                return $"OutOfMemoryException for {_failed.Size} bytes while an arena more for it was within MemoryLimit {_limit} (heap_sys {_atOom.HeapSys}): {oom.Message}";
            if (VerifyFails("after the OutOfMemoryException") is { } v1)
                return v1;
            if (KeptBroken("after the OutOfMemoryException") is { } k1)
                return k1;

            // 3. A GC cycle keeping only the kept objects.
            Stage = "the GC cycle after the OutOfMemoryException";
            heap.StartMark();
            foreach ((nint a, _, _, _) in _kept)
            {
                if (!heap.Mark(a))
                    return $"Mark(0x{a:x}) of a kept object was refused";
            }
            heap.FinishMark();
            heap.FinishSweep();
            _afterCycle = heap.ReadStats();
            if (VerifyFails("after the GC cycle") is { } v2)
                return v2;
            if (KeptBroken("after the GC cycle") is { } k2)
                return k2;
            // Only the kept objects survive (each as its size class, page run or tiny block), plus
            // the P's current tiny block (FinishMark marks it, as Go's gcMarkTinyAllocs).
            long keptBytes = _kept.Sum(k => k.Footprint) + SizeClasses.MaxTinySize;
            if (_afterCycle.HeapAlloc > keptBytes)
                return $"the GC cycle freed too little: heap_alloc {_atOom.HeapAlloc} -> {_afterCycle.HeapAlloc}, more than the {_kept.Count} kept objects' {keptBytes} bytes";

            // 4. Allocation resumes: the freed requests again (the workload from its start, the kept
            // ones skipped), until half the bytes the cycle freed are served again.
            var keptIndices = _kept.Select(k => k.Index).ToHashSet();
            long freed = _bytes - _kept.Where(k => k.Index >= 0).Sum(k => k.Size);
            if (freed <= 0)
                return VerifyFails("after the GC cycle");
            Stage = "resuming after the GC cycle";
            p = heap.AcquireP(0);
            workload = new OomWorkload(options.Workload, options.Seed);
            long goal = freed / 2;
            for (long j = 0; _resumedBytes < goal; j++)
            {
                OomRequest r = workload.Next();
                if (keptIndices.Contains(j))
                    continue;
                if (Allocate(p, r, out OutOfMemoryException? again, out string? bad) is null)
                {
                    string why = bad ?? $"OutOfMemoryException: {again!.Message}";
                    return Released(p, $"after the GC cycle, allocation {_resumedAllocations} ({r.Size} bytes; {_resumedBytes} of {goal} bytes served) failed: {why}");
                }
                _resumedAllocations++;
                _resumedBytes += r.Size;
                if (_resumedAllocations % StatsEvery == 0 && CheckLimit("resuming") is { } over)
                    return Released(p, over);
            }
            p.Release();
            if (CheckLimit("after resuming") is { } limitAfter)
                return limitAfter;
            return VerifyFails("after resuming") ?? KeptBroken("after resuming");
        }

        /// <summary>One allocation: its address; null with oom set (refused) or with bad set (anything else went wrong).</summary>
        private static nint? Allocate(IProcessor p, OomRequest r, out OutOfMemoryException? oom, out string? bad)
        {
            oom = null;
            bad = null;
            try
            {
                nint a = p.Alloc(r.Size, r.NoScan, r.NeedZero);
                if (a == 0)
                {
                    bad = $"Alloc({r.Size}) returned 0";
                    return null;
                }
                return a;
            }
            catch (OutOfMemoryException e)
            {
                oom = e;
                return null;
            }
            catch (Exception e)
            {
                bad = $"Alloc({r.Size}, noscan: {r.NoScan}, needzero: {r.NeedZero}) threw {e.GetType().FullName} instead of OutOfMemoryException: {e.Message}";
                return null;
            }
        }

        /// <summary>Keeps (stamps and remembers) the object of allocation number index (-1: the lead object).</summary>
        private void Keep(nint a, OomRequest r, long index)
        {
            long size = r.Size;
            if (_kept.Count >= options.MaxKept)
            {
                // A bounded, still even sample: keep the lead object and every other one.
                _keepEvery *= 2;
                _kept = _kept.Where(k => k.Index < 0 || k.Index % _keepEvery == 0).ToList();
                if (index >= 0 && index % _keepEvery != 0)
                    return;
            }
            Stamp(a, size, index);
            _kept.Add((a, size, index, OomWorkload.Footprint(r)));
        }

        /// <summary>Writes a per-object pattern into the object's first bytes (up to 8).</summary>
        private static void Stamp(nint a, long size, long index)
        {
            var bytes = new Span<byte>((void*)a, (int)Math.Min(size, 8));
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = Pattern(index, i);
        }

        private static byte Pattern(long index, int i) => (byte)(0xA5 ^ (index * 31 + i * 7));

        private string? KeptBroken(string when)
        {
            foreach ((nint a, long size, long index, _) in _kept)
            {
                // A tiny object lies inside its 16-byte block: FindObject reports the block.
                if (!heap.FindObject(a, out ObjectInfo info) || !info.Allocated || a < info.Base || a + size > info.Base + info.Size)
                    return $"{when}: kept object 0x{a:x} ({size} bytes) is not found allocated: {info}";
                var bytes = new ReadOnlySpan<byte>((void*)a, (int)Math.Min(size, 8));
                for (int i = 0; i < bytes.Length; i++)
                {
                    if (bytes[i] != Pattern(index, i))
                        return $"{when}: kept object 0x{a:x} ({size} bytes) lost its pattern at byte {i}";
                }
            }
            return null;
        }

        private string? VerifyFails(string when)
        {
            try
            {
                heap.Verify();
                return null;
            }
            catch (Exception e)
            {
                // HeapInvariantException names the broken invariant; anything else is a Verify that could not even walk the heap.
                return $"Verify {when}: {e.GetType().Name}: {e.Message}";
            }
        }

        private string? CheckLimit(string when)
        {
            long sys = heap.ReadStats().HeapSys;
            _maxHeapSys = Math.Max(_maxHeapSys, sys);
            return sys > _limit ? $"heap_sys {sys} exceeds MemoryLimit {_limit} {when}" : null;
        }

        private static long RoundUpToArenas(long bytes) =>
            (bytes + MallocConstants.HeapArenaBytes - 1) & ~(MallocConstants.HeapArenaBytes - 1);

        private static string Released(IProcessor p, string failure)
        {
            try
            {
                p.Release();
            }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                return $"{failure}; then Release threw {e.GetType().Name}: {e.Message}";
            }
            return failure;
        }
    }
}
