// The heap contract run on the Reference and the Optimized allocator in lock step: every call of
// every end-to-end test is compared between the two (addresses as arena offsets, exceptions,
// frees, samples, and the full stats after every GC operation and every 97th allocation).
using GoAlloc.Replay;

namespace GoAlloc.Tests.Contract;

public sealed class LockstepHeapTests : HeapContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) =>
        new LockstepHeap(o => new GoAlloc.Reference.MHeap(o), o => new GoAlloc.Optimized.MHeap(o), options, statsEvery: 97);
}
