// Out of memory under the kernel's address-space limit (issue #20, item 5): `alloc oom-probe` runs
// as a child process under `prlimit --as=BYTES` (OomProbeProcess: the runtime settings that let
// .NET start and run there). Under a plain limit, calibrated so that one or three arenas fit after
// the heap's own reservations, every workload must be refused with an OutOfMemoryException naming
// the kernel's errno, pass Verify, free memory in a GC cycle, allocate again, and leave nothing
// mapped after Dispose. Under a stepped limit (the probe lowers its soft limit to "mapped once the
// heap exists + headroom", headroom stepped from 0 to 8 MiB past an arena, after a 60 MiB first
// object) the kernel refuses each mapping a refill or a grow makes in turn: the arena reservation,
// its arena record, the page allocator's chunk pages, span records, gcBits, span-set blocks and
// spines; after each, Verify, the cycle and the allocations that follow must work. And the address
// space a heap reserves is measured (VmSize) and held to the bound the README states.
using GoAlloc.Replay;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Stress.Tests;

[Collection(nameof(OutOfMemoryCollection))]
public sealed class OutOfMemoryUnderAddressSpaceLimitTests(ITestOutputHelper output)
{
    private const long MiB = 1 << 20;
    private const long Arena = MallocConstants.HeapArenaBytes;

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void UnderPrlimitAs_KernelRefusalIsOutOfMemory_VerifyPasses_AllocationResumes_NothingLeftMapped(string impl)
    {
        // Calibration: what the process has mapped once an empty heap exists (the runtime plus the heap's reservations).
        ProbeOutput calibration = OomProbeProcess.Run(2048 * MiB, "--impl", impl, "--workload", "large", "--memory-limit", "0");
        output.WriteLine(calibration.ToString());
        Assert.True(calibration.ExitCode == 0, calibration.ToString());
        long created = calibration.Lines("oom-probe").First(l => l["phase"] == "run").Long("vm_created");

        foreach (int arenas in new[] { 1, 3 })
        {
            // Room for that many arenas, plus 24 MiB for metadata (less than another arena).
            long limit = created + arenas * Arena + 24 * MiB;
            ProbeOutput run = OomProbeProcess.Run(limit, "--impl", impl);
            output.WriteLine(run.ToString());
            Assert.True(run.ExitCode == 0, run.ToString());
            List<Dictionary<string, string>> runs = run.Lines("oom-probe").Where(l => l.ContainsKey("phase")).ToList();
            Assert.Equal(12, runs.Count); // 4 workloads x (warmup, again, run)
            foreach (Dictionary<string, string> l in runs)
            {
                Assert.True(l["result"] == "ok", $"{l["phase"]} {l["workload"]}: {l.GetValueOrDefault("failure")}\n{run}");
                if (l["phase"] == "warmup")
                    continue;
                // Refused by the kernel (SysMem's errno message), not by a MemoryLimit (there is none).
                Assert.Contains("errno 12", l["oom"]);
                if (l["workload"] is "small" or "tiny")
                    Assert.InRange(l.Long("heap_sys_at_oom"), Arena, arenas * Arena);
                // (result=ok already holds a run to it; "again" may carry the runtime's first-time mappings)
                if (l["phase"] == "run")
                    Assert.Equal("0", l["leaked_bytes"]);
            }
        }
    }

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void UnderPrlimitAs_KernelRefusesEachMappingOfARefillOrGrowInTurn_EveryRefusalLeavesAWorkingHeap(string impl)
    {
        // Past one arena: the first megabyte is where the page allocator, span records, gcBits and
        // span sets map their metadata after the arena (measured at 8979476: each of them is refused
        // somewhere in this list); then enough for every mapping but the next arena.
        const long K = 1 << 10;
        long[] past = [0, 64 * K, 512 * K, MiB, MiB + 4 * K, MiB + 16 * K, MiB + 64 * K, MiB + 68 * K, MiB + 128 * K, MiB + 192 * K,
            MiB + 256 * K, MiB + 320 * K, MiB + 512 * K, 2 * MiB, 4 * MiB, 8 * MiB];
        string[] headrooms = [.. new[] { 0, 64 * K }.Concat(past.Select(p => Arena + p)).Select(h => h.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        ProbeOutput run = OomProbeProcess.Run(3072 * MiB, ["--impl", impl, "--lead-pages", "7680", "--as-headroom", .. headrooms]);
        output.WriteLine(run.ToString());
        List<Dictionary<string, string>> runs = run.Lines("oom-probe").Where(l => l.ContainsKey("phase")).ToList();
        var failures = runs.Where(l => l["result"] != "ok")
            .Select(l => $"{l["workload"]} headroom {l["as_headroom"]}: refused by \"{l["oom"]}\" -> {l.GetValueOrDefault("failure") ?? "leaked " + l["leaked_bytes"]}")
            .ToList();
        Assert.True(failures.Count == 0 && run.ExitCode == 0, $"exit {run.ExitCode}; {failures.Count} runs failed:\n{string.Join("\n", failures)}\n{run.Stderr}");
        Assert.Equal(4 * (2 + headrooms.Length), runs.Count);
        // The kernel refused different mappings, not only the arena reservation.
        int refusals = runs.Where(l => l["phase"] == "run").Select(l => l["oom"].Split(" failed")[0].Split('(')[0]).Distinct().Count();
        output.WriteLine($"distinct refused calls: {refusals}");
    }

    [Theory]
    [InlineData(HeapFactories.Reference, 17)]
    [InlineData(HeapFactories.Optimized, 17)]
    public void AddressSpace_ReservedPerHeap_IsBoundedAndGivenBackAtDispose(string impl, long emptyBoundMiB)
    {
        ProbeOutput run = OomProbeProcess.Run(null, "--impl", impl, "--address-space", "--live-gib", "1");
        output.WriteLine(run.ToString());
        Assert.True(run.ExitCode == 0, run.ToString());
        Dictionary<string, string> l = Assert.Single(run.Lines("address-space"));
        long empty = l.Long("empty"), live = l.Long("live_1gib"), heapSys = l.Long("heap_sys_1gib"), disposed = l.Long("after_dispose");
        // An empty heap: its fixed reservations only (README, "address-space bound").
        Assert.InRange(empty, 0, emptyBoundMiB * MiB);
        // 1 GiB live: the arenas (heap_sys, whole arenas) plus the fixed part plus at most 64 MiB of metadata.
        Assert.InRange(heapSys, 1L << 30, (1L << 30) + 2 * Arena);
        Assert.InRange(live - heapSys - empty, -MiB, 64 * MiB);
        // Given back at Dispose, give or take a page or two of the runtime's.
        Assert.InRange(disposed, -64 * MiB, MiB);
    }
}
