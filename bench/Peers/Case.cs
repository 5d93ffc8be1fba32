// Case: one row of implementations in the harness: a name, the allocator it belongs to, whether it
// zeroes, and a runner bound to the generic workload body of its IImpl struct.
namespace GoAlloc.Peers;

public sealed class Case(string name, string allocator, bool zero, Func<Workload, WorkloadData, Sample> run, Func<(long Sys, long InUse)> heapBytes, IDisposable? owner)
{
    public static readonly string[] Allocators = ["optimized", "reference", "mimalloc", "jemalloc", "tcmalloc", "glibc"];

    public string Name { get; } = name;
    public string Allocator { get; } = allocator;
    public bool Zero { get; } = zero;
    public Func<Workload, WorkloadData, Sample> Run { get; } = run;
    public Func<(long Sys, long InUse)> HeapBytes { get; } = heapBytes;
    public IDisposable? Owner { get; } = owner;

    public static Case Of<T>(T impl, string allocator, bool zero, IDisposable? owner) where T : struct, IImpl =>
        new(impl.Name, allocator, zero, (w, d) => Workloads.Run(impl, w, d), impl.HeapBytes, owner);

    /// <summary>Every implementation in both variants (zeroed first); probe: GoAlloc records peak heap stats.</summary>
    public static List<Case> All(bool probe = false, Func<string, bool>? want = null)
    {
        want ??= _ => true;
        var cases = new List<Case>();
        foreach (bool zero in new[] { true, false })
        {
            foreach (string a in Allocators)
            {
                if (!want(a))
                    continue;
                cases.Add(Make(a, zero, probe));
            }
        }
        return cases;
    }

    public static Case Make(string allocator, bool zero, bool probe) => (allocator, zero) switch
    {
        ("optimized", true) => Go(new GoHeapImpl<OptimizedHeap, Zeroed>(OptimizedHeap.Create(new HeapOptions { Procs = 2 })) { ProbePeak = probe }, allocator, zero),
        ("optimized", false) => Go(new GoHeapImpl<OptimizedHeap, Raw>(OptimizedHeap.Create(new HeapOptions { Procs = 2 })) { ProbePeak = probe }, allocator, zero),
        ("reference", true) => Go(new GoHeapImpl<ReferenceHeap, Zeroed>(ReferenceHeap.Create(new HeapOptions { Procs = 2 })) { ProbePeak = probe }, allocator, zero),
        ("reference", false) => Go(new GoHeapImpl<ReferenceHeap, Raw>(ReferenceHeap.Create(new HeapOptions { Procs = 2 })) { ProbePeak = probe }, allocator, zero),
        (_, true) => Of(new NativeImpl<Zeroed>(NativeLib.Load(allocator)), allocator, zero, null),
        (_, false) => Of(new NativeImpl<Raw>(NativeLib.Load(allocator)), allocator, zero, null),
    };

    private static Case Go<TH, TZ>(GoHeapImpl<TH, TZ> impl, string allocator, bool zero)
        where TH : struct, IHeapTag
        where TZ : struct, IZeroTag => Of(impl, allocator, zero, impl.Heap);
}
