// The heap contract run against the Reference allocator.
namespace GoAlloc.Tests.Contract;

public sealed class ReferenceHeapTests : HeapContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) => new GoAlloc.Reference.MHeap(options);
}
