// Span setup refused by the kernel (issue #20 item 1, spec/SPEC.md 4.15 "span setup"): when the
// mapping for a new span's bitmaps is refused, allocSpan gives the pages (and the span record) back
// before it rethrows, so heap_inuse, the page allocator and Verify are as before the allocation and
// the same allocation succeeds next time. The span's bitmaps come from metadata chunks that are
// mapped now and then, so the test refuses the first mapping call of allocation after allocation
// until one of them lands in span setup; a refusal elsewhere (arena growth) is retried unrefused.
// The Reference only: the Optimized's span bitmaps come from 64 KiB gcBits chunks whose refusal
// this loop does not reach in span setup; its span setup rollbacks are reached by the
// fault-injection workload (HeapFaultInjectionTests).
using Xunit;

namespace GoAlloc.Tests.Contract;

public abstract class SpanSetupFailureTests
{
    protected abstract IHeap CreateHeap(HeapOptions? options = null);

    [Fact]
    public void OutOfMemory_InSpanSetup_GivesThePagesBack()
    {
        using IHeap heap = CreateHeap(new HeapOptions { Procs = 1 });
        IProcessor p = heap.AcquireP(0);
        int inSetup = 0;
        try
        {
            for (int i = 0; i < 50_000 && inSetup < 3; i++)
            {
                long inUse = heap.ReadStats().HeapInuse;
                OutOfMemoryException? refused = null;
                SysMem.InjectFailureAtCall(1);
                try
                {
                    p.Alloc(8192, noscan: true, needzero: false); // one span per object
                }
                catch (OutOfMemoryException e)
                {
                    refused = e;
                }
                finally
                {
                    SysMem.InjectFailureAtCall(0);
                }
                if (refused == null)
                    continue;
                if (refused.StackTrace?.Contains("InitSpan", StringComparison.Ordinal) == true)
                {
                    inSetup++;
                    Assert.Equal(inUse, heap.ReadStats().HeapInuse);
                    p.Release();
                    heap.Verify();
                    p = heap.AcquireP(0);
                }
                Assert.NotEqual(0, p.Alloc(8192, noscan: true, needzero: false)); // the same allocation, unrefused
            }
        }
        finally
        {
            p.Release();
        }
        Assert.True(inSetup > 0, "no refused mapping landed in span setup");
        heap.Verify();
    }
}

public sealed class ReferenceSpanSetupFailureTests : SpanSetupFailureTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}
