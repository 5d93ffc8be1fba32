// GoSizeClassData: reads tests/Unit/Data/go116-sizeclasses.txt, the verbatim tables of Go 1.16's
// runtime/sizeclasses.go (copied to the output directory as Data/go116-sizeclasses.txt). Every
// table is parsed independently, so a test can hold SizeClasses.* and the generator against each
// one: the const block, the comment table (bytes/obj, bytes/span, objects, tail waste, max waste),
// class_to_size, class_to_allocnpages, size_to_class8, size_to_class128, class_to_divmagic and the
// per-class nelems list. The parser is strict: a missing section or a wrong length throws.
using System.Globalization;
using System.Text.RegularExpressions;

namespace GoAlloc.Tests.Helpers;

/// <summary>One row of the comment table at the top of sizeclasses.go; MaxWaste as printed ("87.50").</summary>
public readonly record struct ClassRow(int Class, int Size, int SpanBytes, int Objects, int TailWaste, string MaxWaste);

public sealed partial class GoSizeClassData
{
    public required IReadOnlyDictionary<string, int> Constants { get; init; }
    public required IReadOnlyList<ClassRow> Table { get; init; }
    public required int[] ClassToSize { get; init; }
    public required int[] ClassToAllocNPages { get; init; }
    public required int[] SizeToClass8 { get; init; }
    public required int[] SizeToClass128 { get; init; }
    public required DivMagic[] ClassToDivMagic { get; init; }
    /// <summary>nelems per class (index = class, 0 for class 0) from the "Per-class derived" list.</summary>
    public required int[] NElems { get; init; }

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "Data", "go116-sizeclasses.txt");

    private static GoSizeClassData? s_default;

    /// <summary>The data file next to the test assembly, parsed once.</summary>
    public static GoSizeClassData Default => s_default ??= Load(DefaultPath);

    public static GoSizeClassData Load(string path)
    {
        string[] lines = File.ReadAllLines(path);
        int n = Constant(lines, "_NumSizeClasses");
        var constants = new Dictionary<string, int>();
        foreach (string name in new[] { "_MaxSmallSize", "smallSizeDiv", "smallSizeMax", "largeSizeDiv", "_NumSizeClasses", "_PageShift" })
            constants[name] = Constant(lines, name);

        var table = new List<ClassRow>();
        foreach (string line in lines)
        {
            Match m = TableRow().Match(line);
            if (m.Success)
            {
                table.Add(new ClassRow(Int(m.Groups[1]), Int(m.Groups[2]), Int(m.Groups[3]), Int(m.Groups[4]), Int(m.Groups[5]),
                    m.Groups[6].Value));
            }
        }

        var divMagic = new DivMagic[n];
        int seenMagic = 0;
        foreach (string line in lines)
        {
            Match m = DivMagicRow().Match(line);
            if (!m.Success)
                continue;
            divMagic[Int(m.Groups[1])] = new DivMagic((byte)Int(m.Groups[3]), (byte)Int(m.Groups[4]), (ushort)Int(m.Groups[5]), (ushort)Int(m.Groups[6]));
            seenMagic++;
        }
        if (seenMagic != n)
            throw new FormatException($"class_to_divmagic: {seenMagic} rows, expected {n}");

        var nelems = new int[n];
        int seenNElems = 0;
        foreach (string line in lines)
        {
            Match m = NElemsRow().Match(line);
            if (!m.Success)
                continue;
            nelems[Int(m.Groups[1])] = Int(m.Groups[4]);
            seenNElems++;
        }
        if (seenNElems != n - 1)
            throw new FormatException($"per-class list: {seenNElems} rows, expected {n - 1}");

        return new GoSizeClassData
        {
            Constants = constants,
            Table = table,
            ClassToSize = Array(lines, "class_to_size"),
            ClassToAllocNPages = Array(lines, "class_to_allocnpages"),
            SizeToClass8 = Array(lines, "size_to_class8"),
            SizeToClass128 = Array(lines, "size_to_class128"),
            ClassToDivMagic = divMagic,
            NElems = nelems,
        };
    }

    /// <summary>"  name = value  // comment" inside the const block.</summary>
    private static int Constant(string[] lines, string name)
    {
        foreach (string line in lines)
        {
            Match m = ConstLine().Match(line);
            if (m.Success && m.Groups[1].Value == name)
                return Int(m.Groups[2]);
        }
        throw new FormatException($"constant {name} not found");
    }

    /// <summary>"name [..]type  (len N)" followed by comma-separated numbers up to the next blank line.</summary>
    private static int[] Array(string[] lines, string name)
    {
        int at = System.Array.FindIndex(lines, l => l.StartsWith(name + " [", StringComparison.Ordinal));
        if (at < 0)
            throw new FormatException($"table {name} not found");
        Match len = LenSuffix().Match(lines[at]);
        if (!len.Success)
            throw new FormatException($"table {name}: no (len N)");
        var values = new List<int>();
        for (int i = at + 1; i < lines.Length && lines[i].Trim().Length != 0; i++)
        {
            foreach (string tok in lines[i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                values.Add(int.Parse(tok, CultureInfo.InvariantCulture));
        }
        if (values.Count != Int(len.Groups[1]))
            throw new FormatException($"table {name}: {values.Count} values, header says {len.Groups[1].Value}");
        return values.ToArray();
    }

    private static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\s*(\w+)\s*=\s*(\d+)")]
    private static partial Regex ConstLine();

    [GeneratedRegex(@"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d\d)%\s*$")]
    private static partial Regex TableRow();

    [GeneratedRegex(@"^\s+class\s+(\d+) size\s+(\d+): \{(\d+), (\d+), (\d+), (\d+)\}\s*$")]
    private static partial Regex DivMagicRow();

    [GeneratedRegex(@"^\s+(\d+) size=\s*(\d+) npages=\s*(\d+) nelems=\s*(\d+)\s*$")]
    private static partial Regex NElemsRow();

    [GeneratedRegex(@"\(len (\d+)\)\s*$")]
    private static partial Regex LenSuffix();
}
