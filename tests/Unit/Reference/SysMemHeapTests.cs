// SysMemHeapTests: what a Reference heap does to the address space, seen from the kernel. These
// tests run alone (HeapAddressSpace collection, parallelization off): every heap starts at the
// same arena hint 0x00c0<<32, so a heap created by a parallel test could map the very arena these
// tests just watched being unmapped.
using GoAlloc.Reference;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests;

[CollectionDefinition(nameof(HeapAddressSpace), DisableParallelization = true)]
public sealed class HeapAddressSpace;

[Collection(nameof(HeapAddressSpace))]
public sealed unsafe class SysMemHeapTests
{
    private const long ArenaBytes = MallocConstants.HeapArenaBytes;
    private const long LargeBytes = 1 << 20;
    private const int SmallCount = 1000;
    private const int SmallBytes = 64;
    /// <summary>"Release everything": as many bytes as the heap could ever hold (see Heap_ScavengeLongMaxValue_ReleasesEverything).</summary>
    private const long Everything = 1L << 62;

    /// <summary>1000 x 64 B and one 1 MiB object, every byte written (so their pages are resident).</summary>
    private static (List<nint> Small, nint Large) AllocateAndTouch(MHeap heap)
    {
        IProcessor p = heap.AcquireP();
        var small = new List<nint>();
        for (int i = 0; i < SmallCount; i++)
        {
            nint a = p.Alloc(SmallBytes);
            new Span<byte>((void*)a, SmallBytes).Fill(0x5A);
            small.Add(a);
        }
        nint large = p.Alloc(LargeBytes);
        new Span<byte>((void*)large, (int)LargeBytes).Fill(0xC3);
        p.Release();
        return (small, large);
    }

    [Fact]
    public void Heap_Dispose_UnmapsArenasAndRejectsEveryCall()
    {
        var heap = new MHeap();
        (List<nint> small, nint large) = AllocateAndTouch(heap);
        IProcessor stale = heap.AcquireP();
        nint arena = heap.ArenaBase;
        nint zeroBase = heap.ZeroBase;
        Assert.NotEqual(0, arena);
        Assert.Equal(0, arena % ArenaBytes);
        Assert.All(small.Append(large), a => Assert.InRange(a, arena, arena + (nint)ArenaBytes - 1));
        Assert.True(ProcMaps.PermsOver(arena, (nint)ArenaBytes) is ["rw-p"], ProcMaps.Describe(arena, (nint)ArenaBytes));
        Assert.NotNull(ProcMaps.Containing(zeroBase));

        // Dispose is allowed while the calling thread still holds a P.
        heap.Dispose();

        Assert.True(ProcMaps.Overlapping(arena, (nint)ArenaBytes).Count == 0, ProcMaps.Describe(arena, (nint)ArenaBytes));
        // zerobase is the first byte of the metadata reservation: that is gone too.
        Assert.Null(ProcMaps.Containing(zeroBase));

        Assert.Throws<ObjectDisposedException>(() => heap.AcquireP());
        Assert.Throws<ObjectDisposedException>(() => heap.AcquireP(1));
        Assert.Throws<ObjectDisposedException>(() => heap.ReadStats());
        Assert.Throws<ObjectDisposedException>(() => heap.Verify());
        Assert.Throws<ObjectDisposedException>(() => heap.StartMark());
        Assert.Throws<ObjectDisposedException>(() => heap.Mark(large));
        Assert.Throws<ObjectDisposedException>(() => heap.FinishMark());
        Assert.Throws<ObjectDisposedException>(() => heap.Scavenge(long.MaxValue));
        Assert.Throws<ObjectDisposedException>(() => heap.FindObject(large, out _));
        Assert.Throws<ObjectDisposedException>(() => heap.SweepOne());
        Assert.Throws<ObjectDisposedException>(() => heap.FinishSweep());
        Assert.Throws<ObjectDisposedException>(() => heap.StartBackgroundSweeper());
        // A P held across Dispose must not reach the unmapped arena either.
        Assert.Throws<ObjectDisposedException>(() => stale.Alloc(SmallBytes));
        Assert.Throws<ObjectDisposedException>(() => stale.Alloc(LargeBytes));
        Assert.Throws<ObjectDisposedException>(() => stale.Flush());

        // A second Dispose is a no-op.
        heap.Dispose();
    }

    [Fact]
    public void Heap_ScavengeAfterGc_FreedPagesLeaveRssAndReadZero()
    {
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        (List<nint> small, nint large) = AllocateAndTouch(heap);
        nint arena = heap.ArenaBase;
        long page = MallocConstants.PageSize;

        // Allocated: the arena is committed read/write and what was written is resident.
        Assert.True(ProcMaps.PermsOver(arena, (nint)ArenaBytes) is ["rw-p"], ProcMaps.Describe(arena, (nint)ArenaBytes));
        Assert.Equal(arena, small.Min());
        Assert.Equal(1, SysMem.ResidentPages(arena, SysMem.PhysPageSize));
        Assert.Equal(LargeBytes / SysMem.PhysPageSize, SysMem.ResidentPages(large, (nint)LargeBytes));
        var smallPages = small.Select(a => a & ~(nint)MallocConstants.PageMask).Distinct().ToList();
        Assert.Equal((SmallCount * SmallBytes + page - 1) / page, smallPages.Count);

        // A GC cycle with no marks frees everything.
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
        HeapStats swept = heap.ReadStats();
        Assert.Equal(0, swept.HeapAlloc);
        Assert.Equal(0, swept.HeapObjects);
        Assert.Equal(0, swept.HeapInuse);

        long released = heap.Scavenge(Everything);
        HeapStats after = heap.ReadStats();
        heap.Verify();

        // Exactly the pages that were used and freed are released; the rest never left the kernel's hands.
        Assert.Equal((smallPages.Count + LargeBytes / page) * page, released);
        Assert.Equal(swept.HeapReleased + released, after.HeapReleased);
        Assert.True(after.HeapReleased <= after.HeapIdle, after.ToString());
        Assert.Equal(0, SysMem.ResidentPages(large, (nint)LargeBytes));
        foreach (nint pg in smallPages)
            Assert.Equal(0, SysMem.ResidentPages(pg, (nint)page));
        // Still mapped (Prepared), and reading gives zeros, not the old pattern.
        Assert.True(ProcMaps.PermsOver(arena, (nint)ArenaBytes) is ["rw-p"], ProcMaps.Describe(arena, (nint)ArenaBytes));
        Assert.False(new ReadOnlySpan<byte>((void*)large, (int)LargeBytes).ContainsAnyExcept((byte)0));
        foreach (nint pg in smallPages)
            Assert.False(new ReadOnlySpan<byte>((void*)pg, (int)page).ContainsAnyExcept((byte)0));

        // Nothing is left to release.
        Assert.Equal(0, heap.Scavenge(Everything));
        Assert.Equal(after.HeapReleased, heap.ReadStats().HeapReleased);
    }

    [Fact]
    public void Heap_ScavengeLongMaxValue_ReleasesEverything()
    {
        // Go's debug.FreeOSMemory scavenges ^uintptr(0) bytes: the largest request means "all of it".
        using var heap = new MHeap(new HeapOptions { Procs = 1 });
        (_, nint large) = AllocateAndTouch(heap);
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
        long released = heap.Scavenge(long.MaxValue);
        Assert.True(released >= LargeBytes, $"released {released} bytes");
        Assert.Equal(0, SysMem.ResidentPages(large, (nint)LargeBytes));
    }
}
