// MutationWatchdog: under the Mutation build (mutation/run), a test that does not finish within its
// bound fails with "did not finish", so that a mutant which makes a loop endless is Killed in
// seconds instead of costing Stryker's whole timeout and being counted as a Timeout (not killed).
//
// Why this is safe with Stryker.NET 5 (VsTest runner):
// - every mutant run gets its own test host process, and vstest ends that process when the run
//   completes, so the thread left spinning in the hung test dies with it;
// - Stryker cancels a run at the first failed test it hears of, so no later test runs beside the
//   spinning thread;
// - a mutant with a failed covering test is Killed even if the run then times out.
// The bound is 12 s plus 1.5 x the test's measured cost (MutationTestOrder), which lies below
// Stryker's own timeout (1.5 x (test host start + covering tests' time) + 5 s additional + 10 s)
// whatever ran before the hung test, and is 48 times the normal time of any unlisted test
// (under 250 ms each). TestBudget.HangBound (10 s) still ends the waits on other threads first,
// with their own messages.
//
// xUnit 2 has no timeout for synchronous tests, so the watchdog sits in the test method runner:
// the framework below is xUnit's own with the one step replaced, the runner of a test case, which
// runs the case on a pool thread and stops waiting for it after the bound. Every test-case type
// (facts, theories, FsCheck properties) goes through that step. The messages the abandoned case
// still sends are dropped; the runner reports the failure for the test that had started.
// Compiled into both test assemblies (tests/Properties links this file); the assembly attribute
// that selects this framework is set only under MUTATION, so Debug and Release runs are unchanged.
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

#if MUTATION
[assembly: TestFramework(GoAlloc.Tests.Helpers.MutationWatchdog.FrameworkTypeName, GoAlloc.Tests.Helpers.MutationTestOrder.AssemblyName)]
#endif

namespace GoAlloc.Tests.Helpers;

/// <summary>The per-test bound of the Mutation build's watchdog.</summary>
public static class MutationWatchdog
{
    internal const string FrameworkTypeName = "GoAlloc.Tests.Helpers.MutationWatchdogFramework";

    /// <summary>The bound with no measured cost: 48 times the 250 ms under which a test is not listed.</summary>
    public static readonly TimeSpan BaseBound = TimeSpan.FromSeconds(12);

    /// <summary>How long a test case may run under the Mutation build before it fails:
    /// <see cref="BaseBound"/> plus 1.5 x its measured cost (<see cref="MutationTestOrder.CostMs"/>).</summary>
    public static TimeSpan Bound(string className, string methodName) =>
        BaseBound + TimeSpan.FromMilliseconds(MutationTestOrder.CostMs(className, methodName) * 3 / 2);
}

/// <summary>xUnit's framework with <see cref="WatchdogTestMethodRunner"/> in place of its method runner.</summary>
public sealed class MutationWatchdogFramework : XunitTestFramework
{
    /// <summary>Created by xUnit from the assembly's TestFramework attribute.</summary>
    public MutationWatchdogFramework(IMessageSink messageSink)
        : base(messageSink)
    {
    }

    /// <inheritdoc/>
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new WatchdogExecutor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class WatchdogExecutor(AssemblyName assemblyName, ISourceInformationProvider sourceInformationProvider, IMessageSink diagnosticMessageSink)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformationProvider, diagnosticMessageSink)
    {
        // xUnit's own shape: the executor's entry point is async void.
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new WatchdogAssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync().ConfigureAwait(false);
        }
    }

    private sealed class WatchdogAssemblyRunner(ITestAssembly testAssembly, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnosticMessageSink, executionMessageSink, executionOptions)
    {
        protected override Task<RunSummary> RunTestCollectionAsync(IMessageBus messageBus, ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, CancellationTokenSource cancellationTokenSource) =>
            new WatchdogCollectionRunner(testCollection, testCases, DiagnosticMessageSink, messageBus, TestCaseOrderer, new ExceptionAggregator(Aggregator), cancellationTokenSource).RunAsync();
    }

    private sealed class WatchdogCollectionRunner(ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageBus messageBus, ITestCaseOrderer testCaseOrderer, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
        : XunitTestCollectionRunner(testCollection, testCases, diagnosticMessageSink, messageBus, testCaseOrderer, aggregator, cancellationTokenSource)
    {
        protected override Task<RunSummary> RunTestClassAsync(ITestClass testClass, IReflectionTypeInfo @class, IEnumerable<IXunitTestCase> testCases) =>
            new WatchdogClassRunner(testClass, @class, testCases, DiagnosticMessageSink, MessageBus, TestCaseOrderer, new ExceptionAggregator(Aggregator), CancellationTokenSource, CollectionFixtureMappings).RunAsync();
    }

    private sealed class WatchdogClassRunner(ITestClass testClass, IReflectionTypeInfo @class, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageBus messageBus, ITestCaseOrderer testCaseOrderer, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource, IDictionary<Type, object> collectionFixtureMappings)
        : XunitTestClassRunner(testClass, @class, testCases, diagnosticMessageSink, messageBus, testCaseOrderer, aggregator, cancellationTokenSource, collectionFixtureMappings)
    {
        protected override Task<RunSummary> RunTestMethodAsync(ITestMethod testMethod, IReflectionMethodInfo method, IEnumerable<IXunitTestCase> testCases, object[] constructorArguments) =>
            new WatchdogTestMethodRunner(testMethod, Class, method, testCases, DiagnosticMessageSink, MessageBus, new ExceptionAggregator(Aggregator), CancellationTokenSource, constructorArguments,
                MutationWatchdog.Bound(testMethod.TestClass.Class.Name, testMethod.Method.Name)).RunAsync();
    }
}

/// <summary>xUnit's test method runner, except that each test case runs on a pool thread and fails
/// when it has not finished after <c>bound</c>.</summary>
public sealed class WatchdogTestMethodRunner : XunitTestMethodRunner
{
    private readonly IMessageSink _diagnosticMessageSink;
    private readonly object[] _constructorArguments;
    private readonly TimeSpan _bound;

    /// <summary>xUnit's runner arguments, and the bound of each test case.</summary>
    public WatchdogTestMethodRunner(ITestMethod testMethod, IReflectionTypeInfo @class, IReflectionMethodInfo method, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnosticMessageSink, IMessageBus messageBus, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource, object[] constructorArguments, TimeSpan bound)
        : base(testMethod, @class, method, testCases, diagnosticMessageSink, messageBus, aggregator, cancellationTokenSource, constructorArguments)
    {
        _diagnosticMessageSink = diagnosticMessageSink;
        _constructorArguments = constructorArguments;
        _bound = bound;
    }

    /// <inheritdoc/>
    protected override async Task<RunSummary> RunTestCaseAsync(IXunitTestCase testCase)
    {
        var bus = new AbandonableBus(MessageBus);
        var caseAggregator = new ExceptionAggregator(Aggregator);
        Task<RunSummary> run = Task.Run(() => testCase.RunAsync(_diagnosticMessageSink, bus, _constructorArguments, caseAggregator, CancellationTokenSource));
        using var delayCancel = new CancellationTokenSource();
        Task finished = await Task.WhenAny(run, Task.Delay(_bound, delayCancel.Token)).ConfigureAwait(false);
        if (finished == run)
        {
            await delayCancel.CancelAsync().ConfigureAwait(false);
            return await run.ConfigureAwait(false);
        }
        return bus.Abandon(testCase, _bound);
    }

    /// <summary>Forwards a test case's messages until the case is abandoned, then reports its
    /// failure itself and drops whatever the abandoned case still sends.</summary>
    private sealed class AbandonableBus(IMessageBus inner) : IMessageBus
    {
        private readonly object _gate = new();
        private bool _abandoned;      // under _gate
        private ITest? _runningTest;  // under _gate: the test that started and has not finished
        private bool _caseStarted;    // under _gate

        public bool QueueMessage(IMessageSinkMessage message)
        {
            lock (_gate)
            {
                if (_abandoned)
                {
                    return true;
                }
                switch (message)
                {
                    case ITestCaseStarting:
                        _caseStarted = true;
                        break;
                    case ITestStarting s:
                        _runningTest = s.Test;
                        break;
                    case ITestFinished:
                        _runningTest = null;
                        break;
                }
                return inner.QueueMessage(message);
            }
        }

        public RunSummary Abandon(IXunitTestCase testCase, TimeSpan bound)
        {
            lock (_gate)
            {
                _abandoned = true;
                decimal seconds = (decimal)bound.TotalSeconds;
                if (!_caseStarted)
                {
                    inner.QueueMessage(new TestCaseStarting(testCase));
                }
                ITest test = _runningTest ?? new XunitTest(testCase, testCase.DisplayName);
                if (_runningTest is null)
                {
                    inner.QueueMessage(new TestStarting(test));
                }
                var hang = new TimeoutException(
                    $"the test did not finish within {bound.TotalSeconds:0.#} s (the Mutation build's watchdog): " +
                    "it hangs, e.g. in a loop that a mutant made endless");
                inner.QueueMessage(new TestFailed(test, seconds, "", hang));
                inner.QueueMessage(new TestFinished(test, seconds, ""));
                inner.QueueMessage(new TestCaseFinished(testCase, seconds, 1, 1, 0));
                return new RunSummary { Total = 1, Failed = 1, Time = seconds };
            }
        }

        public void Dispose()
        {
        }
    }
}
