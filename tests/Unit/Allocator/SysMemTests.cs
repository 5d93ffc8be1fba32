// SysMemTests: the OS memory layer checked against what the kernel really did. Mappings and their
// permissions come from /proc/self/maps (ProcMaps), residency from mincore (SysMem.ResidentPages).
// Every region a test creates lives in its own 1 GiB slot (TestAddressSpace) or is freshly placed
// by the kernel, so parallel test classes never look at each other's memory. mincore counts a
// page that was only read (mapped to the shared zero page) as resident, so residency is always
// checked before a region is read.
using System.Numerics;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests;

public sealed unsafe class SysMemTests
{
    private static readonly nint Page = SysMem.PhysPageSize;
    private const string ENOMEM = "Cannot allocate memory";

    // ---------------------------------------------------------------- helpers

    private static void Fill(nint v, nint n, byte value) => new Span<byte>((void*)v, checked((int)n)).Fill(value);

    /// <summary>True when every byte of [v, v+n) equals value (the range must be readable).</summary>
    private static bool AllBytesAre(nint v, nint n, byte value) =>
        !new ReadOnlySpan<byte>((void*)v, checked((int)n)).ContainsAnyExcept(value);

    private static void AssertPerms(string perms, nint v, nint n) =>
        Assert.True(ProcMaps.PermsOver(v, n) is [var p] && p == perms, $"expected {perms}; {ProcMaps.Describe(v, n)}");

    /// <summary>The state [v, v+n) is observably in. Linux cannot tell an untouched Ready region from a Prepared one.</summary>
    private static MemState Observe(nint v, nint n)
    {
        string[] perms = ProcMaps.PermsOver(v, n);
        return perms switch
        {
            ["unmapped"] => MemState.None,
            ["---p"] => MemState.Reserved,
            ["rw-p"] => SysMem.ResidentPages(v, n) == 0 ? MemState.Prepared : MemState.Ready,
            _ => throw new Xunit.Sdk.XunitException($"mixed state: {ProcMaps.Describe(v, n)}"),
        };
    }

    // ---------------------------------------------------------------- SysReserve

    [Fact]
    public void SysReserve_RegionIsProtNoneAndNotResident()
    {
        nint n = 64 * Page;
        nint v = SysMem.SysReserve(0, n);
        try
        {
            Assert.Equal(0, v % Page);
            AssertPerms("---p", v, n);
            Assert.Equal(0, SysMem.ResidentPages(v, n));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysReserve_FreeHint_ReturnsHint()
    {
        nint hint = TestAddressSpace.NextHint();
        nint n = 256 * Page;
        nint v = SysMem.SysReserve(hint, n);
        try
        {
            Assert.Equal(hint, v);
            // Nothing else lives in the slot: the reservation is exactly one ---p mapping.
            List<Mapping> maps = ProcMaps.Overlapping(hint, (nint)TestAddressSpace.SlotBytes);
            Assert.Equal([new Mapping(hint, hint + n, "---p", "")], maps);
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysReserve_OccupiedHint_ReturnsOtherAddress()
    {
        nint hint = TestAddressSpace.NextHint();
        nint n = 16 * Page;
        nint first = SysMem.SysReserve(hint, n);
        nint second = 0;
        try
        {
            Assert.Equal(hint, first);
            second = SysMem.SysReserve(hint, n);
            Assert.NotEqual(hint, second);
            Assert.True(second + n <= first || second >= first + n, $"0x{second:x} overlaps 0x{first:x}");
            AssertPerms("---p", second, n);
            AssertPerms("---p", first, n);
        }
        finally
        {
            SysMem.SysFree(first, n);
            if (second != 0)
                SysMem.SysFree(second, n);
        }
    }

    // ---------------------------------------------------------------- SysReserveAligned

    [Theory]
    [InlineData(64 << 10, 1)]
    [InlineData(2 << 20, 1)]
    [InlineData(2 << 20, 511)]
    [InlineData(64 << 20, 3)]
    [InlineData(64 << 20, 0)]
    public void SysReserveAligned_ResultAlignedAndEndsTrimmed(int align, int hintOffsetPages)
    {
        nint slot = TestAddressSpace.NextHint();
        nint hint = slot + hintOffsetPages * Page;
        nint n = 3 * (nint)align / 2;
        nint v = SysMem.SysReserveAligned(hint, n, align);
        try
        {
            Assert.Equal(0, v % align);
            // The kernel took the hint, so the over-reservation began there and v is the first
            // aligned address at or above it.
            Assert.Equal((hint + align - 1) & ~(nint)(align - 1), v);
            // Both trimmed ends are gone: the slot holds exactly [v, v+n).
            List<Mapping> maps = ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes);
            Assert.Equal([new Mapping(v, v + n, "---p", "")], maps);
            Assert.Equal(0, SysMem.ResidentPages(v, n));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysReserveAligned_Anywhere_IsArenaAligned()
    {
        // What the heap does when every arena hint fails.
        nint align = (nint)MallocConstants.HeapArenaBytes;
        nint n = align;
        nint v = SysMem.SysReserveAligned(0, n, align);
        try
        {
            Assert.Equal(0, v % align);
            AssertPerms("---p", v, n);
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4096)]
    [InlineData(3 * 4096)]
    [InlineData(5 * 4096)]
    [InlineData((64 << 20) - 4096)]
    public void SysReserveAligned_NonPowerOfTwoAlignment_Throws(long align)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysReserveAligned(TestAddressSpace.NextHint(), 16 * Page, (nint)align));
        Assert.Equal("align", e.ParamName);
    }

    // ---------------------------------------------------------------- SysMap / SysUsed

    [Fact]
    public void SysMap_ReservedBecomesReadWriteZeroAndNotResident()
    {
        nint n = 32 * Page;
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), n);
        try
        {
            SysMem.SysMap(v, n);
            AssertPerms("rw-p", v, n);
            // Committed but untouched: no physical page yet (checked before reading, see header).
            Assert.Equal(0, SysMem.ResidentPages(v, n));
            Assert.True(AllBytesAre(v, n, 0));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysMap_PartOfReservation_OnlyThatRangeIsReadWrite()
    {
        nint slot = TestAddressSpace.NextHint();
        nint v = SysMem.SysReserve(slot, 8 * Page);
        try
        {
            Assert.Equal(slot, v);
            SysMem.SysMap(v + 2 * Page, 3 * Page);
            List<Mapping> maps = ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes);
            Assert.Equal(
                [
                    new Mapping(v, v + 2 * Page, "---p", ""),
                    new Mapping(v + 2 * Page, v + 5 * Page, "rw-p", ""),
                    new Mapping(v + 5 * Page, v + 8 * Page, "---p", ""),
                ],
                maps);
        }
        finally
        {
            SysMem.SysFree(v, 8 * Page);
        }
    }

    [Fact]
    public void SysUsed_TouchedPagesBecomeResident()
    {
        nint n = 16 * Page;
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), n);
        try
        {
            SysMem.SysMap(v, n);
            SysMem.SysUsed(v, n);
            // Linux faults pages in on first touch, not at SysUsed.
            Assert.Equal(0, SysMem.ResidentPages(v, n));
            for (nint off = 0; off < n; off += 2 * Page)
                *(byte*)(v + off) = 0x5A;
            Assert.Equal(8, SysMem.ResidentPages(v, n));
            Fill(v, n, 0x5A);
            Assert.Equal(16, SysMem.ResidentPages(v, n));
            Assert.True(AllBytesAre(v, n, 0x5A));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    // ---------------------------------------------------------------- SysUnused

    [Fact]
    public void SysUnused_PagesLeaveRssAndReadZero()
    {
        nint n = 16 * Page;
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), n);
        try
        {
            SysMem.SysMap(v, n);
            SysMem.SysUsed(v, n);
            Fill(v, n, 0xA5);
            Assert.Equal(16, SysMem.ResidentPages(v, n));

            // Release the middle 8 pages only.
            nint mid = v + 4 * Page;
            SysMem.SysUnused(mid, 8 * Page);
            Assert.Equal(0, SysMem.ResidentPages(mid, 8 * Page));
            Assert.Equal(8, SysMem.ResidentPages(v, n));
            // Still committed read/write (Prepared), contents gone; the neighbours keep theirs.
            AssertPerms("rw-p", v, n);
            Assert.True(AllBytesAre(mid, 8 * Page, 0));
            Assert.True(AllBytesAre(v, 4 * Page, 0xA5));
            Assert.True(AllBytesAre(v + 12 * Page, 4 * Page, 0xA5));

            // Prepared -> Ready again: usable as fresh memory.
            SysMem.SysUsed(mid, 8 * Page);
            Fill(mid, 8 * Page, 0x3C);
            Assert.Equal(16, SysMem.ResidentPages(v, n));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    // ---------------------------------------------------------------- SysFault / SysFree

    [Fact]
    public void SysFault_RangeBecomesProtNoneAndDropsItsPages()
    {
        nint slot = TestAddressSpace.NextHint();
        nint n = 8 * Page;
        nint v = SysMem.SysReserve(slot, n);
        try
        {
            SysMem.SysMap(v, n);
            SysMem.SysUsed(v, n);
            Fill(v, n, 0x77);
            SysMem.SysFault(v + 2 * Page, 4 * Page);
            // The faulted range must not be touched from here on: it would crash the test host.
            List<Mapping> maps = ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes);
            Assert.Equal(
                [
                    new Mapping(v, v + 2 * Page, "rw-p", ""),
                    new Mapping(v + 2 * Page, v + 6 * Page, "---p", ""),
                    new Mapping(v + 6 * Page, v + 8 * Page, "rw-p", ""),
                ],
                maps);
            Assert.Equal(0, SysMem.ResidentPages(v + 2 * Page, 4 * Page));
            Assert.Equal(4, SysMem.ResidentPages(v, n));
            Assert.True(AllBytesAre(v, 2 * Page, 0x77));
            Assert.True(AllBytesAre(v + 6 * Page, 2 * Page, 0x77));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void SysFree_RangeDisappearsFromMaps()
    {
        nint slot = TestAddressSpace.NextHint();
        nint n = 8 * Page;
        nint v = SysMem.SysReserve(slot, n);
        SysMem.SysMap(v, n);
        Fill(v, n, 0x11);

        // Punch a hole, then free the rest.
        SysMem.SysFree(v + 2 * Page, 2 * Page);
        Assert.Equal(2 * Page, ProcMaps.UnmappedBytes(v, n));
        Assert.Null(ProcMaps.Containing(v + 2 * Page));
        Assert.Null(ProcMaps.Containing(v + 4 * Page - 1));
        AssertPerms("rw-p", v, 2 * Page);
        AssertPerms("rw-p", v + 4 * Page, 4 * Page);

        SysMem.SysFree(v, 2 * Page);
        SysMem.SysFree(v + 4 * Page, 4 * Page);
        Assert.Empty(ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes));
    }

    // ---------------------------------------------------------------- SysAlloc

    [Fact]
    public void SysAlloc_NoneToReadyReadWrite()
    {
        nint n = 8 * Page;
        nint v = SysMem.SysAlloc(n);
        try
        {
            Assert.Equal(0, v % Page);
            AssertPerms("rw-p", v, n);
            Assert.Equal(0, SysMem.ResidentPages(v, n));
            Assert.True(AllBytesAre(v, n, 0));
            Fill(v, n, 0xEE);
            Assert.Equal(8, SysMem.ResidentPages(v, n));
            Assert.True(AllBytesAre(v, n, 0xEE));
        }
        finally
        {
            // The kernel may hand this gap to the next mmap of any thread at once, so the
            // "gone from maps" check lives in SysFree_RangeDisappearsFromMaps (a private slot).
            SysMem.SysFree(v, n);
        }
    }

    // ---------------------------------------------------------------- the state machine

    [Fact]
    public void SysMem_WalksEveryMemStateTransition()
    {
        nint n = 16 * Page;
        nint hint = TestAddressSpace.NextHint();
        Assert.Equal(MemState.None, Observe(hint, n));

        nint v = SysMem.SysReserve(hint, n);
        Assert.Equal(hint, v);
        Assert.Equal(MemState.Reserved, Observe(v, n));

        SysMem.SysMap(v, n);
        Assert.Equal(MemState.Prepared, Observe(v, n));

        SysMem.SysUsed(v, n);
        Fill(v, n, 0x42);
        Assert.Equal(MemState.Ready, Observe(v, n));

        SysMem.SysUnused(v, n);
        Assert.Equal(MemState.Prepared, Observe(v, n));
        Assert.True(AllBytesAre(v, n, 0));

        SysMem.SysUsed(v, n);
        Fill(v, n, 0x43);
        Assert.Equal(MemState.Ready, Observe(v, n));

        SysMem.SysFault(v, n);
        Assert.Equal(MemState.Reserved, Observe(v, n));

        // Reserved -> Prepared again: the old contents are gone.
        SysMem.SysMap(v, n);
        Assert.Equal(MemState.Prepared, Observe(v, n));
        Assert.True(AllBytesAre(v, n, 0));

        SysMem.SysFree(v, n);
        Assert.Equal(MemState.None, Observe(v, n));
    }

    // ---------------------------------------------------------------- failures carry errno

    [Fact]
    public void SysReserve_LargerThanAddressSpace_ThrowsOomWithErrno()
    {
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysReserve(0, unchecked((nint)(1L << 60))));
        Assert.Contains("sysReserve", e.Message);
        Assert.Contains("errno 12", e.Message);
        Assert.Contains(ENOMEM, e.Message);
    }

    // Beyond the user address space (47 bits on amd64): every call that maps, unmaps or
    // protects there fails in the kernel, and each must say which call and why.
    private static readonly nint s_kernelHalf = unchecked((nint)0xFFFF_8000_0000_0000UL);

    [Fact]
    public void SysAlloc_LargerThanAddressSpace_ThrowsOomWithErrno()
    {
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysAlloc(unchecked((nint)(1L << 60))));
        Assert.Contains("sysAlloc(0x0, 1152921504606846976 bytes) failed: errno 12", e.Message);
    }

    [Fact]
    public void SysFault_OutsideTheUserAddressSpace_ThrowsOomWithErrno()
    {
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysFault(s_kernelHalf, Page));
        Assert.Contains("sysFault(0xffff800000000000", e.Message);
    }

    [Fact]
    public void SysFree_OutsideTheUserAddressSpace_ThrowsWithErrno()
    {
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysFree(s_kernelHalf, Page));
        Assert.Contains("sysFree(0xffff800000000000", e.Message);
        Assert.Contains("errno 22", e.Message); // EINVAL
    }

    [Fact]
    public void SysReserveAligned_LengthPlusAlignmentOverflow_IsRejectedAtTheEdge()
    {
        nint align = 1 << 26;
        // n + align == nint.MaxValue still fits: the kernel refuses it (no such address space) ...
        Assert.Throws<OutOfMemoryException>(() => SysMem.SysReserveAligned(0, nint.MaxValue - align, align));
        // ... one more byte overflows, which is the caller's error.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysReserveAligned(0, nint.MaxValue - align + 1, align));
        Assert.Equal("n", e.ParamName);
        Assert.Contains("overflows", e.Message); // diagnosed as such, not as a negative length later

    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4096)]
    public void SysMem_NonPositiveLength_IsRejected(long n)
    {
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysAlloc((nint)n)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysReserve(0, (nint)n)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysFree(Page * 16, (nint)n)).ParamName);
    }

    [Fact]
    public void SysMem_UnalignedAddress_IsRejected()
    {
        Assert.Equal("v", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysMap(Page * 16 + 8, Page)).ParamName);
        Assert.Equal("v", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysFree(Page * 16 + 1, Page)).ParamName);
    }

    [Fact]
    public void SysMap_LargerThanRamAndSwap_FailsUnderOvercommitHeuristic()
    {
        int overcommit = int.Parse(File.ReadAllText("/proc/sys/vm/overcommit_memory").Trim());
        long ramAndSwap = MemInfoBytes("MemTotal") + MemInfoBytes("SwapTotal");
        // A private writable mapping is charged in full at mmap time; 1 TiB (or 4x RAM+swap if
        // that is larger) is refused by both the heuristic (0) and the strict (2) policy.
        long n = Math.Max(1L << 40, (long)BitOperations.RoundUpToPowerOf2((ulong)ramAndSwap * 4));
        nint v = SysMem.SysReserve(0, (nint)n);
        try
        {
            if (overcommit == 1)
            {
                // "Always overcommit": the mapping succeeds and costs nothing until touched.
                SysMem.SysMap(v, (nint)n);
                AssertPerms("rw-p", v, (nint)n);
                return;
            }
            var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysMap(v, (nint)n));
            Assert.Contains("sysMap", e.Message);
            Assert.Contains("errno 12", e.Message);
            Assert.Contains(ENOMEM, e.Message);
        }
        finally
        {
            // munmap of a range that is (partly) unmapped is fine, whatever the failed mmap left.
            SysMem.SysFree(v, (nint)n);
        }
    }

    [Fact]
    public void SysUnused_UnmappedRange_ThrowsOomWithErrno()
    {
        // madvise on a range with no mapping fails with ENOMEM.
        nint hole = TestAddressSpace.NextHint();
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.SysUnused(hole, 4 * Page));
        Assert.Contains("sysUnused", e.Message);
        Assert.Contains($"0x{hole:x}", e.Message);
        Assert.Contains(ENOMEM, e.Message);
    }

    [Fact]
    public void ResidentPages_UnmappedRange_ThrowsOomWithErrno()
    {
        nint hole = TestAddressSpace.NextHint();
        var e = Assert.Throws<OutOfMemoryException>(() => SysMem.ResidentPages(hole, Page));
        Assert.Contains("mincore", e.Message);
        Assert.Contains(ENOMEM, e.Message);
    }

    // ---------------------------------------------------------------- argument checks

    public static TheoryData<string> RangeOps => ["SysMap", "SysUsed", "SysUnused", "SysFault", "SysFree", "ResidentPages"];

    // SysReserveAligned is missing here on purpose: see SysReserveAligned_NonPositiveLength_ThrowsArgumentOutOfRange.
    public static TheoryData<string> LengthOps =>
        ["SysAlloc", "SysReserve", "SysMap", "SysUsed", "SysUnused", "SysFault", "SysFree", "ResidentPages"];

    /// <summary>Calls op on [v, v+n). Everything happens in a private, unmapped slot, so a missing check cannot hurt.</summary>
    private static void Call(string op, nint v, nint n)
    {
        switch (op)
        {
            case "SysAlloc": SysMem.SysAlloc(n); break;
            case "SysReserve": SysMem.SysReserve(v, n); break;
            case "SysReserveAligned": SysMem.SysReserveAligned(v, n, Page); break;
            case "SysMap": SysMem.SysMap(v, n); break;
            case "SysUsed": SysMem.SysUsed(v, n); break;
            case "SysUnused": SysMem.SysUnused(v, n); break;
            case "SysFault": SysMem.SysFault(v, n); break;
            case "SysFree": SysMem.SysFree(v, n); break;
            case "ResidentPages": SysMem.ResidentPages(v, n); break;
            default: throw new ArgumentException(op);
        }
    }

    [Theory]
    [MemberData(nameof(LengthOps))]
    public void SysMem_NonPositiveLength_ThrowsArgumentOutOfRange(string op)
    {
        nint slot = TestAddressSpace.NextHint();
        foreach (nint n in new[] { 0, -Page, nint.MinValue })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Call(op, slot, n));
            Assert.Equal("n", e.ParamName);
        }
        Assert.Empty(ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes));
    }

    [Fact]
    public void SysReserveAligned_NonPositiveLength_ThrowsArgumentOutOfRange()
    {
        nint slot = TestAddressSpace.NextHint();
        // A neighbour just below the hint that a bad trim would eat into.
        nint neighbour = SysMem.SysReserve(slot, 4 * Page);
        try
        {
            nint hint = slot + 4 * Page;
            foreach (nint n in new[] { 0, -Page })
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.SysReserveAligned(hint, n, 2 * Page));
                Assert.Equal("n", e.ParamName);
            }
            Assert.Equal([new Mapping(neighbour, neighbour + 4 * Page, "---p", "")],
                ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes));
        }
        finally
        {
            SysMem.SysFree(slot, (nint)TestAddressSpace.SlotBytes);
        }
    }

    [Theory]
    [MemberData(nameof(RangeOps))]
    public void SysMem_UnalignedAddress_ThrowsArgumentOutOfRange(string op)
    {
        nint slot = TestAddressSpace.NextHint();
        foreach (nint off in new[] { 1, 8, Page / 2, Page - 1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Call(op, slot + Page + off, Page));
            Assert.Equal("v", e.ParamName);
        }
        Assert.Empty(ProcMaps.Overlapping(slot, (nint)TestAddressSpace.SlotBytes));
    }

    private static long MemInfoBytes(string key)
    {
        foreach (string line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0]) * 1024;
        }
        return 0;
    }
}
