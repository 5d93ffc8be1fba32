// The two allocators by name, for [Params]-driven benchmarks.
namespace GoAlloc.Bench;

public static class Heaps
{
    public const string Reference = "reference";
    public const string Optimized = "optimized";

    public static IHeap Create(string impl, HeapOptions? options = null) => impl switch
    {
        Reference => new GoAlloc.Reference.MHeap(options),
        Optimized => new GoAlloc.Optimized.MHeap(options),
        _ => throw new ArgumentOutOfRangeException(nameof(impl), impl, "reference or optimized"),
    };

    /// <summary>A whole GC cycle that marks nothing: every object dies and is swept.</summary>
    public static void CollectAll(IHeap heap)
    {
        heap.StartMark();
        heap.FinishMark();
        heap.FinishSweep();
    }
}
