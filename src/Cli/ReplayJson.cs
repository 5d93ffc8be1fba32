// ReplayJson: the machine-readable result of `alloc replay` (--json, --json-file), so CI can gate
// on fields instead of scraping tables. The schema is docs/alloc-replay.schema.json; its version is
// SchemaVersion (1), bumped on any change that removes or renames a field or changes its meaning
// (adding a field keeps it). Layout: the outcome ("ok" or "finding", with the exit code), the trace,
// the settings, the lockstep comparison (null for one implementation), and per implementation its
// cycles (memstats after each cycle's sweep), its summary (final stats, Verify, timings), its
// fidelity to Go's placement, and its disagreements. Sizes in bytes, times in milliseconds.
using System.Text.Encodings.Web;
using System.Text.Json;
using GoAlloc.Replay;

namespace GoAlloc.Cli;

public static class ReplayJson
{
    public const int SchemaVersion = 1;

    /// <summary>The JSON document of an outcome (indented, UTF-8 text).</summary>
    public static string Serialize(ReplayOutcome o)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            Write(w, o);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write(Utf8JsonWriter w, ReplayOutcome o)
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", SchemaVersion);
        w.WriteString("tool", "alloc replay");
        w.WriteString("toolVersion", typeof(ReplayJson).Assembly.GetName().Version?.ToString() ?? "0");
        w.WriteString("outcome", o.ExitCode == ExitCodes.Ok ? "ok" : "finding");
        w.WriteNumber("exitCode", o.ExitCode);

        Trace t = o.Trace;
        w.WriteStartObject("trace");
        w.WriteString("path", o.TracePath);
        w.WriteNumber("events", t.Events.Count);
        w.WriteNumber("allocs", t.Allocs);
        w.WriteNumber("frees", t.Frees);
        w.WriteNumber("gcCycles", t.Gcs);
        w.WriteNumber("malformedLines", t.MalformedLines);
        w.WriteBoolean("extended", t.Extended);
        w.WriteNumber("maxP", t.MaxP);
        w.WriteNumber("tinyAllocs", t.TinyAllocs);
        w.WriteNumber("noscanAllocs", t.NoscanAllocs);
        w.WriteNumber("noPAllocs", t.NoPAllocs);
        w.WriteEndObject();

        ReplaySettings s = o.Settings;
        w.WriteStartObject("settings");
        w.WriteString("impl", s.Impl);
        w.WriteNumber("procs", o.Results[0].Procs);
        w.WriteNumber("statsEvery", s.StatsEvery);
        w.WriteBoolean("scavenge", s.Scavenge);
        w.WriteNumber("malformedTolerance", s.MalformedTolerance);
        w.WriteEndObject();

        if (o.Lockstep is { } l)
        {
            w.WriteStartObject("lockstep");
            w.WriteString("oracle", l.A.Implementation);
            w.WriteString("checked", l.B.Implementation);
            w.WriteNumber("operations", l.Operations);
            w.WriteNumber("statsEvery", l.StatsEvery);
            w.WriteBoolean("agreed", l.Agreed);
            w.WriteNumber("wallMs", l.WallTime.TotalMilliseconds);
            if (l.Disagreement is { } d)
            {
                w.WriteStartObject("disagreement");
                w.WriteString("where", d.Where);
                w.WriteNumber("cycle", d.Cycle);
                w.WriteString("message", d.Message);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("disagreement");
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("lockstep");
        }

        w.WriteStartArray("implementations");
        for (int i = 0; i < o.Results.Count; i++)
            WriteImplementation(w, o.Results[i], o.Timed[i], o.Median?[i], o.SoloFailed.Any(f => f.Implementation == o.Results[i].Implementation));
        w.WriteEndArray();

        w.WriteStartArray("differences");
        foreach (string d in o.Differences)
            w.WriteStringValue(d);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteImplementation(Utf8JsonWriter w, ReplayResult r, ReplayResult timed, ReplayResult? median, bool soloFailed)
    {
        w.WriteStartObject();
        w.WriteString("name", r.Implementation);
        w.WriteBoolean("passed", r.Passed && !soloFailed);
        w.WriteNumber("procs", r.Procs);

        w.WriteStartArray("cycles");
        foreach (CycleRow c in r.Rows)
        {
            w.WriteStartObject();
            w.WriteNumber("cycle", c.Cycle);
            w.WriteNumber("allocs", c.AllocsSinceLastCycle);
            w.WriteNumber("traceFrees", c.TraceFrees);
            w.WriteNumber("swept", c.SweepFrees);
            w.WriteNumber("unpaired", c.Unpaired);
            w.WriteNumber("heapSys", c.HeapSys);
            w.WriteNumber("heapInuse", c.HeapInuse);
            w.WriteNumber("heapAlloc", c.HeapAlloc);
            w.WriteNumber("heapReleased", c.HeapReleased);
            w.WriteNumber("scavenged", c.ScavengedBytes);
            w.WriteNumber("liveObjects", c.LiveObjects);
            w.WriteNumber("traceLiveObjects", c.TraceLiveObjects);
            w.WriteNumber("traceLiveBytes", c.TraceLiveBytes);
            w.WriteNumber("disagreements", c.Disagreements);
            w.WriteStartArray("topClasses");
            foreach (ClassCount k in c.TopClasses)
            {
                w.WriteStartObject();
                w.WriteNumber("sizeClass", k.SizeClass);
                w.WriteNumber("size", k.Size);
                w.WriteNumber("objects", k.Objects);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();

        w.WriteStartObject("summary");
        w.WriteNumber("cycles", r.Cycles);
        w.WriteNumber("allocations", r.Allocations);
        w.WriteNumber("pairedTraceFrees", r.Plan.PairedFrees);
        w.WriteNumber("sweepFrees", r.SweepFrees);
        w.WriteNumber("unpairedTraceEvents", r.Plan.UnpairedEvents);
        w.WriteNumber("heapSys", r.FinalStats.HeapSys);
        w.WriteNumber("heapInuse", r.FinalStats.HeapInuse);
        w.WriteNumber("heapAlloc", r.FinalStats.HeapAlloc);
        w.WriteNumber("heapReleased", r.FinalStats.HeapReleased);
        w.WriteNumber("heapObjects", r.FinalStats.HeapObjects);
        w.WriteNumber("disagreementCount", r.DisagreementCount);
        w.WriteBoolean("verifyPassed", r.Failure == null);
        w.WriteNumber("verifyPasses", r.VerifyPasses);
        if (r.Failure != null)
            w.WriteString("failure", r.Failure);
        else
            w.WriteNull("failure");
        w.WriteStartObject("timing");
        w.WriteNumber("wallMs", timed.WallTime.TotalMilliseconds);
        w.WriteNumber("verifyMs", timed.VerifyTime.TotalMilliseconds);
        w.WriteNumber("allocatorMs", timed.AllocatorTime.TotalMilliseconds);
        w.WriteNumber("replayerMs", timed.ReplayerTime.TotalMilliseconds);
        w.WriteNumber("allocationsPerSecond", timed.AllocationsPerSecond);
        if (median != null)
            w.WriteNumber("medianWallMs", median.WallTime.TotalMilliseconds);
        else
            w.WriteNull("medianWallMs");
        if (timed.AllocatorAloneTime is { } alone)
        {
            w.WriteNumber("allocatorAloneMs", alone.TotalMilliseconds);
            w.WriteNumber("allocatorAloneAllocationsPerSecond", timed.AllocatorAloneAllocationsPerSecond);
        }
        else
        {
            w.WriteNull("allocatorAloneMs");
            w.WriteNull("allocatorAloneAllocationsPerSecond");
        }
        w.WriteEndObject();
        w.WriteEndObject();

        ReplayFidelity f = r.Fidelity;
        w.WriteStartObject("fidelity");
        w.WriteNumber("tinyAllocs", f.TinyAllocs);
        w.WriteNumber("tinyAgree", f.TinyAgree);
        w.WriteStartObject("tinyMismatches");
        foreach (TinyMismatch k in Enum.GetValues<TinyMismatch>())
            w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(k.ToString()), f.TinyMismatches.GetValueOrDefault(k));
        w.WriteEndObject();
        w.WriteNumber("packPairs", f.PackPairs);
        w.WriteNumber("packAgree", f.PackAgree);
        w.WriteNumber("goAdjacent", f.GoAdjacent);
        w.WriteNumber("ourAdjacent", f.OurAdjacent);
        w.WriteNumber("cycles", f.Cycles);
        w.WriteNumber("cyclesLiveEqual", f.CyclesLiveEqual);
        w.WriteNumber("maxLiveObjectsDiff", f.MaxLiveObjectsDiff);
        w.WriteNumber("maxLiveBytesDiff", f.MaxLiveBytesDiff);
        w.WriteEndObject();

        w.WriteStartArray("disagreements");
        foreach (Disagreement d in r.Disagreements)
        {
            w.WriteStartObject();
            w.WriteNumber("cycle", d.Cycle);
            w.WriteString("kind", d.Kind.ToString());
            w.WriteString("message", d.Message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
