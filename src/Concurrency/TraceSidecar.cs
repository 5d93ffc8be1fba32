// TraceSidecar: what a saved Coyote trace cannot say about itself, written next to it as
// <trace>.json by CoyoteRunner.Explore: the scenario and allocator the schedule drives, how it was
// found (strategy, seed, iteration), the seeded bug switched on (or none) and the build that found
// it ("seeded": -p:SeededBugs=true, or "clean"), and whether the scenario ran single-threaded. `alloc reproduce` reads it to pick the build, and
// `reproduce` to set the scenario and the bug up again before replaying the schedule.
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GoAlloc.Concurrency;

public sealed record TraceSidecar(
    string Scenario,
    string Impl,
    string Strategy,
    uint Seed,
    uint Iterations,
    string? Bug,
    string Build,
    int FoundAtIteration,
    string? Failure,
    string Reproduce,
    bool Sequential = false)
{
    public const string SeededBuild = "seeded";
    public const string CleanBuild = "clean";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for people: no \u0022 for quotes
    };

    /// <summary>The build this process runs: seeded or clean.</summary>
    public static string CurrentBuild => CoyoteRunner.SeededBuild ? SeededBuild : CleanBuild;

    public static string PathFor(string tracePath) => tracePath + ".json";

    public static TraceSidecar For(ExploreSpec spec, ExplorationResult r) =>
        new(spec.Scenario, spec.Impl, spec.Strategy, spec.Seed, spec.Iterations, spec.Bug, CurrentBuild,
            r.IterationsToBug, r.FirstLine, CoyoteRunner.ReplayCommand(r.TracePath!), spec.Sequential);

    public void Write(string tracePath) => CoyoteRunner.WriteWhole(PathFor(tracePath), JsonSerializer.Serialize(this, s_json) + "\n");

    /// <summary>Reads the sidecar of tracePath; FileNotFoundException if there is none, InvalidDataException if it is not one.</summary>
    public static TraceSidecar Read(string tracePath)
    {
        string path = PathFor(tracePath);
        TraceSidecar? s;
        try
        {
            s = JsonSerializer.Deserialize<TraceSidecar>(File.ReadAllText(path), s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a trace sidecar: {e.Message}", e);
        }
        if (s == null || string.IsNullOrEmpty(s.Scenario) || string.IsNullOrEmpty(s.Impl) || s.Build is not (SeededBuild or CleanBuild))
            throw new InvalidDataException($"{path} is not a trace sidecar (scenario, impl and build \"seeded\" or \"clean\" are required)");
        return s;
    }
}
