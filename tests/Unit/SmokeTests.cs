using GoAlloc.Reference;
using Xunit;

namespace GoAlloc.Tests;

public class SmokeTests
{
    [Fact]
    public void Smoke()
    {
        using var heap = new MHeap();
        var p = heap.AcquireP();
        var addrs = new List<nint>();
        for (int i = 0; i < 100000; i++)
            addrs.Add(p.Alloc(1 + i % 2000));
        addrs.Add(p.Alloc(100000));
        heap.Verify();
        p.Release();
        heap.StartMark();
        for (int i = 0; i < addrs.Count; i += 2)
            heap.Mark(addrs[i]);
        heap.FinishMark();
        heap.Verify();
        heap.FinishSweep();
        heap.Verify();
        p = heap.AcquireP();
        for (int i = 0; i < 100000; i++)
            p.Alloc(1 + i % 2000);
        p.Release();
        heap.Verify();
        var st = heap.ReadStats();
        Assert.True(st.HeapAlloc > 0, st.ToString());
    }
}
