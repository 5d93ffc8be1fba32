// Page allocator scaling: allocate and free a 1-page and a 64-page run in a heap of 10 or 1,000
// chunks (4 MiB each) where every page is in use except a hole in the last chunk, the worst case
// for a scan. Go's radix tree (Optimized) stays logarithmic; the Reference's scan is linear.
using BenchmarkDotNet.Attributes;

namespace GoAlloc.Bench;

[MemoryDiagnoser]
public class PageAllocBenchmarks
{
    private static readonly nint Base = unchecked((nint)0x3c0000000000L);
    private GoAlloc.Optimized.PageAlloc _opt = null!;
    private GoAlloc.Reference.PageAlloc _ref = null!;

    [Params(10, 1000)]
    public int Chunks { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        long bytes = Chunks * MallocConstants.PallocChunkBytes;
        int pages = Chunks * MallocConstants.PallocChunkPages;
        nint hole = Base + (nint)((pages - 128) * MallocConstants.PageSize);
        _opt = new GoAlloc.Optimized.PageAlloc();
        _opt.Grow(Base, bytes);
        _opt.AllocRange(Base, pages);
        _opt.Free(hole, 128);
        _ref = new GoAlloc.Reference.PageAlloc();
        _ref.Grow(Base, bytes);
        _ref.AllocRange(Base, pages);
        _ref.Free(hole, 128);
    }

    [GlobalCleanup]
    public void Cleanup() => _opt.Dispose();

    [Benchmark]
    public void Optimized1Page() => _opt.Free(_opt.Alloc(1, out _), 1);

    [Benchmark]
    public void Optimized64Pages() => _opt.Free(_opt.Alloc(64, out _), 64);

    [Benchmark]
    public void Reference1Page() => _ref.Free(_ref.Alloc(1, out _), 1);

    [Benchmark]
    public void Reference64Pages() => _ref.Free(_ref.Alloc(64, out _), 64);
}
