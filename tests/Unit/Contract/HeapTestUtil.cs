// Helpers shared by the heap contract tests: raw memory fill/check and a size-class oracle that is
// independent of both allocators (a search of the class table).
namespace GoAlloc.Tests.Contract;

internal static unsafe class HeapTestUtil
{
    public static void Fill(nint p, long n, byte value) => new Span<byte>((void*)p, checked((int)n)).Fill(value);

    public static bool IsFilled(nint p, long n, byte value) => new ReadOnlySpan<byte>((void*)p, checked((int)n)).IndexOfAnyExcept(value) < 0;

    public static bool IsZero(nint p, long n) => IsFilled(p, n, 0);

    /// <summary>The size an allocation of size bytes really occupies (class size, 16 for a tiny block, page-rounded when large).</summary>
    public static long RoundedSize(long size)
    {
        if (size > SizeClasses.MaxSmallSize)
            return (size + MallocConstants.PageMask) & ~MallocConstants.PageMask;
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            if (SizeClasses.ClassToSize[c] >= size)
                return SizeClasses.ClassToSize[c];
        }
        throw new ArgumentOutOfRangeException(nameof(size));
    }

    public static int SizeClassOf(long size)
    {
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            if (SizeClasses.ClassToSize[c] >= size)
                return c;
        }
        return 0;
    }

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
        t.Join();
        return caught;
    }
}
