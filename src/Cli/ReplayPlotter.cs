// ReplayPlotter: `alloc replay --plot FILE.png` between the replay and the picture. Attach adds
// the AtEnd hook to the replay's options, which walks each heap's spans (SpanOccupancy) after the
// last event, before the heap is disposed; Write builds HeapPlotData from the replay results' cycle
// rows and those walks and saves the picture (HeapPlot). Only the replay it is attached to is
// walked (the lockstep one, not the timed solo runs, whose figures are the same). It decides no
// outcome of the replay: Write returns Ok or Usage (the picture could not be written).
using GoAlloc.Replay;
using Spectre.Console;

namespace GoAlloc.Cli;

public sealed class ReplayPlotter(string path)
{
    private readonly Dictionary<string, SpanOccupancy> _occupancy = [];
    private readonly List<string> _walkErrors = [];

    public string Path { get; } = path;

    /// <summary>The walks so far, by implementation name.</summary>
    public IReadOnlyDictionary<string, SpanOccupancy> Occupancy => _occupancy;

    /// <summary>The options with the AtEnd hook that walks each heap's spans.</summary>
    public ReplayOptions Attach(ReplayOptions options) => options with { AtEnd = Walk };

    private void Walk(string implementation, IHeap heap)
    {
        try
        {
            _occupancy[implementation] = SpanOccupancy.Read(heap);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A heap left broken by a failed replay: the picture goes without its heat map.
            _walkErrors.Add($"{implementation}: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The picture's data for these results (the replay this plotter was attached to).</summary>
    public HeapPlotData Data(string tracePath, IReadOnlyList<ReplayResult> results) =>
        HeapPlotData.From($"{System.IO.Path.GetFileName(tracePath)}: heap per GC cycle ({string.Join(" and ", results.Select(r => r.Implementation))})",
            results, _occupancy);

    /// <summary>Saves the picture and prints where it went; Usage with a message on stderr when it cannot be written.</summary>
    public int Write(IAnsiConsole console, TextWriter error, string tracePath, IReadOnlyList<ReplayResult> results)
    {
        HeapPlotData data = Data(tracePath, results);
        try
        {
            HeapPlot.Save(data, Path);
        }
        catch (PlotFileException e)
        {
            error.WriteLine($"alloc replay: {e.Message}");
            return ExitCodes.Usage;
        }
        foreach (string w in _walkErrors)
            error.WriteLine($"alloc replay: --plot: no span occupancy for {w}");
        int spans = data.Occupancy.Count > 0 ? data.Occupancy[0].Occupancy.Spans.Count : 0;
        ReplayReport.Line(console, $"plot: {Path} ({data.Series.Max(s => s.Cycles.Length)} GC cycles x {data.Series.Count} implementations; " +
            $"span occupancy: {spans:N0} small spans)");
        return ExitCodes.Ok;
    }
}
