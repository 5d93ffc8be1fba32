// Helpers shared by the heap contract tests: raw memory fill/check and a whole GC cycle (the
// size-class oracle is GoAlloc.Model.SizeOracle, shared by every test).
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Contract;

internal static unsafe class HeapTestUtil
{
    public static void Fill(nint p, long n, byte value) => new Span<byte>((void*)p, checked((int)n)).Fill(value);

    public static bool IsFilled(nint p, long n, byte value) => new ReadOnlySpan<byte>((void*)p, checked((int)n)).IndexOfAnyExcept(value) < 0;

    public static bool IsZero(nint p, long n) => IsFilled(p, n, 0);

    /// <summary>Runs one whole GC cycle: stop the world, mark the given objects, finish, sweep everything.</summary>
    public static void Collect(IHeap heap, IEnumerable<nint> live)
    {
        heap.StartMark();
        foreach (nint p in live)
            Xunit.Assert.True(heap.Mark(p), $"Mark(0x{p:x}) rejected a live object");
        heap.FinishMark();
        heap.FinishSweep();
    }

    /// <summary>Runs fn on a fresh thread and returns its exception, if any (for cross-thread ownership checks).</summary>
    public static Exception? OnOtherThread(Action fn)
    {
        Exception? caught = null;
        var t = new Thread(() =>
        {
            try
            {
                fn();
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        t.Start();
        Assert.True(t.Join(TestBudget.HangBound(TimeSpan.FromMinutes(1))), "the call on the other thread never returned");
        return caught;
    }
}
