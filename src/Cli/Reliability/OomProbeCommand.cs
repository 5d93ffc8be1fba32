// OomProbeCommand: the hidden `alloc oom-probe` command, the child process of the out-of-memory
// tests (tests/Stress/OutOfMemoryUnderAddressSpaceLimitTests.cs), meant to run under
// `prlimit --as=BYTES` (README, "Reliability"). For each implementation and workload: a warm-up
// under a one-arena MemoryLimit (every code path compiled while the address space is plentiful),
// the first run once more ("again": the runtime's own first-time mappings on the refusal path),
// then one run per --as-headroom value (or one run with none), each a WatchedProbe: a fresh heap,
// OomProbe (fill until OutOfMemoryException, Verify, a GC cycle, allocation resumes), Dispose, and
// /proc/self/maps compared before, during and after. One machine-readable line per run:
//   oom-probe phase=warmup|again|run impl=... workload=... allocations=... oom="..." ... leaked_bytes=0 result=ok
// then `oom-probe result=ok runs=N` (exit 0) or `oom-probe result=fail runs=N failed=K` (exit 1).
// `--address-space [--live-gib 1 4]` instead measures VmSize around a heap: new and empty, with
// 1 GiB and 4 GiB of live objects, after Dispose (`address-space impl=... empty=... live_1gib=...`).
using System.CommandLine;
using System.Globalization;
using GoAlloc.Replay;

namespace GoAlloc.Cli.Reliability;

public sealed class OomProbeCommand
{
    private readonly TextWriter _out;
    private readonly TextWriter _error;

    private readonly Option<string> _impl = new("--impl")
    {
        Description = "Allocator to probe; both = the reference, then the optimized",
        DefaultValueFactory = _ => HeapFactories.Both,
    };
    private readonly Option<string> _workload = new("--workload")
    {
        Description = "small, tiny, large, mixed or all",
        DefaultValueFactory = _ => "all",
    };
    private readonly Option<long> _memoryLimit = new("--memory-limit")
    {
        Description = "HeapOptions.MemoryLimit of the measured heap in bytes (default: none; the process's address-space limit decides)",
        DefaultValueFactory = _ => long.MaxValue,
    };
    private readonly Option<ulong> _seed = new("--seed")
    {
        Description = "Seed of the mixed workload",
        DefaultValueFactory = _ => 1,
    };
    private readonly Option<int> _leadPages = new("--lead-pages")
    {
        Description = "Pages of a first object allocated before the workload (shifts where the limit falls)",
        DefaultValueFactory = _ => 0,
    };
    private readonly Option<long[]> _asHeadroom = new("--as-headroom")
    {
        Description = "Bytes of address space the measured heap may map past what it holds when created: the probe lowers its " +
            "soft RLIMIT_AS to that point for the run (one run per value), so the kernel refuses at a chosen place",
        AllowMultipleArgumentsPerToken = true,
    };
    private readonly Option<bool> _addressSpace = new("--address-space")
    {
        Description = "Measure the address space a heap reserves (VmSize) instead of probing out of memory",
    };
    private readonly Option<int[]> _liveGib = new("--live-gib")
    {
        Description = "With --address-space: the live-object sizes (GiB, increasing) to measure at",
        DefaultValueFactory = _ => [1, 4],
        AllowMultipleArgumentsPerToken = true,
    };

    public OomProbeCommand(TextWriter output, TextWriter error)
    {
        _out = output;
        _error = error;
        _impl.AcceptOnlyFromAmong([.. HeapFactories.ImplChoices]);
        _workload.AcceptOnlyFromAmong("small", "tiny", "large", "mixed", "all");
        Command = new Command("oom-probe", "Drive a heap out of memory (run it under prlimit --as), check the refusal, " +
            "Verify, a GC cycle, that allocation resumes and that Dispose unmaps everything; one result line per run")
        {
            _impl, _workload, _memoryLimit, _seed, _leadPages, _asHeadroom, _addressSpace, _liveGib,
        };
        Command.Hidden = true;
        Command.SetAction(parse => parse.GetValue(_addressSpace)
            ? MeasureAddressSpace(parse.GetValue(_impl) ?? HeapFactories.Both, parse.GetValue(_liveGib) ?? [1, 4])
            : Probe(parse.GetValue(_impl) ?? HeapFactories.Both, parse.GetValue(_workload) ?? "all", parse.GetValue(_memoryLimit),
                parse.GetValue(_seed), parse.GetValue(_leadPages), parse.GetValue(_asHeadroom) ?? []));
    }

    public Command Command { get; }

    private const long NoHeadroom = WatchedProbe.NoHeadroom;

    public int Probe(string impl, string workload, long memoryLimit, ulong seed, int leadPages, long[] asHeadroom)
    {
        if (memoryLimit < 0 || leadPages is < 0 or > 1 << 20 || asHeadroom.Any(h => h < 0))
        {
            _error.WriteLine("alloc oom-probe: --memory-limit and --as-headroom must be >= 0, --lead-pages 0..1048576");
            return ExitCodes.Usage;
        }
        long[] headrooms = asHeadroom.Length == 0 ? [NoHeadroom] : asHeadroom;
        if (!HeapFactories.TryResolve(impl, out var factories, out string error))
        {
            _error.WriteLine($"alloc oom-probe: {error}");
            return ExitCodes.Usage;
        }
        OomWorkloadKind[] kinds = workload == "all"
            ? Enum.GetValues<OomWorkloadKind>()
            : [Enum.Parse<OomWorkloadKind>(workload, ignoreCase: true)];
        int runs = 0, failed = 0;
        foreach ((string name, Func<HeapOptions, IHeap> factory) in factories)
        {
            WarmUpRefusal(factory);
            foreach (OomWorkloadKind kind in kinds)
            {
                var options = new OomProbeOptions { Workload = kind, Seed = seed, LeadPages = leadPages };
                // warmup: compiles every path while the address space is plentiful (one arena);
                // again: the first run once more, so that the runtime's own first-time mappings on
                // its paths (a code heap, an exception's unwind data) are made; run: one per
                // --as-headroom value, judged for leaks too.
                (string Phase, long Limit, long Headroom)[] phases =
                [
                    ("warmup", MallocConstants.HeapArenaBytes, NoHeadroom), ("again", memoryLimit, headrooms[0]),
                    .. headrooms.Select(h => ("run", memoryLimit, h)),
                ];
                foreach ((string phase, long limit, long headroom) in phases)
                {
                    WatchedProbeResult r = WatchedProbe.Run(name, factory, options, limit, headroom, checkLeaks: phase == "run");
                    _out.WriteLine($"oom-probe phase={phase} {r.Line()}");
                    _out.Flush();
                    runs++;
                    if (!r.Passed)
                        failed++;
                }
            }
        }
        _out.WriteLine(failed == 0 ? $"oom-probe result=ok runs={runs}" : $"oom-probe result=fail runs={runs} failed={failed}");
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Disagreement;
    }

    /// <summary>
    /// Compiles the path of a refusal by the OS (SysMem's errno message): a 1 TiB object, which
    /// no kernel maps read/write under the default overcommit heuristic or an address-space limit.
    /// </summary>
    private static void WarmUpRefusal(Func<HeapOptions, IHeap> factory)
    {
        using IHeap heap = factory(new HeapOptions { Procs = 1, MemProfileRate = 0 });
        IProcessor p = heap.AcquireP(0);
        try
        {
            p.Alloc(MallocConstants.MaxAlloc, noscan: true, needzero: false);
        }
        catch (OutOfMemoryException)
        {
            // expected
        }
        p.Release();
    }

    /// <summary>VmSize deltas around one heap per implementation: empty, with each of liveGib GiB of live objects, after Dispose.</summary>
    public int MeasureAddressSpace(string impl, int[] liveGib)
    {
        if (liveGib.Length == 0 || liveGib.Any(g => g is < 1 or > 64) || liveGib.Zip(liveGib.Skip(1)).Any(p => p.First >= p.Second))
        {
            _error.WriteLine("alloc oom-probe: --live-gib takes increasing sizes in GiB, 1..64");
            return ExitCodes.Usage;
        }
        if (!HeapFactories.TryResolve(impl, out var factories, out string error))
        {
            _error.WriteLine($"alloc oom-probe: {error}");
            return ExitCodes.Usage;
        }
        foreach ((string name, Func<HeapOptions, IHeap> factory) in factories)
        {
            // Warm-up: the same steps on a small heap, so the JIT's own mappings come first.
            Measure(factory, [64L << 20]);
            (long Live, long Delta, long HeapSys)[] points;
            long empty, disposed;
            (empty, points, disposed) = Measure(factory, [.. liveGib.Select(g => (long)g << 30)]);
            string live = string.Join(" ", points.Select(p => string.Create(CultureInfo.InvariantCulture,
                $"live_{p.Live >> 30}gib={p.Delta} heap_sys_{p.Live >> 30}gib={p.HeapSys} metadata_{p.Live >> 30}gib={p.Delta - p.HeapSys - empty}")));
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"address-space impl={name} empty={empty} {live} after_dispose={disposed}"));
        }
        return ExitCodes.Ok;
    }

    /// <summary>VmSize deltas from before the heap's creation: new (empty), after each live-bytes goal, after Dispose.</summary>
    private static (long Empty, (long Live, long Delta, long HeapSys)[] Points, long Disposed) Measure(Func<HeapOptions, IHeap> factory, long[] goals)
    {
        long vm0 = AddressSpace.VmSizeBytes();
        IHeap heap = factory(new HeapOptions { Procs = 1, MemProfileRate = 0 });
        var points = new List<(long, long, long)>();
        long empty;
        try
        {
            empty = AddressSpace.VmSizeBytes() - vm0;
            IProcessor p = heap.AcquireP(0);
            var workload = new OomWorkload(OomWorkloadKind.Small, 1);
            long live = 0;
            foreach (long goal in goals)
            {
                while (live < goal)
                {
                    OomRequest r = workload.Next();
                    p.Alloc(r.Size, r.NoScan, needzero: false);
                    live += r.Size;
                }
                points.Add((goal, AddressSpace.VmSizeBytes() - vm0, heap.ReadStats().HeapSys));
            }
            p.Release();
        }
        finally
        {
            heap.Dispose();
        }
        return (empty, points.ToArray(), AddressSpace.VmSizeBytes() - vm0);
    }
}
