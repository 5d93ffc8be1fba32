// The Optimized spanSet, single-threaded, against a FIFO queue: bursts of pushes and pops that
// cross the 512-entry block boundary many times, Reset when empty (as Go does to the unswept sets
// each cycle), Snapshot against the queue's contents. Once the real lock-free set and its block
// pool have landed (HAS_SPANSET_POOL), also: blocks are reused - the pool never carves more
// blocks than the set ever held at once (a block is returned when its 512th entry is popped, or
// at Reset).
using FsCheck;
using FsCheck.Fluent;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Properties.Components;

public sealed class SpanSetProperties
{
    private const int BlockEntries = 512;

    public abstract record SetOp;
    public sealed record PushN(int N) : SetOp;
    public sealed record PopN(int N) : SetOp;
    public sealed record ResetIfEmpty : SetOp;
    public sealed record SnapshotCheck : SetOp;

    public static Gen<SetOp> OpGen { get; } = Gen.Frequency<SetOp>(
        (5, Gen.Frequency((3, Gen.Choose(1, 8)), (2, Gen.Choose(9, 600)), (1, Gen.Elements(511, 512, 513, 1024, 1500))).Select(n => (SetOp)new PushN(n))),
        (5, Gen.Frequency((3, Gen.Choose(1, 8)), (2, Gen.Choose(9, 600)), (1, Gen.Elements(511, 512, 513, 1024, 1500))).Select(n => (SetOp)new PopN(n))),
        (1, Gen.Constant<SetOp>(new ResetIfEmpty())),
        (1, Gen.Constant<SetOp>(new SnapshotCheck())));

    public static Arbitrary<SetOp[]> Ops { get; } = Arb.From(
        OpGen.ArrayOf(),
        ops => Enumerable.Range(0, ops.Length).Reverse().Select(i => ops.Where((_, j) => j != i).ToArray()));

    [Fact]
    public void SpanSet_SingleThreadedIsFifo()
    {
        Property property = Prop.ForAll(Ops, ops =>
        {
            using var pool = new SpanSetBlockPool();
            var set = new SpanSet(pool);
            try
            {
                var model = new Queue<nint>();
                long next = 1;
                long head = 0, tail = 0;   // positions since the last Reset, as the set counts them
                long maxHeld = 0;
                for (int i = 0; i < ops.Length; i++)
                {
                    switch (ops[i])
                    {
                        case PushN p:
                            for (int k = 0; k < p.N; k++)
                            {
                                var s = (nint)(next++ << 4); // distinct, non-zero, aligned like a span record
                                set.Push(s);
                                model.Enqueue(s);
                                tail++;
                                maxHeld = Math.Max(maxHeld, HeldBlocks(head, tail));
                            }
                            break;
                        case PopN p:
                            for (int k = 0; k < p.N; k++)
                            {
                                nint got = set.Pop();
                                nint want = model.Count > 0 ? model.Dequeue() : 0;
                                if (got != want)
                                    return false.Label($"step {i} {ops[i]}: pop {k} returned 0x{got:x}, the queue's head is 0x{want:x} ({model.Count} left)");
                                if (want == 0)
                                    break;
                                head++;
                            }
                            break;
                        case ResetIfEmpty:
                            if (model.Count > 0)
                                break;
                            set.Reset();
                            head = tail = 0;
                            break;
                        case SnapshotCheck:
                            nint[] snap = set.Snapshot();
                            if (!snap.SequenceEqual(model))
                                return false.Label($"step {i}: snapshot of {snap.Length} entries differs from the queue's {model.Count}");
                            break;
                    }
#if HAS_SPANSET_POOL
                    if (pool.AllocatedBlocks > maxHeld)
                        return false.Label($"step {i} {ops[i]}: the pool carved {pool.AllocatedBlocks} blocks, but the set never held more than {maxHeld} at once (blocks are not reused)");
#endif
                }
                return true.Classify(maxHeld > 1, "crossed a block boundary");
            }
            finally
            {
                set.Dispose();
            }
        });
        PropertyRunner.Check(nameof(SpanSet_SingleThreadedIsFifo), 300, property);
    }

    /// <summary>
    /// Blocks the set holds: from the head's block (it stays until its 512th pop or a Reset) to the
    /// block of the last position pushed plus BlocksAhead (a push adds that block before it reserves).
    /// </summary>
    private static long HeldBlocks(long head, long tail) =>
        tail == 0 ? 0 : (tail - 1 + SpanSet.DefaultBlocksAhead) / BlockEntries + 1 - head / BlockEntries;
}
