// PropertyRunner: how every property of this project is run and how big its budget is. A property
// is an xunit [Fact] that calls PropertyRunner.Check(name, defaultCases, property): FsCheck's
// [Property(MaxTest = ...)] attribute cannot read the environment, this can.
//   GOALLOC_PROPERTY_SCALE=N   multiplies every property's number of cases by N (default 1; the
//                              nightly run uses e.g. 20).
//   GOALLOC_PROPERTY_REPLAY="(seed,gamma)" or "(seed,gamma,size)"   replays a failure that FsCheck
//                              reported (it prints the pair after "Falsifiable ...").
//   GOALLOC_PROPERTY_TRACE=path  writes each heap scenario to path.t{thread} before running it (for crashes).
// Under the Mutation build configuration (MUTATION defined) every property runs 1/20 of its budget
// from a fixed seed, so Stryker sees the same inputs on every run (GOALLOC_PROPERTY_SCALE is ignored).
// On failure the exception message keeps FsCheck's seed lines, the label (which names the failing
// step and the exception, with its INV id) and the shrunk counterexample; the unshrunk original,
// often hundreds of steps, is dropped.
using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck;
using Microsoft.FSharp.Core;

namespace GoAlloc.Properties;

public static partial class PropertyRunner
{
    public const string ScaleVariable = "GOALLOC_PROPERTY_SCALE";
    public const string ReplayVariable = "GOALLOC_PROPERTY_REPLAY";

#if MUTATION
    /// <summary>The fixed seed of the Mutation configuration.</summary>
    private static readonly FsCheck.Replay s_mutationReplay = new(new Rnd(0x5EED_0A11_0C00_0001UL, 0x9E37_79B9_7F4A_7C15UL), FSharpOption<int>.None);
#endif

    /// <summary>The case multiplier from GOALLOC_PROPERTY_SCALE (1 when unset or invalid).</summary>
    public static int Scale { get; } = ReadScale();

    private static int ReadScale()
    {
        string? v = Environment.GetEnvironmentVariable(ScaleVariable);
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n : 1;
    }

    /// <summary>The number of cases a property with this default budget runs in this configuration.</summary>
    /// <param name="mutationCases">The budget under Mutation, when 1/20 of the default is too slow
    /// for a per-mutant run (the whole-heap equivalence properties).</param>
    public static int Cases(int defaultCases, int? mutationCases = null)
    {
#if MUTATION
        // Stryker runs the covering tests once per mutant on instrumented code: keep it to a fraction.
        return mutationCases ?? Math.Max(5, defaultCases / 20);
#else
        _ = mutationCases;
        return checked(defaultCases * Scale);
#endif
    }

    /// <summary>The FsCheck configuration: budget, replay seed, throw on failure.</summary>
    public static Config ConfigFor(string name, int defaultCases, int endSize = 100, int startSize = 1, int? mutationCases = null)
    {
        Config config = Config.QuickThrowOnFailure
            .WithName(name)
            .WithMaxTest(Cases(defaultCases, mutationCases))
            .WithStartSize(startSize)
            .WithEndSize(endSize)
            .WithQuietOnSuccess(true);
        FsCheck.Replay? replay = ReadReplay();
#if MUTATION
        replay ??= s_mutationReplay;
#endif
        if (replay != null)
            config = config.WithReplay(FSharpOption<FsCheck.Replay>.Some(replay));
        return config;
    }

    private static FsCheck.Replay? ReadReplay()
    {
        string? v = Environment.GetEnvironmentVariable(ReplayVariable);
        if (string.IsNullOrWhiteSpace(v))
            return null;
        string[] parts = v.Trim().Trim('(', ')').Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3)
            throw new FormatException($"{ReplayVariable}=\"{v}\": expected (seed,gamma) or (seed,gamma,size)");
        var rnd = new Rnd(ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
        FSharpOption<int> size = parts.Length == 3 ? FSharpOption<int>.Some(int.Parse(parts[2], CultureInfo.InvariantCulture)) : FSharpOption<int>.None;
        return new FsCheck.Replay(rnd, size);
    }

    /// <summary>
    /// GOALLOC_PROPERTY_TRACE=path: every heap scenario is written to path.t{thread} (overwriting it)
    /// before it runs, so when the test host itself dies (a crash in unsafe code) the file of the
    /// crashing thread names the culprit.
    /// </summary>
    public const string TraceVariable = "GOALLOC_PROPERTY_TRACE";

    private static readonly string? s_tracePath = Environment.GetEnvironmentVariable(TraceVariable);
    private static readonly Lock s_traceLock = new();

    public static void TraceScenario(object scenario)
    {
        if (string.IsNullOrEmpty(s_tracePath))
            return;
        int thread = Environment.CurrentManagedThreadId;
        lock (s_traceLock)
            File.WriteAllText($"{s_tracePath}.t{thread}", $"{DateTime.UtcNow:O} thread {thread}{scenario}\n");
    }

    /// <summary>Checks the property; on failure throws PropertyFailedException with the shrunk counterexample.</summary>
    public static void Check(string name, int defaultCases, Property property, int endSize = 100, int startSize = 1, int? mutationCases = null)
    {
        try
        {
            FsCheck.Check.One(ConfigFor(name, defaultCases, endSize, startSize, mutationCases), property);
        }
        catch (Exception e) when (e.Message.Contains("Falsifiable", StringComparison.Ordinal) || e.Message.Contains("exhausted", StringComparison.Ordinal))
        {
            throw new PropertyFailedException($"{Trim(e.Message)}\n(replay: {ReplayVariable}=\"(seed,gamma)\" with the pair above)");
        }
    }

    /// <summary>Drops the "Original:" counterexample (FsCheck prints it before the shrunk one).</summary>
    internal static string Trim(string message)
    {
        Match m = OriginalSection().Match(message);
        return m.Success ? message.Remove(m.Index, m.Length) : message;
    }

    [GeneratedRegex(@"Original:\n.*?(?=Shrunk:\n)", RegexOptions.Singleline)]
    private static partial Regex OriginalSection();
}

/// <summary>A property found a counterexample; the message is FsCheck's report without the unshrunk original.</summary>
public sealed class PropertyFailedException(string message) : Exception(message);
