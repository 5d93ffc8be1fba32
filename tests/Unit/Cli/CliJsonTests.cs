// `alloc replay --json` / --json-file: the result validates against docs/alloc-replay.schema.json
// (JsonSchema.Net, draft 2020-12) for a passing lockstep replay, a single implementation and a
// failing replay; the fields CI gates on say what happened (outcome, exit code, disagreements,
// per-cycle stats); --json prints nothing but the JSON on stdout; --json-file writes the same
// document and keeps the tables on stdout.
using System.Text.Json;
using GoAlloc.Cli;
using GoAlloc.Replay;
using Json.Schema;
using Xunit;

namespace GoAlloc.Tests;

public class CliJsonTests
{
    private static readonly Lazy<JsonSchema> s_schema = new(() => JsonSchema.FromText(File.ReadAllText(SchemaPath()), new BuildOptions()));

    private static string SchemaPath()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d != null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "docs", "alloc-replay.schema.json");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException("docs/alloc-replay.schema.json not found above the test binary");
    }

    private static (int Exit, string Out, string Err) Run(string[] args, IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr, factories: factories);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement Validate(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        EvaluationResults results = s_schema.Value.Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        string errors = string.Join("\n", (results.Details ?? []).Where(d => d.Errors != null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")));
        Assert.True(results.IsValid, errors + "\n" + json);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void Json_LockstepReplay_ValidatesAgainstTheSchema_AndIsTheOnlyThingOnStdout()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, string err) = Run(["replay", path, "--json"]);
            Assert.True(exit == ExitCodes.Ok, output + err);
            JsonElement root = Validate(output); // parses: nothing but JSON on stdout
            Assert.Equal(ReplayJson.SchemaVersion, root.GetProperty("schemaVersion").GetInt32());
            Assert.Equal("ok", root.GetProperty("outcome").GetString());
            Assert.Equal(0, root.GetProperty("exitCode").GetInt32());
            Assert.Equal(path, root.GetProperty("trace").GetProperty("path").GetString());
            Assert.Equal(3, root.GetProperty("trace").GetProperty("gcCycles").GetInt32());
            Assert.True(root.GetProperty("lockstep").GetProperty("agreed").GetBoolean());
            JsonElement[] impls = [.. root.GetProperty("implementations").EnumerateArray()];
            Assert.Equal(["reference", "optimized"], impls.Select(i => i.GetProperty("name").GetString()));
            foreach (JsonElement impl in impls)
            {
                Assert.True(impl.GetProperty("passed").GetBoolean());
                Assert.Equal(3, impl.GetProperty("cycles").GetArrayLength());
                Assert.Equal(0, impl.GetProperty("summary").GetProperty("disagreementCount").GetInt64());
                Assert.True(impl.GetProperty("summary").GetProperty("timing").GetProperty("allocatorAloneMs").ValueKind == JsonValueKind.Number);
            }
            Assert.Equal(0, root.GetProperty("differences").GetArrayLength());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_SingleImplementation_HasNoLockstep_AndValidates()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (int exit, string output, string err) = Run(["replay", path, "--impl", "optimized", "--json", "--scavenge"]);
            Assert.True(exit == ExitCodes.Ok, output + err);
            JsonElement root = Validate(output);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("lockstep").ValueKind);
            Assert.True(root.GetProperty("settings").GetProperty("scavenge").GetBoolean());
            Assert.Equal("optimized", root.GetProperty("implementations")[0].GetProperty("name").GetString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Json_FailingReplay_IsAFinding_WithTheDisagreements_AndValidates()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            var broken = new Dictionary<string, Func<HeapOptions, IHeap>> { ["reference"] = o => new FaultyHeap(o, skipMarkNumber: 0) };
            (int exit, string output, string err) = Run(["replay", path, "--impl", "reference", "--json"], broken);
            Assert.True(exit == ExitCodes.Disagreement, output + err);
            JsonElement root = Validate(output);
            Assert.Equal("finding", root.GetProperty("outcome").GetString());
            Assert.Equal(1, root.GetProperty("exitCode").GetInt32());
            JsonElement impl = root.GetProperty("implementations")[0];
            Assert.False(impl.GetProperty("passed").GetBoolean());
            Assert.True(impl.GetProperty("disagreements").GetArrayLength() > 0);
            Assert.Contains(impl.GetProperty("disagreements").EnumerateArray(), d => d.GetProperty("kind").GetString() == nameof(DisagreementKind.FreedLiveObject));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void JsonFile_WritesTheSameDocument_AndKeepsTheTablesOnStdout()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        string json = Path.Combine(Path.GetTempPath(), $"alloc-json-{Guid.NewGuid():N}.json");
        try
        {
            (int exit, string output, string err) = Run(["replay", path, "--impl", "reference", "--json-file", json]);
            Assert.True(exit == ExitCodes.Ok, output + err);
            Assert.Contains("summary", output);
            JsonElement root = Validate(File.ReadAllText(json));
            Assert.Equal("ok", root.GetProperty("outcome").GetString());
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(json)!, $".{Path.GetFileName(json)}.*.tmp"));
        }
        finally
        {
            File.Delete(path);
            File.Delete(json);
        }
    }

    [Fact]
    public void ExploreAndReproduce_Json_IsForwardedToTheConcurrencyTool()
    {
        var runs = new List<ConcurrencyRun>();
        int Launch(ConcurrencyRun run)
        {
            runs.Add(run);
            return ExitCodes.Ok;
        }
        Assert.Equal(ExitCodes.Ok, Program.Run(["explore", "cycle-boundary", "--json"], new StringWriter(), new StringWriter(), Launch));
        Assert.Equal("--json", runs[0].Args[^1]);
        string trace = Path.Combine(Path.GetTempPath(), $"alloc-json-{Guid.NewGuid():N}.trace");
        File.WriteAllText(trace, CliConcurrencyTests.MinimalCoyoteTrace);
        File.WriteAllText(trace + ".json", """{ "build": "clean" }""");
        try
        {
            Assert.Equal(ExitCodes.Ok, Program.Run(["reproduce", trace, "--json"], new StringWriter(), new StringWriter(), Launch));
            Assert.Equal(["reproduce", trace, "--json"], runs[1].Args);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(trace + ".json");
        }
    }

    [Fact]
    public void Schema_RequiresTheVersionAndTheOutcome()
    {
        // The schema is not vacuous: a document without them, or of another version, is rejected.
        using JsonDocument empty = JsonDocument.Parse("{}");
        Assert.False(s_schema.Value.Evaluate(empty.RootElement).IsValid);
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        try
        {
            (_, string output, _) = Run(["replay", path, "--impl", "reference", "--json"]);
            using JsonDocument v2 = JsonDocument.Parse(output.Replace("\"schemaVersion\": 1", "\"schemaVersion\": 2"));
            Assert.False(s_schema.Value.Evaluate(v2.RootElement).IsValid);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
