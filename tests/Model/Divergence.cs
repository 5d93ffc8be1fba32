// Divergence: one way a DivergentHeap departs from the heap it wraps: a channel the lock-step
// comparator checks and, where the channel has parts, the part ("Stats.HeapAlloc",
// "FindObject.Base", "Samples.P"). All lists every one; the parts of HeapStats, SizeClassStats,
// ObjectInfo and SampledAllocation are found by reflection, so a field added to any of them is a
// new divergence the self-check tests must catch. ReportSays is what the comparator's report
// (EquivalenceException's message) must contain to name the channel.
using System.Reflection;

namespace GoAlloc.Model;

public sealed record Divergence(LockstepChannel Channel, string Part = "")
{
    /// <summary>Stats part: one more (zero-valued) BySize entry than the wrapped heap reports.</summary>
    public const string BySizeLength = "BySize.Length";
    /// <summary>Stats part prefix: one field of the first BySize entry in use.</summary>
    public const string BySizeEntry = "BySize[].";
    /// <summary>FindObject part: found reported as not found.</summary>
    public const string Found = "Found";
    /// <summary>FreedList / Samples part: the first report is not made.</summary>
    public const string Dropped = "Dropped";
    /// <summary>ExceptionType parts: another type thrown; nothing thrown (a default answer); a throw where the wrapped heap returned.</summary>
    public const string Changed = "Changed", Swallowed = "Swallowed", Thrown = "Thrown";
    /// <summary>FreedList parts: the address or the size of each report changed.</summary>
    public const string FreedAddress = "Address", FreedSize = "Size";

    public string Name => Part.Length == 0 ? Channel.ToString() : $"{Channel}.{Part}";

    public override string ToString() => Name;

    /// <summary>Every divergence, one per channel part.</summary>
    public static IReadOnlyList<Divergence> All { get; } = BuildAll();

    private static List<Divergence> BuildAll()
    {
        static IEnumerable<string> Props(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name);
        var all = new List<Divergence> { new(LockstepChannel.Address) };
        all.AddRange(new[] { Dropped, FreedAddress, FreedSize }.Select(p => new Divergence(LockstepChannel.FreedList, p)));
        all.AddRange(Props(typeof(SampledAllocation)).Prepend(Dropped).Select(p => new Divergence(LockstepChannel.Samples, p)));
        all.AddRange(new[] { Changed, Swallowed, Thrown }.Select(p => new Divergence(LockstepChannel.ExceptionType, p)));
        all.AddRange(Props(typeof(ObjectInfo)).Prepend(Found).Select(p => new Divergence(LockstepChannel.FindObject, p)));
        all.Add(new(LockstepChannel.Mark));
        all.Add(new(LockstepChannel.SweepOne));
        all.Add(new(LockstepChannel.Scavenge));
        foreach (PropertyInfo f in HeapStatsFields.Stored)
        {
            if (f.PropertyType == typeof(long))
            {
                all.Add(new(LockstepChannel.Stats, f.Name));
                continue;
            }
            // The BySize array (HeapStatsFields refuses any other type): each entry field, and its length.
            all.AddRange(HeapStatsFields.SizeClassFields.Select(p => new Divergence(LockstepChannel.Stats, BySizeEntry + p.Name)));
            all.Add(new(LockstepChannel.Stats, BySizeLength));
        }
        all.Add(new(LockstepChannel.SweepDone));
        all.Add(new(LockstepChannel.ProcessorId));
        all.Add(new(LockstepChannel.Phase));
        return all;
    }

    /// <summary>The divergence with this Name.</summary>
    public static Divergence Parse(string name) =>
        All.SingleOrDefault(d => d.Name == name) ?? throw new ArgumentException($"no divergence named {name}", nameof(name));

    /// <summary>What the lock-step comparator's report must contain to name this channel (all of them).</summary>
    public string[] ReportSays => Channel switch
    {
        LockstepChannel.Address => [".Alloc(", ": reference=+0x"],
        LockstepChannel.FreedList => ["the sweeps freed different objects"],
        LockstepChannel.Samples => ["different heap-profile samples"],
        LockstepChannel.ExceptionType => Part switch
        {
            Changed => ["reference threw", "optimized threw"],
            Swallowed => ["reference threw", "optimized returned"],
            _ => ["reference returned", "optimized threw"],
        },
        LockstepChannel.FindObject => ["FindObject(", ": reference="],
        LockstepChannel.Mark => ["Mark(", ": reference="],
        LockstepChannel.SweepOne => ["SweepOne(): reference="],
        LockstepChannel.Scavenge => ["Scavenge(", ": reference="],
        LockstepChannel.Stats => ["stats differ", Part == BySizeLength ? BySizeLength : Part.StartsWith(BySizeEntry, StringComparison.Ordinal) ? $"].{Part[BySizeEntry.Length..]}: " : $"{Part}: "],
        LockstepChannel.SweepDone => ["SweepDone: reference="],
        LockstepChannel.ProcessorId => ["AcquireP(", ": reference=P"],
        LockstepChannel.Phase => ["Phase: reference="],
        _ => throw new ArgumentOutOfRangeException(nameof(Channel)),
    };
}
