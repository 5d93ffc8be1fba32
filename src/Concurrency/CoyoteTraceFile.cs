// CoyoteTraceFile: checks that a file is a Coyote 1.7 reproducible trace before anything replays
// it: a JSON object with a "Settings" object and a non-empty "Steps" array of strings (one
// scheduling decision each, "op(..),sp(..),next(..)"). A truncated or damaged file is reported as
// bad input (exit 2) with the JSON reader's position, instead of an unhandled exception in the
// Coyote engine. `alloc reproduce` checks before it starts the runner; the runner (Program) checks
// again before it replays and compares the steps the replay took with StepCount (a sidecar naming
// another scenario makes the schedule diverge).
using System.Text.Json;

namespace GoAlloc.Concurrency;

public static class CoyoteTraceFile
{
    /// <summary>The number of scheduling steps in the trace, or null with the reason it is not a Coyote trace.</summary>
    public static int? StepCount(string path, out string problem)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("Settings", out JsonElement settings) || settings.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("Steps", out JsonElement steps) || steps.ValueKind != JsonValueKind.Array)
            {
                problem = $"{path} is not a Coyote trace (no \"Settings\" object and \"Steps\" array)";
                return null;
            }
            int n = 0;
            foreach (JsonElement step in steps.EnumerateArray())
            {
                if (step.ValueKind != JsonValueKind.String || !step.GetString()!.StartsWith("op(", StringComparison.Ordinal))
                {
                    problem = $"{path} is a damaged Coyote trace: step {n + 1} is not a scheduling step";
                    return null;
                }
                n++;
            }
            if (n == 0)
            {
                problem = $"{path} is a Coyote trace with no steps";
                return null;
            }
            problem = "";
            return n;
        }
        catch (JsonException e)
        {
            problem = $"{path} is not a Coyote trace (truncated or damaged?): {e.Message}";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot read {path}: {e.Message}";
            return null;
        }
    }
}
