// Tests of MutationWatchdog, the Mutation build's per-test bound: a test case that hangs is
// reported failed after the bound and its later messages are dropped; a case that finishes in
// time is passed through untouched; the bound grows with a test's measured cost.
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace GoAlloc.Tests.Helpers;

public sealed class MutationWatchdogTests
{
    private static readonly TimeSpan HangBound = TestBudget.HangBound(TimeSpan.FromMinutes(1));

    [Fact]
    public async Task Watchdog_HungCase_FailsAfterTheBound_AndDropsItsLateMessages()
    {
        using var release = new ManualResetEventSlim();
        var bus = new RecordingBus();
        ScriptedTestCase testCase = ScriptedTestCase.For(nameof(Watchdog_HungCase_FailsAfterTheBound_AndDropsItsLateMessages), release);
        WatchdogTestMethodRunner runner = RunnerFor(testCase, bus, TimeSpan.FromMilliseconds(100));

        // WaitAsync fails the test with a TimeoutException if the watchdog never gives up.
        RunSummary summary = await runner.RunAsync().WaitAsync(HangBound);
        Assert.Equal(1, summary.Total);
        Assert.Equal(1, summary.Failed);

        ITestFailed failed = Assert.Single(bus.Of<ITestFailed>());
        Assert.Same(testCase.Test, failed.Test);
        Assert.Contains("did not finish within", failed.Messages[0], StringComparison.Ordinal);
        Assert.Equal(typeof(TimeoutException).FullName, failed.ExceptionTypes[0]);
        Assert.Single(bus.Of<ITestFinished>());
        Assert.Equal(1, Assert.Single(bus.Of<ITestCaseFinished>()).TestsFailed);

        // The hung case wakes up and reports a pass: nothing of it reaches the sink any more.
        int before = bus.Count;
        release.Set();
        Assert.True(testCase.Done.Wait(HangBound), "the scripted case never finished");
        Assert.Equal(before, bus.Count);
        Assert.Empty(bus.Of<ITestPassed>());
    }

    [Fact]
    public async Task Watchdog_CaseThatFinishesInTime_IsPassedThroughUntouched()
    {
        using var release = new ManualResetEventSlim(initialState: true);
        var bus = new RecordingBus();
        ScriptedTestCase testCase = ScriptedTestCase.For(nameof(Watchdog_CaseThatFinishesInTime_IsPassedThroughUntouched), release);
        WatchdogTestMethodRunner runner = RunnerFor(testCase, bus, HangBound);

        RunSummary summary = await runner.RunAsync().WaitAsync(HangBound);
        Assert.Equal(1, summary.Total);
        Assert.Equal(0, summary.Failed);
        Assert.Same(testCase.Test, Assert.Single(bus.Of<ITestPassed>()).Test);
        Assert.Empty(bus.Of<ITestFailed>());
        Assert.Single(bus.Of<ITestCaseFinished>());
    }

    [Fact]
    public async Task Watchdog_HungBeforeItsTestStarted_StillReportsOneFailedTest()
    {
        using var release = new ManualResetEventSlim();
        var bus = new RecordingBus();
        ScriptedTestCase testCase = ScriptedTestCase.For(nameof(Watchdog_HungBeforeItsTestStarted_StillReportsOneFailedTest), release, hangBeforeStart: true);
        WatchdogTestMethodRunner runner = RunnerFor(testCase, bus, TimeSpan.FromMilliseconds(100));

        RunSummary summary = await runner.RunAsync().WaitAsync(HangBound);
        Assert.Equal(1, summary.Failed);
        // The sink sees a whole test: case start, test start, failure, test end, case end.
        Assert.Single(bus.Of<ITestCaseStarting>());
        ITestStarting started = Assert.Single(bus.Of<ITestStarting>());
        Assert.Same(started.Test, Assert.Single(bus.Of<ITestFailed>()).Test);
        Assert.Single(bus.Of<ITestCaseFinished>());
        release.Set();
        Assert.True(testCase.Done.Wait(HangBound), "the scripted case never finished");
    }

    [Fact]
    public void Watchdog_Bound_IsTheBasePlusOneAndAHalfTimesTheMeasuredCost()
    {
        Assert.Equal(MutationWatchdog.BaseBound, MutationWatchdog.Bound("GoAlloc.Tests.NotListed", "Anything"));
        int cost = MutationTestOrder.CostMs("GoAlloc.Tests.ModelTraceReplayTests", "BundledTrace_BothHeapsMatchTheModelAfterEveryOperation");
        Assert.True(cost > 0);
        Assert.Equal(MutationWatchdog.BaseBound + TimeSpan.FromMilliseconds(cost * 1.5),
            MutationWatchdog.Bound("GoAlloc.Tests.ModelTraceReplayTests", "BundledTrace_BothHeapsMatchTheModelAfterEveryOperation"));
    }

    private static WatchdogTestMethodRunner RunnerFor(ScriptedTestCase testCase, IMessageBus bus, TimeSpan bound) =>
        new(testCase.TestMethod, (IReflectionTypeInfo)testCase.TestMethod.TestClass.Class, (IReflectionMethodInfo)testCase.TestMethod.Method,
            [testCase], new NullMessageSink(), bus, new ExceptionAggregator(), new CancellationTokenSource(), [], bound);

    /// <summary>A test case whose run is scripted: it announces its test, waits for
    /// <c>release</c> (the hang), then reports a pass. It stands on one of this class's own
    /// methods so that xUnit's metadata (its Fact attribute) is real.</summary>
    private sealed class ScriptedTestCase : XunitTestCase
    {
        private ManualResetEventSlim _release = null!;
        private bool _hangBeforeStart;

        [Obsolete("xUnit's deserialization constructor")]
        public ScriptedTestCase()
        {
        }

        private ScriptedTestCase(ITestMethod testMethod)
            : base(new NullMessageSink(), TestMethodDisplay.ClassAndMethod, TestMethodDisplayOptions.None, testMethod)
        {
        }

        public ITest Test { get; private set; } = null!;

        public ManualResetEventSlim Done { get; } = new();

        public static ScriptedTestCase For(string methodName, ManualResetEventSlim release, bool hangBeforeStart = false)
        {
            var assembly = new TestAssembly(Reflector.Wrap(typeof(MutationWatchdogTests).Assembly));
            var collection = new TestCollection(assembly, null, "watchdog");
            var testClass = new TestClass(collection, Reflector.Wrap(typeof(MutationWatchdogTests)));
            var testMethod = new TestMethod(testClass, Reflector.Wrap(typeof(MutationWatchdogTests).GetMethod(methodName)!));
            var testCase = new ScriptedTestCase(testMethod) { _release = release, _hangBeforeStart = hangBeforeStart };
            testCase.Test = new XunitTest(testCase, testCase.DisplayName);
            return testCase;
        }

        public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
        {
            if (_hangBeforeStart)
            {
                _release.Wait();
            }
            messageBus.QueueMessage(new TestCaseStarting(this));
            messageBus.QueueMessage(new TestStarting(Test));
            _release.Wait();
            messageBus.QueueMessage(new TestPassed(Test, 0m, ""));
            messageBus.QueueMessage(new TestFinished(Test, 0m, ""));
            messageBus.QueueMessage(new TestCaseFinished(this, 0m, 1, 0, 0));
            Done.Set();
            return Task.FromResult(new RunSummary { Total = 1 });
        }
    }

    /// <summary>The sink's view: every message the runner forwarded, in order.</summary>
    private sealed class RecordingBus : IMessageBus
    {
        private readonly List<IMessageSinkMessage> _messages = [];

        public int Count
        {
            get
            {
                lock (_messages)
                {
                    return _messages.Count;
                }
            }
        }

        public List<T> Of<T>()
        {
            lock (_messages)
            {
                return _messages.OfType<T>().ToList();
            }
        }

        public bool QueueMessage(IMessageSinkMessage message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }
            return true;
        }

        public void Dispose()
        {
        }
    }
}
