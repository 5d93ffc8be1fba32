// The heap contract run against the Optimized allocator: every Reference end-to-end test.
namespace GoAlloc.Tests.Contract;

public sealed class OptimizedHeapTests : HeapContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Optimized.MHeap(options);
}
