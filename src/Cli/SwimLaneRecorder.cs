// SwimLaneRecorder: `alloc explore ... --swimlane FILE.png` and `alloc reproduce ... --swimlane
// FILE.png`. The concurrency tool's output is relayed as always; the recorder also keeps its
// stdout lines (ConcurrencyRun.OnOutputLine), reads the steps from them (SwimLaneData) and draws
// them (SwimLanePlot). reproduce prints the interleaving itself. explore prints none: on a bug it
// prints the saved trace ("trace:     <path>"), which the recorder then reproduces (same build,
// output relayed) to get the steps. No bug, or a schedule without allocator steps: nothing to
// draw, said on stderr, no file written. The exit code is the run's (explore's, not the reproduce
// run's: 1 = a bug was found), or Usage when the picture cannot be written.
using GoAlloc.Concurrency;

namespace GoAlloc.Cli;

public sealed class SwimLaneRecorder(string path, TextWriter output, TextWriter error, Func<ConcurrencyRun, int> launch)
{
    /// <summary>The line of explore's output that names the saved trace.</summary>
    public const string TraceLinePrefix = "trace:";

    /// <summary>Explores; on a bug, reproduces the saved trace and draws its interleaving.</summary>
    public int Explore(ConcurrencyRun run)
    {
        var lines = new List<string>();
        int rc = launch(run with { OnOutputLine = Keep(lines) });
        string? trace = lines.Where(l => l.StartsWith(TraceLinePrefix, StringComparison.Ordinal))
            .Select(l => l[TraceLinePrefix.Length..].Trim()).LastOrDefault();
        if (trace == null)
        {
            error.WriteLine("alloc explore: --swimlane: no bug found, so no interleaving to draw; no picture written");
            return rc;
        }
        int drawn = Reproduce(new ConcurrencyRun(run.Seeded, ["reproduce", trace]), "explore");
        return drawn == ExitCodes.Usage ? drawn : rc;
    }

    /// <summary>Reproduces and draws the interleaving.</summary>
    public int Reproduce(ConcurrencyRun run) => Reproduce(run, "reproduce");

    private int Reproduce(ConcurrencyRun run, string command)
    {
        var lines = new List<string>();
        int rc = launch(run with { OnOutputLine = Keep(lines) });
        SwimLaneData data = SwimLaneData.Parse(lines);
        if (data.Steps.Count == 0)
        {
            error.WriteLine($"alloc {command}: --swimlane: the replayed schedule has no allocator steps to draw; no picture written");
            return rc;
        }
        try
        {
            SwimLanePlot.Save(data, path);
        }
        catch (PlotFileException e)
        {
            error.WriteLine($"alloc {command}: {e.Message}");
            return ExitCodes.Usage;
        }
        output.WriteLine($"swimlane: {path} ({data.Steps.Count} steps in {data.Lanes.Count} lanes: " +
            string.Join(", ", data.Lanes.Select(l => l.Label)) + ")");
        return rc;
    }

    private static Action<string> Keep(List<string> lines) => line =>
    {
        lock (lines)
            lines.Add(line);
    };
}
