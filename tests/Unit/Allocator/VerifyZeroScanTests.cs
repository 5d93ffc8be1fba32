// VerifyZeroScanTests: Verify's INV-ZERO-1 scan (HeapSnapshot.DirtyPages) reads a word past an
// arena's zeroedBase only where the kernel backs its OS page (SysMem.BackedPages), and
// SysMem.BackedPages itself against what the kernel did. Reading an untouched page would map the
// kernel's zero page there: 16,384 faults for a fresh 64 MiB arena, most of a first Verify's time.
// Detection of a dirty first or last word in a heap stays with VerifyContractTests (INV-ZERO-1).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests;

public sealed unsafe class VerifyZeroScanTests
{
    private static readonly nint Page = SysMem.PhysPageSize;

    /// <summary>SysMem.BackedPages, which must be able to read /proc/self/pagemap here.</summary>
    private static bool[] Backed(nint v, nint n) =>
        SysMem.BackedPages(v, n) ?? throw new Xunit.Sdk.XunitException("/proc/self/pagemap is unreadable");

    [Fact]
    public void BackedPages_NamesWrittenAndReadPagesOnly_AndForgetsDroppedOnes()
    {
        nint n = 8 * Page;
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), n);
        try
        {
            Assert.Equal(new bool[8], Backed(v, n)); // Reserved: nothing backed
            SysMem.SysMap(v, n);
            Assert.Equal(new bool[8], Backed(v, n)); // Prepared, untouched
            *(byte*)(v + 1 * Page + 5) = 1;                      // a write backs page 1
            Assert.Equal(0L, *(long*)(v + 6 * Page));            // a read maps the zero page at 6
            Assert.Equal([false, true, false, false, false, false, true, false], Backed(v, n));
            Assert.Equal([true, false], Backed(v + 6 * Page, 2 * Page));
            SysMem.SysUnused(v, 2 * Page);                       // MADV_DONTNEED drops page 1
            Assert.Equal([false, false, false, false, false, false, true, false], Backed(v, n));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void BackedPages_ReadsPagemapInBlocks_AndNamesEachBlocksEdges()
    {
        nint n = 1100 * Page; // 512 entries a read: blocks of 512, 512 and 76 pages
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), n);
        try
        {
            SysMem.SysMap(v, n);
            int[] written = [0, 511, 512, 1023, 1024, 1099];
            foreach (int pg in written)
                *(byte*)(v + pg * Page) = 1;
            bool[] backed = Backed(v, n);
            Assert.Equal(1100, backed.Length);
            Assert.Equal(written, Enumerable.Range(0, backed.Length).Where(i => backed[i]));
        }
        finally
        {
            SysMem.SysFree(v, n);
        }
    }

    [Fact]
    public void BackedPages_BadRange_ThrowsArgumentOutOfRange()
    {
        nint slot = TestAddressSpace.NextHint();
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.BackedPages(slot, 0)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.BackedPages(slot, -Page)).ParamName);
        Assert.Equal("v", Assert.Throws<ArgumentOutOfRangeException>(() => SysMem.BackedPages(slot + 8, Page)).ParamName);
    }

    [Theory]
    [InlineData("/nonexistent/pagemap")] // File.OpenHandle throws FileNotFoundException (an IOException)
    [InlineData("/proc")]                // a directory: UnauthorizedAccessException
    [InlineData("/dev/null")]            // the read at the range's offset gets nothing
    public void BackedPages_UnreadablePagemap_IsNull(string path)
    {
        nint v = SysMem.SysReserve(TestAddressSpace.NextHint(), Page);
        try
        {
            Assert.Null(SysMem.BackedPages(v, Page, path));
        }
        finally
        {
            SysMem.SysFree(v, Page);
        }
    }

    [Fact]
    public void DirtyPages_ReadsAWordOnlyWhereItsOsPageIsBacked_AndEveryWordWithoutPagemap()
    {
        nint bytes = (nint)MallocConstants.HeapArenaBytes, heapPage = (nint)MallocConstants.PageSize;
        nint arena = SysMem.SysReserve(TestAddressSpace.NextHint(), bytes);
        try
        {
            SysMem.SysMap(arena, 3 * heapPage);
            bool InGrown(nint p) => p < arena + 3 * heapPage;
            *(long*)arena = 1;                            // heap page 0's first word
            *(long*)(arena + 2 * heapPage - 8) = 1;       // heap page 1's last word (its second OS page)
            int osPages = (int)(bytes / Page);
            int lastWordOsPage = (int)((2 * heapPage - 8) / Page);
            bool[] onlyLastWord = new bool[osPages];
            onlyLastWord[lastWordOsPage] = true;

            Assert.Equal([0, 1], DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, InGrown, backed: null)));
            Assert.Equal([0, 1], DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, InGrown)));
            Assert.Equal([0, 1], DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, InGrown, Backed(arena, bytes))));
            Assert.Empty(DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, InGrown, new bool[osPages])));
            Assert.Equal([1], DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, InGrown, onlyLastWord)));
            Assert.Equal([1], DirtyOnes(HeapSnapshot.DirtyPages(arena, heapPage, InGrown, backed: null)));
            Assert.Empty(DirtyOnes(HeapSnapshot.DirtyPages(arena, 0, p => p >= arena + 2 * heapPage && InGrown(p), backed: null)));
        }
        finally
        {
            SysMem.SysFree(arena, bytes);
        }
    }

    private static int[] DirtyOnes(bool[] dirty) => [.. Enumerable.Range(0, dirty.Length).Where(i => dirty[i])];

    public static TheoryData<string> Impls => ["reference", "optimized"];

    [Theory]
    [MemberData(nameof(Impls))]
    public void Verify_FaultsInNoUntouchedPagePastZeroedBase_INV_ZERO_1(string impl)
    {
        using IHeap heap = impl == "reference" ? new GoAlloc.Reference.MHeap() : new GoAlloc.Optimized.MHeap();
        IProcessor p = heap.AcquireP();
        for (int i = 0; i < 100; i++)
            p.Alloc(1024);
        p.Alloc(200 << 10);
        p.Release();
        long zeroedBase = heap switch
        {
            GoAlloc.Reference.MHeap r => r.ArenaOf(r.ArenaBase)!.ZeroedBase,
            GoAlloc.Optimized.MHeap o => o.ArenaOf(o.ArenaBase)->ZeroedBase,
            _ => throw new ArgumentException(impl),
        };
        nint past = heap.ArenaBase + (nint)zeroedBase;
        nint n = heap.ArenaBase + (nint)MallocConstants.HeapArenaBytes - past;
        Assert.Equal(0, SysMem.ResidentPages(past, n));
        heap.Verify();
        Assert.Equal(0, SysMem.ResidentPages(past, n));
    }
}
