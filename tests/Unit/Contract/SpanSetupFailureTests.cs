// Span setup refused by the kernel (issue #20 item 1, spec/SPEC.md 4.15 "span setup"): when the
// mapping for a new span's bitmaps is refused, allocSpan gives the pages (and the span record) back
// before it rethrows, so heap_inuse, the page allocator and Verify are as before the allocation and
// the same allocation succeeds next time. The span's bitmaps come from metadata chunks that are
// mapped now and then, so the test refuses the first mapping call of allocation after allocation
// (most land in span setup, the rest in arena growth, which changes nothing either) and checks
// after each refusal that heap_inuse is unchanged, Verify passes and the allocation then succeeds.
// (Not told apart by the stack trace: once the JIT tiers up, InitSpan is inlined into allocSpan.)
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
        int refusals = 0;
        try
        {
            for (int i = 0; i < 50_000 && refusals < 8; i++)
            {
                long inUse = heap.ReadStats().HeapInuse;
                SysMem.InjectFailureAtCall(1);
                try
                {
                    p.Alloc(8192, noscan: true, needzero: false); // one span per object
                    continue;
                }
                catch (OutOfMemoryException)
                {
                    refusals++;
                }
                finally
                {
                    SysMem.InjectFailureAtCall(0);
                }
                Assert.Equal(inUse, heap.ReadStats().HeapInuse);
                p.Release();
                heap.Verify();
                p = heap.AcquireP(0);
                Assert.NotEqual(0, p.Alloc(8192, noscan: true, needzero: false)); // the same allocation, unrefused
            }
        }
        finally
        {
            p.Release();
        }
        Assert.Equal(8, refusals);
        heap.Verify();
    }
}

public sealed class ReferenceSpanSetupFailureTests : SpanSetupFailureTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}
