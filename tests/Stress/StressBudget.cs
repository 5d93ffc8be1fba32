// StressBudget: how long the stress suite runs and with which seed. GOALLOC_STRESS_SECONDS is the
// wall-clock budget per implementation (default 60: the test command on 2 cores; the nightly run
// sets 1800 for an hour in total), split evenly over the thread counts and the two profiles; GOALLOC_STRESS_SEED fixes
// the seed (default 20), so a failing run can be repeated with the seed it printed.
using System.Globalization;

namespace GoAlloc.Stress.Tests;

internal static class StressBudget
{
    public const string SecondsVariable = "GOALLOC_STRESS_SECONDS";
    public const string SeedVariable = "GOALLOC_STRESS_SEED";
    public const double DefaultSeconds = 60;
    public const ulong DefaultSeed = 20;

    /// <summary>The thread counts each implementation runs with (the budget is split between them).</summary>
    public static readonly int[] ThreadCounts = [2, 4, 8];

    public static double SecondsPerImplementation
    {
        get
        {
            string? v = Environment.GetEnvironmentVariable(SecondsVariable);
            if (string.IsNullOrWhiteSpace(v))
                return DefaultSeconds;
            if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s <= 0)
                throw new InvalidOperationException($"{SecondsVariable}='{v}': expected a positive number of seconds");
            return s;
        }
    }

    public static ulong Seed
    {
        get
        {
            string? v = Environment.GetEnvironmentVariable(SeedVariable);
            if (string.IsNullOrWhiteSpace(v))
                return DefaultSeed;
            if (!ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong s))
                throw new InvalidOperationException($"{SeedVariable}='{v}': expected an unsigned integer");
            return s;
        }
    }

    /// <summary>Each implementation runs every thread count in two profiles (long epochs, many cycles).</summary>
    public static TimeSpan PerRun => TimeSpan.FromSeconds(SecondsPerImplementation / (2 * ThreadCounts.Length));
}
