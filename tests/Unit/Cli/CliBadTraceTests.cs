// A trace is a file that can be wrong: `alloc replay` must say what is wrong and exit 2 (never OK)
// for an empty file, a truncated gzip, an unsupported compression, a file mostly or entirely
// malformed, a size that is not a positive hex number; --lenient tolerates a stated fraction (1%).
// Malformed lines are printed escaped and cut to 200 characters.
using System.IO.Compression;
using System.Text;
using GoAlloc.Cli;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliBadTraceTests
{
    private static (int Exit, string Out, string Err) Replay(byte[] content, bool lenient = false)
    {
        string path = Path.Combine(Path.GetTempPath(), $"alloc-bad-trace-{Guid.NewGuid():N}.trace");
        File.WriteAllBytes(path, content);
        try
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var command = new ReplayCommand(CliTestSupport.StringConsole(stdout), stderr);
            int exit = command.Run(ReplaySettings.Default with
            {
                TracePath = path,
                Impl = HeapFactories.Reference,
                MalformedTolerance = lenient ? ReplayCommand.LenientFraction : 0,
            });
            return (exit, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (int Exit, string Out, string Err) Replay(string text, bool lenient = false) =>
        Replay(Encoding.UTF8.GetBytes(text), lenient);

    private static byte[] Gzip(string text)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            gz.Write(Encoding.UTF8.GetBytes(text));
        return ms.ToArray();
    }

    /// <summary>Many well-formed lines, so a truncation falls inside the deflate data.</summary>
    private static string LongTrace(int allocs)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < allocs; i++)
            sb.Append($"tracealloc(0x{0xc000000000 + 16L * i:x}, 0x10)\n");
        sb.Append("tracegc()\n");
        return sb.ToString();
    }

    [Fact]
    public void EmptyFile_IsAUsageError()
    {
        (int exit, string output, string err) = Replay([]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("the file is empty", err);
        Assert.DoesNotContain("OK", output);
    }

    [Fact]
    public void BlankLinesOnly_IsAUsageError()
    {
        (int exit, _, string err) = Replay("\n\n  \n");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("no trace events", err);
    }

    [Theory]
    [InlineData(0.5)]   // cut inside the deflate data
    [InlineData(-4)]    // only the trailer's length is missing
    [InlineData(-1)]    // one byte short
    public void TruncatedGzip_IsAUsageError(double cut)
    {
        byte[] gz = Gzip(LongTrace(5000));
        int keep = cut > 0 ? (int)(gz.Length * cut) : gz.Length + (int)cut;
        (int exit, string output, string err) = Replay(gz[..keep]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("truncated gzip", err);
        Assert.DoesNotContain("OK", output);
    }

    [Fact]
    public void WholeGzip_Replays()
    {
        (int exit, string output, string err) = Replay(Gzip(LongTrace(100)));
        Assert.True(exit == ExitCodes.Ok, output + err);
    }

    [Fact]
    public void XzFile_IsAUsageError_SayingHowToDecompress()
    {
        byte[] xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46];
        (int exit, _, string err) = Replay(xz);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("xz-compressed", err);
        Assert.Contains("xz -d", err);
    }

    [Fact]
    public void EntirelyMalformed_IsAUsageError_NotAnEmptyOk()
    {
        // Go's own trace lines with a suffix this reader does not know: nothing would be replayed.
        (int exit, string output, string err) = Replay("tracealloc(0xc000016010, 0x10, *runtime.p) p=0 noscan=maybe\nhello\n");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("no trace events: all 2 non-blank lines are malformed", err);
        Assert.DoesNotContain("OK", output);
    }

    [Fact]
    public void MostlyMalformed_IsAUsageError_EvenWhenLenient()
    {
        string text = "tracealloc(0xc000000000, 0x10)\nnot a trace line\nnor this\ntracegc()\nx\n";
        foreach (bool lenient in new[] { false, true })
        {
            (int exit, _, string err) = Replay(text, lenient);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains("3 of 5 lines are malformed (60%)", err);
        }
    }

    [Theory]
    [InlineData("tracealloc(0xc000000000, 0x0)")]
    [InlineData("tracealloc(0xc000000000, -0x10)")]
    [InlineData("tracealloc(0xc000000000, 16)")]
    [InlineData("tracealloc(0xc000000000, 0xzz)")]
    [InlineData("tracealloc(0xc000000000, 0x10000000000000000)")]
    [InlineData("tracefree(0xc000000000, 0x)")]
    public void SizeThatIsNotAPositiveHexNumber_IsMalformed_AndAUsageErrorByDefault(string bad)
    {
        (int exit, _, string err) = Replay($"tracealloc(0xc000000010, 0x10)\n{bad}\ntracegc()\n");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("1 of 3 lines are malformed", err);
        Assert.Contains(bad, err);
    }

    [Fact]
    public void Lenient_ToleratesOnePercentOfMalformedLines()
    {
        string text = LongTrace(199) + "garbage\n"; // 1 of 201 lines
        Assert.Equal(ExitCodes.Usage, Replay(text).Exit);
        (int exit, string output, string err) = Replay(text, lenient: true);
        Assert.True(exit == ExitCodes.Ok, output + err);
        Assert.Contains("malformed line 201: garbage", output);
    }

    [Fact]
    public void MalformedLine_IsPrintedEscapedAndCutTo200Characters()
    {
        string bad = "bad\u001b[31mline\t\u00e9" + new string('x', 500);
        string escaped = TraceReader.Escape(bad);
        Assert.StartsWith("bad\\x1b[31mline\\t\\u00e9xxx", escaped);
        Assert.Equal(203, escaped.Length); // 200 characters and "..."
        Assert.DoesNotContain('\u001b', escaped);

        (int exit, _, string err) = Replay($"tracegc()\n{bad}\n");
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(escaped, err);
        Assert.DoesNotContain('\u001b', err);
    }
}
