// explore + reproduce end to end, in-process, on one seeded bug (the seeded build only; the
// bugs are seeded in the Optimized):
// SweepgenPublishedAfterPush (a sweeper pushes a span to a swept set before publishing
// sweepgen = sg) on refill-sweep-flush. explore must find it and write the trace and its sidecar;
// reproduce must replay it from the sidecar alone, print the interleaving with its sweepgen steps
// (the bug's footprint: a span cached while its sweeper still holds it, sg-1 -> sg+3) and the
// recorded failure, and exit 0; with a sidecar naming another scenario it must exit 2.
#if SEEDED_BUGS
using System.Text.RegularExpressions;
using Xunit;

namespace GoAlloc.Concurrency;

public class ExploreReproduceTests
{
    [Fact]
    public void Explore_FindsASeededBug_ThenReproduce_PrintsTheInterleavingAndTheFailure()
    {
        (int exit, string output, string err) = ConcurrencyProgramTests.Run(
            "explore", "refill-sweep-flush", "--impl", "optimized", "--bug", "SweepgenPublishedAfterPush",
            "--strategy", "probabilistic", "--seed", "17", "--iterations", "500");
        Assert.True(exit == Program.Failed, output + err);
        Assert.Matches(@"iterations [\d,]+/500, bugs found 1", output); // the progress line at the bug
        Match found = Regex.Match(output, @"BUG found at iteration ([\d,]+): ");
        Assert.True(found.Success, output);
        // Progress every 50 iterations (a tenth of the budget) before the bug, each with no bug yet.
        if (int.Parse(found.Groups[1].Value, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture) > 50)
            Assert.Matches(@"iterations 50/500, bugs found 0", output);
        string trace = Regex.Match(output, @"^trace:\s+(.+)$", RegexOptions.Multiline).Groups[1].Value.Trim();
        Assert.True(File.Exists(trace), output);
        TraceSidecar meta = TraceSidecar.Read(trace);
        Assert.Equal(("refill-sweep-flush", "optimized", "probabilistic", 17u, "SweepgenPublishedAfterPush", TraceSidecar.SeededBuild),
            (meta.Scenario, meta.Impl, meta.Strategy, meta.Seed, meta.Bug, meta.Build));
        Assert.Contains($"reproduce: {CoyoteRunner.ReplayCommand(trace)}", output);

        (exit, output, err) = ConcurrencyProgramTests.Run("reproduce", trace);
        Assert.True(exit == Program.Ok, output + err);
        Assert.Contains("seeded bug SweepgenPublishedAfterPush (seeded build)", output);
        // Numbered allocator steps with sweepgen: sweep ownership won by CAS, and the bug's footprint.
        Assert.Matches(new Regex(@"^\s+\d+  (P\d|--) \(thread \d+\)\s+.*won it: sg-2 -> sg-1 \(heap sg 2\)$", RegexOptions.Multiline), output);
        // The bug's footprint: a swept span pushed to a swept set while its sweepgen still says "being swept".
        Assert.Matches(new Regex(@"^\s+\d+  (P\d|--) \(thread \d+\)\s+sweep span \+0x[0-9a-f]+ spc \d+ \(1024 B\) done: .*pushed to \w+Swept, sg-1 -> sg-1", RegexOptions.Multiline), output);
        // Then the failure: the recorded one (up to thread ids and addresses: an earlier failed
        // heap in this process still holds the first arena).
        Match failure = Regex.Match(output, @"^failure:\n  (.+)$", RegexOptions.Multiline);
        Assert.True(failure.Success, output);
        Assert.True(CoyoteRunner.SameFailure(meta.Failure, failure.Groups[1].Value), $"{failure.Groups[1].Value}\nrecorded: {meta.Failure}");
        Assert.Contains("REPRODUCED: the replay hit the recorded failure", output);
    }

    [Fact]
    public void Reproduce_ItsOwnSidecarReproduces_OneOfAnotherScenarioExitsTwo_NotNotReproducedOrACrash()
    {
        (int exit, string output, string err) = ConcurrencyProgramTests.Run(
            "explore", "refill-sweep-flush", "--impl", "optimized", "--bug", "RefillForgetsSg3", "--iterations", "100");
        Assert.True(exit == Program.Failed, output + err);
        string trace = Regex.Match(output, @"^trace:\s+(.+)$", RegexOptions.Multiline).Groups[1].Value.Trim();
        TraceSidecar meta = TraceSidecar.Read(trace);
        // Its own sidecar: reproduced (here as JSON).
        (exit, output, err) = ConcurrencyProgramTests.Run("reproduce", trace, "--json");
        Assert.True(exit == Program.Ok, output + err);
        using (var doc = System.Text.Json.JsonDocument.Parse(output))
        {
            Assert.True(doc.RootElement.GetProperty("reproduced").GetBoolean(), output);
            Assert.Equal("ok", doc.RootElement.GetProperty("outcome").GetString());
            Assert.True(doc.RootElement.GetProperty("allocatorSteps").GetInt32() > 0);
        }
        // The same schedule, its sidecar naming another scenario: the replay diverges.
        string other = Path.Combine(Path.GetTempPath(), $"coyote-{Guid.NewGuid():N}.trace");
        File.Copy(trace, other);
        (meta with { Scenario = "cycle-boundary" }).Write(other);
        try
        {
            (exit, output, err) = ConcurrencyProgramTests.Run("reproduce", other);
            Assert.True(exit == Program.Usage, output + err);
            Assert.Contains("does not fit cycle-boundary on optimized", err);
        }
        finally
        {
            File.Delete(other);
            File.Delete(TraceSidecar.PathFor(other));
        }
    }
}
#endif
