// Multi-threaded rules of the Optimized SpanSet, with real threads: every pushed span is popped
// exactly once (no loss, no duplication), each consumer sees each producer's spans in push order,
// blocks recycle through a shared pool, and Pop may report empty while a push is adding a block.
// Assertions are on outcomes only, never on timing.
using System.Reflection;
using GoAlloc.Optimized;
using Xunit;

namespace GoAlloc.Tests.Optimized.SpanSetTests;

public class SpanSetConcurrencyTests
{
    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(1, 3)]
    [InlineData(4, 4)]
    public void SpanSet_ConcurrentPushPopLosesAndDuplicatesNothing(int producers, int consumers)
    {
        const int total = 200_000;
        int perProducer = total / producers;
        int pushed = perProducer * producers;
        using var sp = new SetWithPool();
        int producersDone = 0;
        var got = new List<nint>[consumers];

        var threads = new List<Thread>();
        for (int p = 0; p < producers; p++)
        {
            int id = p;
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < perProducer; i++)
                    sp.Set.Push(Encode(id, i));
                Interlocked.Increment(ref producersDone);
            }));
        }
        for (int c = 0; c < consumers; c++)
        {
            var mine = got[c] = new List<nint>(pushed);
            threads.Add(new Thread(() =>
            {
                while (true)
                {
                    // Read before the pop: once every push has returned, an empty pop is final
                    // (the "empty while a block is being added" case needs a push in flight), so a
                    // lost span fails the count below instead of hanging the test.
                    bool allPushed = Volatile.Read(ref producersDone) == producers;
                    nint s = sp.Set.Pop();
                    if (s != 0)
                        mine.Add(s);
                    else if (allPushed)
                        break;
                    else
                        Thread.Yield();
                }
            }));
        }
        foreach (Thread t in threads)
            t.Start();
        foreach (Thread t in threads)
            t.Join();

        var seen = new bool[producers, perProducer];
        foreach (List<nint> list in got)
        {
            var last = new int[producers];
            Array.Fill(last, -1);
            foreach (nint s in list)
            {
                (int id, int i) = Decode(s);
                Assert.False(seen[id, i], $"span ({id}, {i}) popped twice");
                seen[id, i] = true;
                // Positions are claimed in increasing order, and one producer's pushes take
                // increasing positions: a consumer sees each producer's spans in push order.
                Assert.True(i > last[id], $"consumer saw ({id}, {i}) after ({id}, {last[id]})");
                last[id] = i;
            }
        }
        Assert.Equal(pushed, got.Sum(l => l.Count));
        Assert.Equal(0, sp.Set.Pop());
        Assert.Empty(sp.Set.Snapshot());
        sp.Set.Reset();
    }

    [Fact]
    public void SpanSet_ConcurrentTransfersBetweenSetsSharingAPoolKeepEverySpan()
    {
        // Four threads move spans back and forth between two sets (as mcentral moves spans between
        // its partial and full sets); blocks freed by one set's last popper are reused by the other.
        const int spans = 5_000, movesPerThread = 50_000, threads = 4;
        using var pool = new SpanSetBlockPool();
        using var a = new SpanSet(pool);
        using var b = new SpanSet(pool);
        for (int i = 0; i < spans; i++)
            a.Push(FakeSpan.Of(i));

        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                SpanSet from = id % 2 == 0 ? a : b, to = id % 2 == 0 ? b : a;
                for (int m = 0; m < movesPerThread; m++)
                {
                    nint s = from.Pop();
                    if (s == 0)
                    {
                        (from, to) = (to, from);
                        continue;
                    }
                    to.Push(s);
                    if ((m & 7) == 0)
                        (from, to) = (to, from);
                }
            });
        }
        foreach (Thread w in workers)
            w.Start();
        foreach (Thread w in workers)
            w.Join();

        // Quiescent now: every span is in exactly one of the two sets.
        var all = a.Snapshot().Concat(b.Snapshot()).OrderBy(s => s).ToArray();
        Assert.Equal(Enumerable.Range(0, spans).Select(i => FakeSpan.Of(i)).ToArray(), all);
    }

    [Fact]
    public void SpanSet_PopReportsEmptyWhileAPushIsAddingItsBlock()
    {
        using var sp = new SetWithPool();
        // Go's order (no blocks added ahead): a push reserves its slot, then adds its block.
        sp.Set.BlocksAhead = 0;
        // Hold the spine lock so that the pusher stops inside AddBlock, after reserving its slot.
        object spineLock = typeof(SpanSet).GetField("_spineLock", BindingFlags.NonPublic | BindingFlags.Instance)!
            .GetValue(sp.Set)!;
        FieldInfo indexField = typeof(SpanSet).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance)!;
        Thread pusher;
        lock (spineLock)
        {
            pusher = new Thread(() => sp.Set.Push(FakeSpan.Of(42)));
            pusher.Start();
            while (HeadTailIndex.Tail(((HeadTailIndex)indexField.GetValue(sp.Set)!).Load()) == 0)
                Thread.Yield();
            // The tail counts the push, but its block is not in the spine yet: Pop says empty.
            Assert.Equal(0, sp.Set.Pop());
            Assert.Equal(0u, HeadTailIndex.Head(((HeadTailIndex)indexField.GetValue(sp.Set)!).Load()));
        }
        pusher.Join();
        Assert.Equal(FakeSpan.Of(42), sp.Set.Pop());
    }

    private static nint Encode(int producer, int i) => FakeSpan.Of(((long)i << 2) | (uint)producer);

    private static (int Producer, int I) Decode(nint s)
    {
        long v = (s - FakeSpan.Of(0)) / 8;
        return ((int)(v & 3), (int)(v >> 2));
    }
}
