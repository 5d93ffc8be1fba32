// Allocation benchmarks, Optimized and Reference side by side (BenchmarkDotNet, MemoryDiagnoser:
// the allocators must not allocate managed memory per operation). Each benchmark reports the cost
// per allocated object (OperationsPerInvoke), including the sweep that reclaims it where a GC
// cycle is part of the invocation.
using BenchmarkDotNet.Attributes;

namespace GoAlloc.Bench;

[MemoryDiagnoser]
public class AllocBenchmarks
{
    private const int Batch = 1_000_000;
    private const int Mixed = 100_000;
    private const int Large = 200;
    private const int PerThread = 500_000;

    private IHeap _heap = null!;
    private long[] _mixedSizes = null!;
    private long[] _largeSizes = null!;

    [Params(Heaps.Reference, Heaps.Optimized)]
    public string Impl { get; set; } = Heaps.Optimized;

    [GlobalSetup]
    public void Setup()
    {
        _heap = Heaps.Create(Impl, new HeapOptions { Procs = 2, MemProfileRate = 0 });
        var rng = new Random(1);
        _mixedSizes = Enumerable.Range(0, Mixed).Select(_ => (long)rng.Next(8, 1025)).ToArray();
        _largeSizes = Enumerable.Range(0, Large).Select(_ => (long)rng.Next(64 << 10, (1 << 20) + 1)).ToArray();
        // Warm up: grow the heap and cache spans once.
        HotAlloc16Noscan();
        Batch1M16AndSweep();
    }

    [GlobalCleanup]
    public void Cleanup() => _heap.Dispose();

    /// <summary>Hot path: 16-byte noscan objects from a warm mcache, then one cycle frees them.</summary>
    [Benchmark(OperationsPerInvoke = 100_000)]
    public void HotAlloc16Noscan()
    {
        IProcessor p = _heap.AcquireP();
        for (int i = 0; i < 100_000; i++)
            p.Alloc(16, noscan: true);
        p.Release();
        Heaps.CollectAll(_heap);
    }

    /// <summary>A batch of 1M 16-byte objects, then a GC cycle that frees them all: alloc + sweep per object.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Batch1M16AndSweep()
    {
        IProcessor p = _heap.AcquireP();
        for (int i = 0; i < Batch; i++)
            p.Alloc(16);
        p.Release();
        Heaps.CollectAll(_heap);
    }

    /// <summary>Mixed sizes 8..1024 B, then a cycle.</summary>
    [Benchmark(OperationsPerInvoke = Mixed)]
    public void Mixed8To1024()
    {
        IProcessor p = _heap.AcquireP();
        long[] sizes = _mixedSizes;
        for (int i = 0; i < sizes.Length; i++)
            p.Alloc(sizes[i]);
        p.Release();
        Heaps.CollectAll(_heap);
    }

    /// <summary>Large objects 64 KiB..1 MiB (their own spans), then a cycle.</summary>
    [Benchmark(OperationsPerInvoke = Large)]
    public void Large64KTo1M()
    {
        IProcessor p = _heap.AcquireP();
        long[] sizes = _largeSizes;
        for (int i = 0; i < sizes.Length; i++)
            p.Alloc(sizes[i], needzero: false);
        p.Release();
        Heaps.CollectAll(_heap);
    }

    /// <summary>Two threads, each with its own P, allocating 16-byte objects; then a cycle.</summary>
    [Benchmark(OperationsPerInvoke = 2 * PerThread)]
    public void TwoThreads16()
    {
        var threads = new Thread[2];
        for (int t = 0; t < 2; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                IProcessor p = _heap.AcquireP(id);
                for (int i = 0; i < PerThread; i++)
                    p.Alloc(16);
                p.Release();
            });
            threads[t].Start();
        }
        foreach (Thread t in threads)
            t.Join();
        Heaps.CollectAll(_heap);
    }
}
