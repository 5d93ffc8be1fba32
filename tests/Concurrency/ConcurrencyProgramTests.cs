// The concurrency tool (Program: explore / reproduce) without running Coyote: its name lists
// (ConcurrencyChoices, which `alloc` validates against) match the code, bad command
// lines exit 2, and the clean build refuses seeded work with the command to run instead.
using Xunit;

namespace GoAlloc.Concurrency;

public class ConcurrencyProgramTests
{
    internal static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Choices_MatchTheScenariosStrategiesAndSeededBugs()
    {
        foreach (string s in ConcurrencyChoices.Scenarios)
        {
            foreach (string impl in ConcurrencyChoices.Impls.Where(i => ConcurrencyChoices.Applies(s, i)))
                Assert.NotNull(Scenarios.Get(s, impl));
        }
        Assert.Equal(Scenarios.Names.Count, Scenarios.Names.Distinct().Count());
        foreach (string strategy in ConcurrencyChoices.Strategies)
            Assert.NotNull(CoyoteRunner.Configure(1, 1, strategy));
#if SEEDED_BUGS
        Assert.Equal(Enum.GetNames<SeededBug>().Where(n => n != nameof(SeededBug.None)).Order(), ConcurrencyChoices.SeededBugs.Order());
#endif
    }

    [Theory]
    [InlineData()]
    [InlineData("frobnicate")]
    [InlineData("explore")]
    [InlineData("explore", "no-such-scenario")]
    [InlineData("explore", "cycle-boundary", "--impl", "both")]
    [InlineData("explore", "cycle-boundary", "--iterations", "0")]
    [InlineData("explore", "cycle-boundary", "--seed", "-3")]
    [InlineData("explore", "cycle-boundary", "--strategy", "bfs")]
    [InlineData("explore", "cycle-boundary", "--bug", "NoSuchBug")]
    [InlineData("explore", "cycle-boundary", "--iterations")]
    [InlineData("explore", "spanset-push-pop", "--impl", "reference")]
    [InlineData("reproduce")]
    [InlineData("reproduce", "/nonexistent/x.trace")]
    public void BadCommandLine_ExitsTwo(params string[] args)
    {
        (int exit, _, string err) = Run(args);
        Assert.Equal(Program.Usage, exit);
        Assert.Contains("usage:", err);
    }

    [Fact]
    public void ParseExplore_DefaultsAndEqualsSyntax()
    {
        ExploreSpec s = Program.ParseExplore(["spanset-push-pop", "--seed=40009"]);
        Assert.Equal(new ExploreSpec("spanset-push-pop", "optimized", ConcurrencyChoices.DefaultIterations, 40009, "random"), s);
        Assert.Equal("spanset-push-pop.optimized.random.seed40009", s.DefaultName);
        Assert.Equal("cycle-boundary.reference.Go46500SweepDoneWhileSweeping.pct.seed1",
            new ExploreSpec("cycle-boundary", "reference", 5, 1, "pct", "Go46500SweepDoneWhileSweeping").DefaultName);
    }

    [Fact]
    public void Reproduce_TraceWithoutSidecar_ExitsTwoAndSaysWhy()
    {
        string trace = Path.Combine(Path.GetTempPath(), $"coyote-{Guid.NewGuid():N}.trace");
        File.WriteAllText(trace, "{}");
        try
        {
            (int exit, _, string err) = Run("reproduce", trace);
            Assert.Equal(Program.Usage, exit);
            Assert.Contains("no sidecar", err);
        }
        finally
        {
            File.Delete(trace);
        }
    }

    [Fact]
    public void Explore_Json_PrintsOnlyAJsonSummaryOnStdout_AndTheTextOnStderr()
    {
        (int exit, string output, string err) = Run("explore", "cycle-boundary", "--iterations", "3", "--json");
        Assert.True(exit == Program.Ok, output + err);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(Program.JsonSchemaVersion, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("alloc explore", root.GetProperty("tool").GetString());
        Assert.Equal("ok", root.GetProperty("outcome").GetString());
        Assert.Equal(0, root.GetProperty("exitCode").GetInt32());
        Assert.Equal("cycle-boundary", root.GetProperty("scenario").GetString());
        Assert.False(root.GetProperty("bugFound").GetBoolean());
        Assert.Equal(3, root.GetProperty("iterations").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("trace").ValueKind);
        Assert.Contains("no bug found in 3 iterations", err);
    }

    [Theory]
    [InlineData("{ \"Settings\": { \"Strategy\": \"random\" }, \"Ste", "is not a Coyote trace (truncated or damaged?)")]
    [InlineData("{ \"Settings\": {}, \"Steps\": [ \"op(0:1)\", \"garbage\" ] }", "damaged Coyote trace: step 2")]
    public void Reproduce_TruncatedOrDamagedTrace_ExitsTwoWithAMessage_NotAnUnhandledException(string content, string message)
    {
        string trace = Path.Combine(Path.GetTempPath(), $"coyote-{Guid.NewGuid():N}.trace");
        File.WriteAllText(trace, content);
        new TraceSidecar("cycle-boundary", "reference", "random", 17, 100, null, TraceSidecar.CurrentBuild, 3, "boom", "").Write(trace);
        try
        {
            (int exit, _, string err) = Run("reproduce", trace);
            Assert.Equal(Program.Usage, exit);
            Assert.Contains(message, err);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(TraceSidecar.PathFor(trace));
        }
    }

#if !SEEDED_BUGS
    [Fact]
    public void CleanBuild_ExploreWithABug_PrintsTheSeededCommandAndExitsTwo()
    {
        (int exit, _, string err) = Run("explore", "cycle-boundary", "--bug", "Go46500SweepDoneWhileSweeping");
        Assert.Equal(Program.Usage, exit);
        Assert.Contains("dotnet run --project src/Cli -c Release -- explore cycle-boundary --impl optimized --iterations 1000 --strategy random --seed 17 --bug Go46500SweepDoneWhileSweeping", err);
        Assert.Contains("dotnet src/Cli/bin/Release/net10.0/coyote/seeded/GoAlloc.Concurrency.dll explore cycle-boundary", err);
    }

    [Fact]
    public void CleanBuild_ReproduceOfASeededTrace_PrintsTheSeededCommandAndExitsTwo()
    {
        string trace = Path.Combine(Path.GetTempPath(), $"coyote-{Guid.NewGuid():N}.trace");
        File.WriteAllText(trace, "{}");
        new TraceSidecar("cycle-boundary", "reference", "random", 17, 100, "Go46500SweepDoneWhileSweeping", TraceSidecar.SeededBuild, 3, "boom", "")
            .Write(trace);
        try
        {
            (int exit, _, string err) = Run("reproduce", trace);
            Assert.Equal(Program.Usage, exit);
            Assert.Contains($"dotnet run --project src/Cli -c Release -- reproduce \"{trace}\"", err);
            Assert.Contains($"dotnet src/Cli/bin/Release/net10.0/coyote/seeded/GoAlloc.Concurrency.dll reproduce \"{trace}\"", err);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(TraceSidecar.PathFor(trace));
        }
    }
#endif
}
