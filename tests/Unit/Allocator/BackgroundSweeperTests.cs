// BackgroundSweeper (src/Allocator/BackgroundSweeper.cs, Go's bgsweep), the thread shell both
// heaps share, driven by a fake heap: a round sweeps until sweepone says -1, then flushes the idle
// Ps once and parks; Kick starts the next round, Start records pending work (unless told not to),
// Stop joins the thread and ends a round between spans, a hook exception of the sweeper's thread
// is handed to the heap, and a parked sweeper holds its heap only weakly. Every wait is bounded.
using System.Runtime.ExceptionServices;
using GoAlloc.Tests.Helpers;
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed class BackgroundSweeperTests
{
    private static readonly TimeSpan Bound = TestBudget.HangBound(TimeSpan.FromSeconds(30));

    /// <summary>A heap with Spans spans to sweep per round; records what the sweeper calls.</summary>
    private sealed class FakeHeap : IBackgroundSweepHeap, IDisposable
    {
        private readonly object _lock = new();
        private int _left;
        public int Swept, Flushes, Rounds;
        public ExceptionDispatchInfo? Fault;
        public Exception? ThrowInFlush;
        public ManualResetEventSlim? HoldSweep;
        public readonly ManualResetEventSlim InSweep = new();

        public void Give(int spans)
        {
            lock (_lock)
                _left += spans;
        }

        public long SweepOneInBackground()
        {
            InSweep.Set();
            HoldSweep?.Wait(Bound);
            lock (_lock)
            {
                if (_left == 0)
                    return -1;
                _left--;
                Swept++;
                return 1;
            }
        }

        public void FlushIdleStalePsInBackground()
        {
            lock (_lock)
            {
                Flushes++;
                Rounds++;
            }
            if (ThrowInFlush != null)
                HookFaults.Defer(ThrowInFlush);
        }

        public void DeferBackgroundHookFault(ExceptionDispatchInfo fault)
        {
            lock (_lock)
                Fault = fault;
        }

        public int Read(Func<FakeHeap, int> f)
        {
            lock (_lock)
                return f(this);
        }

        public void Dispose() => InSweep.Dispose();
    }

    private static void WaitFor(Func<bool> done) => Assert.True(SpinWait.SpinUntil(done, Bound), "timed out");

    [Fact]
    public void BackgroundSweeper_StartSweepsEverySpanThenFlushesOnceAndParks()
    {
        using var heap = new FakeHeap();
        heap.Give(5);
        var sweeper = new BackgroundSweeper(heap);
        Assert.False(sweeper.OnBackgroundThread);
        sweeper.Start();
        WaitFor(() => heap.Read(h => h.Flushes) == 1);
        Assert.True(sweeper.OnBackgroundThread);
        Assert.Equal(5, heap.Read(h => h.Swept));
        Thread.Sleep(50); // parked: no second round without a kick
        Assert.Equal(1, heap.Read(h => h.Flushes));
        heap.Give(3);
        sweeper.Kick();
        WaitFor(() => heap.Read(h => h.Flushes) == 2);
        Assert.Equal(8, heap.Read(h => h.Swept));
        sweeper.Stop();
        Assert.False(sweeper.OnBackgroundThread);
        Assert.Null(heap.Fault);
    }

    [Fact]
    public void BackgroundSweeper_StartedWithoutRecordingWorkWaitsForAKick()
    {
        using var heap = new FakeHeap();
        heap.Give(2);
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Start(recordWork: false);
        Thread.Sleep(50);
        Assert.Equal(0, heap.Read(h => h.Swept + h.Flushes));
        sweeper.Kick();
        WaitFor(() => heap.Read(h => h.Flushes) == 1);
        Assert.Equal(2, heap.Read(h => h.Swept));
        sweeper.Stop();
    }

    [Fact]
    public void BackgroundSweeper_StartWhileRunningThrowsAndStopIsIdempotent()
    {
        using var heap = new FakeHeap();
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Stop(); // not running: nothing to do
        sweeper.Start();
        var e = Assert.Throws<InvalidOperationException>(() => sweeper.Start(recordWork: false));
        Assert.Contains("already running", e.Message);
        sweeper.Stop();
        sweeper.Stop();
        Assert.False(sweeper.OnBackgroundThread);
        // Restartable after a stop; the restart records work: a round runs.
        int before = heap.Read(h => h.Flushes);
        sweeper.Start();
        WaitFor(() => heap.Read(h => h.Flushes) == before + 1);
        sweeper.Stop();
    }

    [Fact]
    public void BackgroundSweeper_StopEndsARoundBetweenSpansWithoutTheFlush()
    {
        using var hold = new ManualResetEventSlim();
        using var heap = new FakeHeap { HoldSweep = hold };
        heap.Give(100);
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Start();
        Assert.True(heap.InSweep.Wait(Bound));
        var stopper = new Thread(sweeper.Stop);
        stopper.Start();
        Thread.Sleep(50); // Stop is waiting for the sweep in progress
        Assert.True(stopper.IsAlive);
        hold.Set();
        Assert.True(stopper.Join(Bound));
        Assert.Equal(1, heap.Read(h => h.Swept)); // the span in progress, then no more
        Assert.Equal(0, heap.Read(h => h.Flushes));
        Assert.False(sweeper.OnBackgroundThread);
    }

    [Fact]
    public void BackgroundSweeper_RequestStopEndsAParkedThread()
    {
        using var heap = new FakeHeap();
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Start();
        WaitFor(() => heap.Read(h => h.Flushes) == 1);
        sweeper.RequestStop();
        // The thread exits on its own; Stop only joins it.
        sweeper.Stop();
        heap.Give(1);
        sweeper.Kick();
        Thread.Sleep(50);
        Assert.Equal(0, heap.Read(h => h.Swept));
    }

    [Fact]
    public void BackgroundSweeper_HandsAHookExceptionOfItsThreadToTheHeap()
    {
        var boom = new InvalidOperationException("hook");
        using var heap = new FakeHeap { ThrowInFlush = boom };
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Start();
        WaitFor(() => heap.Read(h => h.Fault != null ? 1 : 0) == 1);
        Assert.Same(boom, heap.Fault!.SourceException);
        sweeper.Stop();
        Assert.False(HookFaults.HasPending); // this thread's slot is untouched
    }

    /// <summary>Starts a sweeper over a fake heap that only this sweeper references; returns once its first round ended.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (BackgroundSweeper Sweeper, WeakReference Heap) StartOverAbandonedHeap(ManualResetEventSlim roundDone)
    {
        var heap = new FlushSignallingHeap(roundDone);
        var sweeper = new BackgroundSweeper(heap);
        sweeper.Start();
        Assert.True(roundDone.Wait(Bound));
        return (sweeper, new WeakReference(heap));
    }

    private sealed class FlushSignallingHeap(ManualResetEventSlim flushed) : IBackgroundSweepHeap
    {
        public long SweepOneInBackground() => -1;

        public void FlushIdleStalePsInBackground() => flushed.Set();

        public void DeferBackgroundHookFault(ExceptionDispatchInfo fault)
        {
        }
    }

    [Fact]
    public void BackgroundSweeper_AParkedSweeperDoesNotKeepItsHeapAlive()
    {
        using var roundDone = new ManualResetEventSlim();
        (BackgroundSweeper sweeper, WeakReference heap) = StartOverAbandonedHeap(roundDone);
        WaitFor(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return !heap.IsAlive;
        });
        roundDone.Reset();
        sweeper.Kick(); // the round finds no heap: the thread ends
        sweeper.Stop();
        Assert.False(roundDone.IsSet);
    }
}
