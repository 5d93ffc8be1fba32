// Nothing is left mapped after Dispose (issue #20, item 5), in process on each allocator: a heap is
// driven out of memory under a MemoryLimit of two arenas (each workload), through the GC cycle and
// back (OomProbe), then disposed; /proc/self/maps before it was created, at its end and after
// Dispose must show nothing it mapped still there (WatchedProbe: the anonymous ranges that
// appeared while it lived, none still mapped; no byte of its first arena mapped). The same for a
// heap disposed unused. Each case runs twice and the second run is judged for leaks: the first
// also carries the runtime's own first-time mappings (code heaps, a GC thread's stack and malloc
// arena), which a heap that leaks would add to on every run, the second included. The runtime can
// also map while a later run lives (a new thread pool thread on a loaded machine): a leak is judged
// on up to three runs in a row, and fails only when each of them left ranges behind.
using GoAlloc.Cli.Reliability;
using GoAlloc.Replay;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Stress.Tests;

[Collection(nameof(OutOfMemoryCollection))]
public sealed class NothingMappedAfterDisposeTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void Dispose_AfterOutOfMemoryAndACycle_UnmapsEverythingTheHeapMapped(string impl)
    {
        var failures = new List<string>();
        foreach (OomWorkloadKind kind in Enum.GetValues<OomWorkloadKind>())
        {
            // 48 MiB of the first arena taken by one object: the workloads fill the rest and a second arena.
            var options = new OomProbeOptions { Workload = kind, LeadPages = 6144 };
            WatchedProbe.Run(impl, HeapFactories.Available[impl], options, 2 * MallocConstants.HeapArenaBytes, checkLeaks: false);
            // A leaking heap leaves its ranges behind on every run; the runtime maps now and then
            // while a heap lives (a thread pool thread's 8 MiB stack on a loaded machine), so a leak
            // is a range left behind by three runs in a row.
            WatchedProbeResult r = WatchedProbe.Run(impl, HeapFactories.Available[impl], options, 2 * MallocConstants.HeapArenaBytes);
            for (int retry = 1; retry < 3 && r.LeakedBytes > 0 && r.Probe.Passed && r.FirstArenaMappedAfter == 0; retry++)
            {
                output.WriteLine($"(run {retry}, judged again) {r.Line()}");
                r = WatchedProbe.Run(impl, HeapFactories.Available[impl], options, 2 * MallocConstants.HeapArenaBytes);
            }
            output.WriteLine(r.Line());
            if (!r.Passed)
                failures.Add(r.Line());
            if (r.VmDuring - r.VmBefore < 2 * MallocConstants.HeapArenaBytes)
                failures.Add($"{kind}: VmSize grew only {r.VmDuring - r.VmBefore} bytes while the heap held two arenas: {r.Line()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData(HeapFactories.Reference)]
    [InlineData(HeapFactories.Optimized)]
    public void Dispose_OfAnUnusedHeap_UnmapsItsReservations(string impl)
    {
        Func<HeapOptions, IHeap> factory = HeapFactories.Available[impl];
        for (int round = 0; round < 2; round++)
        {
            AddressSpace before = AddressSpace.Read();
            IHeap heap = factory(new HeapOptions { Procs = 1 });
            nint zeroBase = heap.ZeroBase;
            AddressSpace during = AddressSpace.Read();
            heap.Dispose();
            AddressSpace after = AddressSpace.Read();
            IReadOnlyList<MappedRange> leaked = AddressSpace.Leaked(before, during, after);
            output.WriteLine($"round {round}: the heap mapped {during.Minus(before).Sum(r => r.Length)} bytes; left {leaked.Sum(r => r.Length)}");
            // zerobase lies in the heap's own metadata: gone in every round.
            Assert.Equal(0, after.MappedBytesIn(zeroBase, zeroBase + 1));
            if (round == 1)
                Assert.True(leaked.Count == 0, $"still mapped after Dispose: {string.Join(", ", leaked)}");
        }
    }
}
