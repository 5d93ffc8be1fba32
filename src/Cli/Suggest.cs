// Suggest: "did you mean" for a mistyped option, command or value: the candidate nearest to what
// was typed by edit distance (Levenshtein: insert, delete, substitute, each 1; an adjacent swap
// counts 1 too), if it is near enough to be a typo (at most a third of the longer word, at least
// one edit allowed) or the typed word is a prefix of exactly one candidate.
namespace GoAlloc.Cli;

public static class Suggest
{
    /// <summary>The candidate nearest to typed, or null when none is plausibly what was meant.</summary>
    public static string? Closest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        var prefixed = new List<string>();
        foreach (string c in candidates.Distinct())
        {
            int d = Distance(typed.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
            if (typed.Length >= 3 && c.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
                prefixed.Add(c);
        }
        if (best != null && bestDistance > 0 && bestDistance <= Math.Max(1, Math.Max(typed.Length, best.Length) / 3))
            return best;
        return prefixed.Count == 1 ? prefixed[0] : null;
    }

    /// <summary>" (did you mean 'x'?)" or "".</summary>
    public static string DidYouMean(string typed, IEnumerable<string> candidates) =>
        Closest(typed, candidates) is { } s ? $" (did you mean '{s}'?)" : "";

    /// <summary>Optimal string alignment distance (Levenshtein with adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
