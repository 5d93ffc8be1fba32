// The credit sweep running dry (spec/SPEC.md 4.8; Go 1.16 mgcsweep.go deductSweepCredit): when
// sweepone finds nothing left while a span still owes credit, the pacer is switched off
// (pagesPerByte = 0), so later spans pay nothing and emit no CreditSweep event until the next
// pacing. Run against the Reference and the Optimized.
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class SweepCreditRunDryTests
{
    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_CreditSweepRunDry_LaterSpansPayNoCredit(string impl)
    {
        int credits = 0;
        bool recording = false;
        var options = new HeapOptions
        {
            Procs = 1,
            MemProfileRate = 0,
            OnTrace = e =>
            {
                if (e.Kind == HeapTraceKind.CreditSweep)
                    credits += recording ? 1 : 0;
            },
        };
        using IHeap heap = impl == "reference" ? new GoAlloc.Reference.MHeap(options) : new GoAlloc.Optimized.MHeap(options);

        // 1,000 spans of 256-byte objects, all dead after the cycle: 1,000 pages to sweep against
        // a heap distance of about 3 MiB (the 4 MiB minimum trigger, nothing marked).
        IProcessor p = heap.AcquireP(0);
        for (int i = 0; i < 16_000; i++)
            p.Alloc(256);
        p.Release();
        heap.StartMark();
        heap.FinishMark();

        // 6 MiB of fresh 4 KiB objects: the credit sweeps every page and then finds none left.
        p = heap.AcquireP(0);
        for (int i = 0; i < 1_536; i++)
            p.Alloc(4096);
        p.Release();
        Assert.Equal(-1, heap.SweepOne()); // the credit swept everything

        recording = true;
        p = heap.AcquireP(0);
        for (int i = 0; i < 512; i++)
            p.Alloc(4096); // 2 MiB more: the pacer is off
        p.Release();
        recording = false;

        Assert.Equal(0, credits);
        heap.Verify();
    }
}
