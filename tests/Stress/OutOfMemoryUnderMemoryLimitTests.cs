// Out of memory under HeapOptions.MemoryLimit (issue #20, item 5), in process on each allocator:
// the limit is enforced where the heap maps a new 64 MiB arena, so the tests move the point where
// it bites through the arena: a first object of k * 8192 - m pages (k arenas, m stepped from 1 page
// to a whole arena) leaves m pages, part of them grown into the page allocator and part not, and
// the workload (small size classes, tiny blocks, large objects up to 100 MiB, a random mix) then
// refuses in a refill, a page-cache fill, a 4 MiB chunk grow or a multi-arena grow. Each step:
// the refusal is an OutOfMemoryException from the limit and due (OomProbe), heap_sys never passes
// the limit, Verify passes, a GC cycle frees what was not kept, allocation resumes, Verify again.
using GoAlloc.Cli.Reliability;
using GoAlloc.Replay;
using Xunit;
using Xunit.Abstractions;

namespace GoAlloc.Stress.Tests;

[Collection(nameof(OutOfMemoryCollection))]
public sealed class OutOfMemoryUnderMemoryLimitTests(ITestOutputHelper output)
{
    private const long Arena = MallocConstants.HeapArenaBytes;
    private const int PagesPerArena = MallocConstants.PagesPerArena;

    /// <summary>Pages left free in the last allowed arena: around the page cache (64), a chunk (512) and the whole arena.</summary>
    private static readonly int[] s_pagesLeft = [1, 2, 7, 63, 64, 65, 511, 512, 513, 1500, 4096, PagesPerArena];

    public static TheoryData<string, OomWorkloadKind> Cases()
    {
        var data = new TheoryData<string, OomWorkloadKind>();
        foreach (string impl in HeapFactories.AllNames)
        {
            foreach (OomWorkloadKind kind in Enum.GetValues<OomWorkloadKind>())
                data.Add(impl, kind);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MemoryLimit_RefusalAtEveryStageOfRefillsAndGrows_IsOutOfMemory_ThenVerifyPassesAndAllocationResumesAfterACycle(
        string impl, OomWorkloadKind kind)
    {
        Func<HeapOptions, IHeap> factory = HeapFactories.Available[impl];
        var steps = new List<(long Limit, int LeadPages)> { (0, 0) };
        // One arena allowed, then two (the second limit is not a multiple of the arena: it acts as its floor).
        foreach ((int arenas, long extra) in new[] { (1, 0L), (2, (1L << 20) + 3) })
        {
            foreach (int left in s_pagesLeft)
                steps.Add((arenas * Arena + extra, arenas * PagesPerArena - left));
        }
        var failures = new List<string>();
        var failingSizes = new HashSet<long>();
        int served = 0;
        output.WriteLine($"{"limit",12} {"lead pages",10} {"allocations",11} {"failed request",14} {"heap_sys",11} {"resumed",9}");
        foreach ((long limit, int lead) in steps)
        {
            using IHeap heap = factory(new HeapOptions { Procs = 1, MemProfileRate = 0, MemoryLimit = limit });
            OomProbeResult r = OomProbe.Run(impl, heap, new OomProbeOptions { Workload = kind, Seed = (ulong)lead + 1, LeadPages = lead });
            output.WriteLine($"{limit,12} {lead,10} {r.Allocations,11} {r.FailedRequest.Size,14} {r.HeapSysAtOom,11} {r.ResumedAllocations,9}");
            string step = $"limit {limit}, lead {lead} pages";
            if (!r.Passed)
                failures.Add($"{step}: {r.Failure}");
            if (r.MaxHeapSys > limit || r.HeapSysAtOom > limit)
                failures.Add($"{step}: heap_sys reached {Math.Max(r.MaxHeapSys, r.HeapSysAtOom)}, past the limit");
            if (!r.OomMessage.Contains("MemoryLimit", StringComparison.Ordinal))
                failures.Add($"{step}: refused by something other than the limit: {r.OomMessage}");
            if (r.Allocations > 0)
                served++;
            failingSizes.Add(r.FailedRequest.Size);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // The refusals came at different requests (different refills and grows), not one and the same,
        // and mostly after part of the workload was served (with one page left a large object is refused at once).
        Assert.True(failingSizes.Count >= 3, $"the limit bit at only {failingSizes.Count} distinct request sizes");
        Assert.True(served >= steps.Count / 2, $"only {served} of {steps.Count} steps served any of the workload before the refusal");
    }
}
