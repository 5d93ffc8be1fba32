// The cost floor of the allocation benchmarks' loop: the same `IProcessor.Alloc(16)` calls as
// AllocBenchmarks.Batch1M16AndSweep, answered by a bump pointer that only zeroes the 16 bytes it
// hands out (no size classes, no spans, no sweep, no checks). No allocator behind this interface
// can cost less per object; it bounds the speed-up any Optimized allocator can show over the
// Reference on the batch workload.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace GoAlloc.Bench;

[MemoryDiagnoser]
public class FloorBenchmarks
{
    private const int Batch = 1_000_000;
    private BumpProcessor _p = null!;

    [GlobalSetup]
    public unsafe void Setup() => _p = new BumpProcessor((nint)NativeMemory.AlignedAlloc(Batch * 16, 64));

    [GlobalCleanup]
    public unsafe void Cleanup() => NativeMemory.AlignedFree((void*)_p.Base);

    /// <summary>1M 16-byte objects through the interface, as the batch benchmark allocates them.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Batch1M16BumpPointer()
    {
        IProcessor p = _p;
        p.Flush();
        for (int i = 0; i < Batch; i++)
            p.Alloc(16);
    }

    /// <summary>Bump allocation over one native buffer: the least any IProcessor can do per Alloc.</summary>
    private sealed unsafe class BumpProcessor(nint start) : IProcessor
    {
        private nint _next;
        public nint Base { get; } = start;
        public int Id => 0;

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = _next;
            _next += (nint)((size + 15) & ~15L);
            if (needzero)
                Unsafe.InitBlockUnaligned((void*)x, 0, (uint)size);
            return x;
        }

        /// <summary>Starts the buffer over.</summary>
        public void Flush() => _next = Base;

        public void Release()
        {
        }
    }
}
