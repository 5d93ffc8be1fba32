// `alloc explore` / `alloc reproduce` command lines: what a valid one hands to the concurrency tool
// (the build and the forwarded arguments, recorded instead of building and running
// tests/Concurrency), and that every bad one is a usage error (exit 2) that never launches it.
// Also the launcher's pure parts: finding the repository, the build arguments, the tool path.
using GoAlloc.Cli;
using Xunit;

namespace GoAlloc.Tests;

public class CliConcurrencyTests
{
    private sealed class Recorder
    {
        public List<ConcurrencyRun> Runs { get; } = [];
        public int ExitCode { get; init; }

        public int Launch(ConcurrencyRun run)
        {
            Runs.Add(run);
            return ExitCode;
        }
    }

    private static (int Exit, string Out, string Err, Recorder Launched) Run(string[] args, int toolExit = 0)
    {
        var rec = new Recorder { ExitCode = toolExit };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr, rec.Launch);
        return (exit, stdout.ToString(), stderr.ToString(), rec);
    }

    /// <summary>The shape of a Coyote 1.7 reproducible trace (CoyoteTraceFile checks it before launching).</summary>
    internal const string MinimalCoyoteTrace = """{ "Settings": { "Strategy": "random" }, "Steps": [ "op(0:1),sp(Default),next(0:1)" ] }""";

    private static string TempTrace(string? sidecarJson)
    {
        string path = Path.Combine(Path.GetTempPath(), $"alloc-explore-test-{Guid.NewGuid():N}.trace");
        File.WriteAllText(path, MinimalCoyoteTrace);
        if (sidecarJson != null)
            File.WriteAllText(path + ".json", sidecarJson);
        return path;
    }

    private static void Delete(string trace)
    {
        File.Delete(trace);
        File.Delete(trace + ".json");
    }

    // ---------------------------------------------------------------- explore

    [Fact]
    public void Explore_AllOptions_ForwardsThemToTheCleanBuild()
    {
        (int exit, _, string err, Recorder rec) = Run(["explore", "cycle-boundary", "--impl", "optimized", "--iterations", "500", "--strategy", "prioritization", "--seed", "40009"]);
        Assert.True(exit == ExitCodes.Ok, err);
        ConcurrencyRun run = Assert.Single(rec.Runs);
        Assert.False(run.Seeded);
        Assert.Equal(["explore", "cycle-boundary", "--impl", "optimized", "--iterations", "500", "--strategy", "prioritization", "--seed", "40009"], run.Args);
    }

    [Fact]
    public void Explore_Defaults_AreReferenceRandomSeed17And1000Iterations()
    {
        (int exit, _, _, Recorder rec) = Run(["explore", "refill-sweep-flush"]);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(["explore", "refill-sweep-flush", "--impl", "reference", "--iterations", "1000", "--strategy", "random", "--seed", "17"], rec.Runs.Single().Args);
    }

    [Fact]
    public void Explore_OptimizedOnlyScenario_DefaultsToOptimized()
    {
        (_, _, _, Recorder rec) = Run(["explore", "spanset-push-pop"]);
        Assert.Equal("optimized", rec.Runs.Single().Args[3]);
    }

    [Fact]
    public void Explore_WithABug_RunsTheSeededBuild()
    {
        (int exit, _, _, Recorder rec) = Run(["explore", "cycle-boundary", "--bug", "Go46500SweepDoneWhileSweeping", "--seed", "7"]);
        Assert.Equal(ExitCodes.Ok, exit);
        ConcurrencyRun run = rec.Runs.Single();
        Assert.True(run.Seeded);
        Assert.Equal(["--bug", "Go46500SweepDoneWhileSweeping"], run.Args.TakeLast(2));
    }

    [Theory]
    [InlineData(ExitCodes.Ok)]
    [InlineData(ExitCodes.Disagreement)]
    public void Explore_RelaysTheToolsExitCode(int toolExit)
    {
        (int exit, _, _, _) = Run(["explore", "mark-vs-alloc"], toolExit);
        Assert.Equal(toolExit, exit);
    }

    [Theory]
    [InlineData("explore")]                                               // no scenario
    [InlineData("explore", "no-such-scenario")]
    [InlineData("explore", "cycle-boundary", "large-vs-small")]            // two scenarios
    [InlineData("explore", "cycle-boundary", "--impl", "both")]
    [InlineData("explore", "cycle-boundary", "--impl", "fast")]
    [InlineData("explore", "cycle-boundary", "--iterations", "0")]
    [InlineData("explore", "cycle-boundary", "--iterations", "-5")]
    [InlineData("explore", "cycle-boundary", "--iterations", "many")]
    [InlineData("explore", "cycle-boundary", "--iterations")]              // no value
    [InlineData("explore", "cycle-boundary", "--seed", "-1")]
    [InlineData("explore", "cycle-boundary", "--seed", "4294967296")]      // > uint
    [InlineData("explore", "cycle-boundary", "--strategy", "bfs")]
    [InlineData("explore", "cycle-boundary", "--bug", "Go99999NoSuchBug")]
    [InlineData("explore", "cycle-boundary", "--frobnicate")]
    [InlineData("explore", "spanset-push-pop", "--impl", "reference")]    // the spanSet exists in the optimized only
    public void Explore_UsageError_ExitsTwoWithoutLaunching(params string[] args)
    {
        (int exit, _, string err, Recorder rec) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(rec.Runs);
        Assert.Contains("alloc", err);
    }

    // ---------------------------------------------------------------- reproduce

    [Theory]
    [InlineData("seeded", true)]
    [InlineData("clean", false)]
    public void Reproduce_ReplaysInTheBuildTheSidecarNames(string build, bool seeded)
    {
        string trace = TempTrace($$"""{ "scenario": "cycle-boundary", "impl": "reference", "build": "{{build}}", "bug": null }""");
        try
        {
            (int exit, _, string err, Recorder rec) = Run(["reproduce", trace], toolExit: ExitCodes.Disagreement);
            Assert.True(exit == ExitCodes.Disagreement, err); // the tool's exit code: not reproduced
            ConcurrencyRun run = rec.Runs.Single();
            Assert.Equal(seeded, run.Seeded);
            Assert.Equal(["reproduce", Path.GetFullPath(trace)], run.Args);
        }
        finally
        {
            Delete(trace);
        }
    }

    [Fact]
    public void Reproduce_RelativeTracePath_IsForwardedAbsolute()
    {
        string trace = TempTrace("""{ "build": "clean" }""");
        try
        {
            string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), trace);
            (_, _, _, Recorder rec) = Run(["reproduce", relative]);
            Assert.Equal(trace, rec.Runs.Single().Args[1]);
        }
        finally
        {
            Delete(trace);
        }
    }

    [Fact]
    public void Reproduce_NoArgument_ExitsTwo()
    {
        (int exit, _, _, Recorder rec) = Run(["reproduce"]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(rec.Runs);
    }

    [Fact]
    public void Reproduce_TwoArguments_ExitsTwo()
    {
        (int exit, _, _, Recorder rec) = Run(["reproduce", "a.trace", "b.trace"]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(rec.Runs);
    }

    [Fact]
    public void Reproduce_MissingTrace_ExitsTwo()
    {
        (int exit, _, string err, Recorder rec) = Run(["reproduce", "/nonexistent/x.trace"]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("trace file not found", err);
        Assert.Empty(rec.Runs);
    }

    [Theory]
    [InlineData(null, "no sidecar")]
    [InlineData("not json", "cannot read the sidecar")]
    [InlineData("""{ "scenario": "cycle-boundary" }""", "has no \"build\"")]
    [InlineData("""{ "build": "debug" }""", "has no \"build\"")]
    [InlineData("[1, 2]", "has no \"build\"")]
    public void Reproduce_MissingOrBadSidecar_ExitsTwo(string? sidecar, string message)
    {
        string trace = TempTrace(sidecar);
        try
        {
            (int exit, _, string err, Recorder rec) = Run(["reproduce", trace]);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains(message, err);
            Assert.Empty(rec.Runs);
        }
        finally
        {
            Delete(trace);
        }
    }

    // ---------------------------------------------------------------- the launcher's pure parts

    [Fact]
    public void FindRepoRoot_FromANestedFolderOrTheBinary()
    {
        string root = Path.Combine(Path.GetTempPath(), $"alloc-root-{Guid.NewGuid():N}");
        string nested = Path.Combine(root, "a", "b");
        Directory.CreateDirectory(nested);
        File.WriteAllText(Path.Combine(root, "Allocator.sln"), "");
        try
        {
            Assert.Equal(root, ConcurrencyProcess.FindRepoRoot(nested, "/"));
            Assert.Equal(root, ConcurrencyProcess.FindRepoRoot("/", nested));
            Assert.Null(ConcurrencyProcess.FindRepoRoot("/", "/"));
            // This test runs from the repository's tests/Unit/bin: the real root is found above it.
            Assert.True(File.Exists(Path.Combine(ConcurrencyProcess.FindRepoRoot("/")!, "Allocator.sln")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void BuildArgumentsAndToolPath_PickTheBuild()
    {
        Assert.Equal(["build", "tests/Concurrency", "-c", "Release", "-v", "q"], ConcurrencyProcess.BuildArguments(seeded: false));
        Assert.Equal(["build", "tests/Concurrency", "-c", "Release", "-p:SeededBugs=true", "-v", "q"], ConcurrencyProcess.BuildArguments(seeded: true));
        Assert.Equal("/r/tests/Concurrency/bin/Release/net10.0/GoAlloc.Concurrency.dll", ConcurrencyProcess.ToolPath("/r", seeded: false));
        Assert.Equal("/r/tests/Concurrency/bin-seeded/Release/net10.0/GoAlloc.Concurrency.dll", ConcurrencyProcess.ToolPath("/r", seeded: true));
    }
}
