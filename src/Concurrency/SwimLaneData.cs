// SwimLaneData: the interleaving of `alloc reproduce` as swim lanes (one per task: the managed
// thread that acted), read back from the reproduce text. The runner (Program, a separate process
// that `alloc` runs from its rewritten copy) prints each allocator step of the replayed schedule
// as one line (Interleaving.cs, from the allocator's HeapTraceEvent):
//      12  P1 (thread 9)    cacheSpan spc 52 (1024 B): popped fullUnswept span +0x1c000, CAS sg-2 -> sg-1 (heap sg 4)
// That line is the only record of the steps that leaves the tool, so it is the source here: its
// step number, P ("--": none), thread, operation (the description's first word), span (offset
// from the arena start), span class, the sweepgen shown (before -> after, or the one in
// parentheses; relative to the heap's sg) and the heap's sg. Everything the text carries is kept
// (Text); a field the line does not carry is null. Also read: the scenario line, the first line of
// the failure and the verdict (REPRODUCED / NOT REPRODUCED). Other lines are ignored.
using System.Text.RegularExpressions;

namespace GoAlloc.Concurrency;

/// <summary>One allocator step: who (thread, P) did what (Operation) to which span, with the sweepgen shown.</summary>
public sealed record SwimStep(
    int Number, int Thread, int? P, string Operation, long? SpanOffset, string? SpanClass, string? SweepGen, uint? HeapSweepGen, string Text);

/// <summary>A lane: one task (managed thread), the Ps it worked for, its steps in order.</summary>
public sealed record SwimLane(int Thread, IReadOnlyList<int> Ps, IReadOnlyList<SwimStep> Steps)
{
    public string Label => Ps.Count == 0 ? $"thread {Thread} (no P)" : $"thread {Thread} ({string.Join(", ", Ps.Select(p => "P" + p))})";
}

public sealed partial class SwimLaneData
{
    /// <summary>The steps in the order of the schedule.</summary>
    public required IReadOnlyList<SwimStep> Steps { get; init; }
    /// <summary>One lane per thread, in the order of each thread's first step.</summary>
    public required IReadOnlyList<SwimLane> Lanes { get; init; }
    /// <summary>"scenario ... on ..., seeded bug ..." from the reproduce header, or null.</summary>
    public string? Scenario { get; init; }
    /// <summary>The first line of the failure, or null.</summary>
    public string? Failure { get; init; }
    /// <summary>"REPRODUCED: ..." / "NOT REPRODUCED: ...", or null.</summary>
    public string? Verdict { get; init; }

    [GeneratedRegex(@"^\s*(?<n>\d+)\s{2}(?:P(?<p>\d+)|--) \(thread (?<t>\d+)\)\s+(?<what>\S.*)$")]
    private static partial Regex StepLine();

    [GeneratedRegex(@"span \+0x(?<off>[0-9a-f]+)")]
    private static partial Regex SpanPart();

    [GeneratedRegex(@"spc (?<spc>\d+ \([^)]*\))")]
    private static partial Regex SpanClassPart();

    [GeneratedRegex(@"(?<b>sg(?:[+-]\d+)?|\d+) -> (?<a>sg(?:[+-]\d+)?|\d+)")]
    private static partial Regex Transition();

    [GeneratedRegex(@"\((?<sg>sg(?:[+-]\d+)?)\)")]
    private static partial Regex SingleSweepGen();

    [GeneratedRegex(@"\(heap sg (?<sg>\d+)\)")]
    private static partial Regex HeapSweepGenPart();

    /// <summary>Reads the steps (and scenario, failure, verdict) from reproduce output lines.</summary>
    public static SwimLaneData Parse(IEnumerable<string> lines)
    {
        var steps = new List<SwimStep>();
        string? scenario = null, failure = null, verdict = null;
        bool inFailure = false;
        foreach (string line in lines)
        {
            if (inFailure && failure == null && line.Trim().Length > 0)
            {
                failure = line.Trim();
                inFailure = false;
                continue;
            }
            if (line.StartsWith("failure:", StringComparison.Ordinal))
            {
                inFailure = true;
                continue;
            }
            if (line.StartsWith("REPRODUCED", StringComparison.Ordinal) || line.StartsWith("NOT REPRODUCED", StringComparison.Ordinal))
            {
                verdict = line.Trim();
                continue;
            }
            if (scenario == null && line.StartsWith("  scenario ", StringComparison.Ordinal))
            {
                scenario = line.Trim();
                continue;
            }
            if (ParseStep(line) is { } step)
                steps.Add(step);
        }
        var lanes = steps.GroupBy(s => s.Thread)
            .Select(g => new SwimLane(g.Key, [.. g.Where(s => s.P != null).Select(s => s.P!.Value).Distinct().Order()], [.. g]))
            .ToList();
        return new SwimLaneData { Steps = steps, Lanes = lanes, Scenario = scenario, Failure = failure, Verdict = verdict };
    }

    /// <summary>One step line, or null when the line is not one.</summary>
    public static SwimStep? ParseStep(string line)
    {
        Match m = StepLine().Match(line);
        if (!m.Success)
            return null;
        string what = m.Groups["what"].Value.TrimEnd();
        string operation = what.Split(' ', 2)[0].TrimEnd(':');
        Match span = SpanPart().Match(what);
        Match spc = SpanClassPart().Match(what);
        Match transition = Transition().Match(what);
        Match single = SingleSweepGen().Match(what);
        Match heapSg = HeapSweepGenPart().Match(what);
        string? sweepGen = transition.Success ? $"{transition.Groups["b"].Value} -> {transition.Groups["a"].Value}"
            : single.Success ? single.Groups["sg"].Value
            : null;
        return new SwimStep(
            int.Parse(m.Groups["n"].Value),
            int.Parse(m.Groups["t"].Value),
            m.Groups["p"].Success ? int.Parse(m.Groups["p"].Value) : null,
            operation,
            span.Success ? Convert.ToInt64(span.Groups["off"].Value, 16) : null,
            spc.Success ? spc.Groups["spc"].Value : null,
            sweepGen,
            heapSg.Success ? uint.Parse(heapSg.Groups["sg"].Value) : null,
            what);
    }
}
