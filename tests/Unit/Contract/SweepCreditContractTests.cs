// deductSweepCredit with the pacer off (spec/SPEC.md 4.8; Go 1.16 mgcsweep.go): at pagesPerByte = 0
// it returns at once, before reading any basis, so a span pays no credit and no CreditSweep event
// is emitted. Two ways the ratio is 0 while the debt formula would still ask for sweeping:
// - a stale basis: pacing off (here GOGC off) leaves the bases of the last pacing that was on, and
//   pagesSwept restarts from 0 at every FinishMark, so pagesSwept - pagesSweptBasis reads below zero;
// - the credit sweep running dry: sweepone finds nothing left while a span still owes credit, and
//   the pacer is switched off until the next pacing.
// Run against the Reference and the Optimized.
using Xunit;

namespace GoAlloc.Tests.Contract;

public sealed class SweepCreditContractTests
{
    /// <summary>A one-P heap; CreditSweep events are counted while recording.</summary>
    private sealed class CreditCountingHeap : IDisposable
    {
        public readonly IHeap Heap;
        public bool Recording;
        public int Credits;

        public CreditCountingHeap(string impl)
        {
            var options = new HeapOptions
            {
                Procs = 1,
                MemProfileRate = 0,
                OnTrace = e => Credits += Recording && e.Kind == HeapTraceKind.CreditSweep ? 1 : 0,
            };
            Heap = impl == "reference" ? new GoAlloc.Reference.MHeap(options) : new GoAlloc.Optimized.MHeap(options);
        }

        /// <summary>n objects of size bytes on P0, with CreditSweep events counted if record.</summary>
        public void Alloc(int n, int size, bool record = false)
        {
            Recording = record;
            IProcessor p = Heap.AcquireP(0);
            for (int i = 0; i < n; i++)
                p.Alloc(size);
            p.Release();
            Recording = false;
        }

        /// <summary>1,000 one-page spans of 256-byte objects, all dead after a cycle.</summary>
        public void CycleOverDeadSpans()
        {
            Alloc(16_000, 256);
            Heap.StartMark();
            Heap.FinishMark();
        }

        public void Dispose() => Heap.Dispose();
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_GcPercentOff_NoCreditFromABasisLeftByAnEarlierCycle(string impl)
    {
        using var h = new CreditCountingHeap(impl);
        // Cycle 1, GOGC 100: ten spans swept, then a re-pacing sets pagesSweptBasis to 10 and GOGC
        // off keeps it there.
        h.CycleOverDeadSpans();
        for (int i = 0; i < 10; i++)
            Assert.Equal(1, h.Heap.SweepOne());
        h.Heap.SetGcPercent(100);
        h.Heap.SetGcPercent(-1);
        h.Heap.FinishSweep();
        // Cycle 2, GOGC off: pagesSwept is 0 again, below the stale basis, with spans unswept.
        h.CycleOverDeadSpans();
        h.Alloc(40, 4096, record: true); // fresh spans of a class with nothing of its own to sweep
        Assert.Equal(0, h.Credits);
        h.Heap.Verify();
    }

    [Theory]
    [InlineData("reference")]
    [InlineData("optimized")]
    public void INV_PACE_CreditSweepRunDry_LaterSpansPayNoCredit(string impl)
    {
        using var h = new CreditCountingHeap(impl);
        // 1,000 pages to sweep against a heap distance of about 3 MiB (the 4 MiB minimum trigger,
        // nothing marked); 6 MiB of fresh 4 KiB objects: the credit sweeps every page, then finds
        // none left.
        h.CycleOverDeadSpans();
        h.Alloc(1_536, 4096);
        Assert.Equal(-1, h.Heap.SweepOne());
        h.Alloc(512, 4096, record: true); // 2 MiB more: the pacer is off
        Assert.Equal(0, h.Credits);
        h.Heap.Verify();
    }
}
