// The heap contract run on model-checked heaps: every end-to-end test of HeapContractTests runs on
// the Reference and on the Optimized allocator wrapped in a ModelCheckedHeap (src/Model), so after
// every call the heap is also checked against the heap model written from the spec: the stats
// identities, the sweep set, zeroing (each needzero object must read zero; the tests fill objects
// with their own patterns, so the model does not), and Mark / FindObject answers. Full stats are
// checked after every call other than Alloc and Mark and after every 97th of those (as the
// lock-step tests do); Alloc's and Mark's answers are checked every time. A bug the two
// allocators share fails here with the identity it breaks.
using GoAlloc.Model;

namespace GoAlloc.Tests.Contract;

public sealed class ModelCheckedReferenceHeapTests : HeapContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) =>
        new ModelCheckedHeap(o => new GoAlloc.Reference.MHeap(o), options, checkEvery: 97, fill: false);
}

public sealed class ModelCheckedOptimizedHeapTests : HeapContractTests
{
    protected override IHeap CreateHeap(HeapOptions? options = null) =>
        new ModelCheckedHeap(o => new GoAlloc.Optimized.MHeap(o), options, checkEvery: 97, fill: false);
}
