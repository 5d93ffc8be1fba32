// SampleTrace: finds the bundled sample trace (testdata/gofmt-go-ast-parser-gogc5-p2.trace.gz,
// recorded with tools/record/record-trace.sh: GOMAXPROCS=2, GOGC=5, extended format).
// src/Cli/Cli.csproj copies it next to the alloc binary (AppContext.BaseDirectory/testdata/); under
// `dotnet run` or from a test the repository's testdata/ is found by walking up from the binary and
// from the current directory. No Go counterpart.
namespace GoAlloc.Replay;

public static class SampleTrace
{
    public const string FileName = "gofmt-go-ast-parser-gogc5-p2.trace.gz";

    /// <summary>The first sample, in Go's own format (no p=, noscan=): kept as a format test.</summary>
    public const string OldFormatFileName = "gofmt-go-ast-parser-gogc5.trace.gz";

    /// <summary>The sample's path, or null if neither the copy next to the binary nor the repository's is there.</summary>
    public static string? Locate() => Locate(FileName);

    /// <summary>A bundled trace's path by file name, or null.</summary>
    public static string? Locate(string fileName)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (DirectoryInfo? dir = new(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "testdata", fileName);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }
}
