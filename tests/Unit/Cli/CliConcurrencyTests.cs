// `alloc explore` / `alloc reproduce` command lines: what a valid one hands to the concurrency tool
// (the build and the forwarded arguments, recorded instead of running the Coyote runner), and that
// every bad one is a usage error (exit 2) that never launches it. Also the launcher's parts: the
// runner's path, and the copies alloc's build ships (coyote/clean and coyote/seeded, here as in
// alloc's own folder: Coyote.targets): rewritten for Coyote, the seeded one with the bug catalog.
using System.Reflection;
using System.Runtime.Loader;
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

    // ---------------------------------------------------------------- the launcher's parts

    [Fact]
    public void ToolPath_PicksTheCleanOrTheSeededCopy()
    {
        Assert.Equal("/r/coyote/clean/GoAlloc.Concurrency.dll", ConcurrencyProcess.ToolPath("/r", seeded: false));
        Assert.Equal("/r/coyote/seeded/GoAlloc.Concurrency.dll", ConcurrencyProcess.ToolPath("/r", seeded: true));
    }

    [Theory]
    [InlineData(false, "clean")]
    [InlineData(true, "seeded")]
    public void Launch_WithoutTheCopy_IsAHostFailure_ThatSaysWhichCopyIsMissing(bool seeded, string build)
    {
        string dir = Directory.CreateTempSubdirectory("alloc-no-copies-").FullName;
        try
        {
            var error = new StringWriter();
            int exit = ConcurrencyProcess.Launch(new ConcurrencyRun(seeded, ["explore", "cycle-boundary"]), new StringWriter(), error, dir);
            Assert.Equal(ExitCodes.HostFailure, exit);
            Assert.Contains($"alloc explore: host failure: {ConcurrencyProcess.ToolPath(dir, seeded)} is missing", error.ToString());
            Assert.Contains($"the Coyote-rewritten {build} copy", error.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Relay_TheRunnersRefusalToRunUnrewritten_IsAHostFailure()
    {
        var error = new StringWriter();
        Assert.Equal(ExitCodes.HostFailure, ConcurrencyProcess.Relay("explore", 3, error));
        Assert.Contains("host failure: the concurrency tool refused to run (exit 3: its copy is not rewritten for Coyote)", error.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Copies_AreRewrittenForCoyote_AndOnlyTheSeededOneHasTheBugCatalog(bool seeded)
    {
        string runner = ConcurrencyProcess.ToolPath(AppContext.BaseDirectory, seeded);
        string dir = Path.GetDirectoryName(runner)!;
        Assert.True(File.Exists(runner), $"{runner} is missing: alloc's build (Coyote.targets) did not make the copy");
        Assert.True(File.Exists(Path.Combine(dir, "GoAlloc.Concurrency.runtimeconfig.json")), "the runner cannot start without its runtimeconfig");
        // Its own load context: the copies have the names of the assemblies this test process runs.
        var context = new AssemblyLoadContext($"coyote-{(seeded ? "seeded" : "clean")}", isCollectible: true);
        context.Resolving += (c, name) => File.Exists(Path.Combine(dir, name.Name + ".dll")) ? c.LoadFromAssemblyPath(Path.Combine(dir, name.Name + ".dll")) : null;
        try
        {
            foreach (string name in new[] { "GoAlloc", "GoAlloc.Reference", "GoAlloc.Optimized", "GoAlloc.Concurrency" })
            {
                Assembly a = context.LoadFromAssemblyPath(Path.Combine(dir, name + ".dll"));
                Assert.True(a.GetCustomAttributesData().Any(d => d.AttributeType.FullName == "Microsoft.Coyote.Rewriting.RewritingSignatureAttribute"),
                    $"{name} in {dir} is not rewritten for Coyote");
                if (name == "GoAlloc")
                    Assert.Equal(seeded, a.GetType("GoAlloc.SeededBugs") != null);
            }
        }
        finally
        {
            context.Unload();
        }
    }
}
