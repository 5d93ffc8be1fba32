// TraceReader: every line shape of Go's allocfreetrace output, malformed lines counted and skipped,
// gzip detected by content, and the bundled sample read whole.
using System.IO.Compression;
using System.Text;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests;

public class CliTraceReaderTests
{
    private static TraceEvent Single(string line)
    {
        Trace t = CliTestSupport.Parse(line);
        Assert.Equal(0, t.MalformedLines);
        return Assert.Single(t.Events);
    }

    [Fact]
    public void Parse_AllocWithoutType_GivesAddressAndSize()
    {
        Assert.Equal(new TraceEvent(TraceEventKind.Alloc, 0xc000060000, 0x70, 1), Single("tracealloc(0xc000060000, 0x70)"));
    }

    [Theory]
    [InlineData("tracealloc(0xc000026000, 0x10, *runtime.p)")]
    [InlineData("tracealloc(0xc000026000, 0x10, struct { F uintptr; .autotmp_1 chan int })")]
    [InlineData("tracealloc(0xc000026000, 0x10, map[string]func(int, string) (bool, error))")]
    [InlineData("tracealloc(0xc000026000, 0x10, [2]struct { a, b int })")]
    public void Parse_AllocWithType_IgnoresTheTypeWhateverItContains(string line)
    {
        Assert.Equal(new TraceEvent(TraceEventKind.Alloc, 0xc000026000, 0x10, 1), Single(line));
    }

    [Fact]
    public void Parse_Free_GivesAddressAndSize()
    {
        Assert.Equal(new TraceEvent(TraceEventKind.Free, 0xc000014008, 0x8, 1), Single("tracefree(0xc000014008, 0x8)"));
    }

    [Fact]
    public void Parse_Gc_IsAGcEvent()
    {
        Assert.Equal(TraceEventKind.Gc, Single("tracegc()").Kind);
    }

    [Fact]
    public void Parse_TrailingWhitespaceAndCrLf_AreTolerated()
    {
        Trace t = CliTestSupport.Parse("tracegc()  \r\ntracefree(0xc000014008, 0x8)\t\r\n");
        Assert.Equal(0, t.MalformedLines);
        Assert.Equal([TraceEventKind.Gc, TraceEventKind.Free], t.Events.Select(e => e.Kind));
    }

    [Fact]
    public void Read_MalformedLines_AreCountedKeptAndSkipped()
    {
        string text = string.Join("\n",
            "tracealloc(0xc000000000, 0x10)",   // 1 ok
            "goroutine 1 [running]:",           // 2 not a trace line
            "tracealloc(0xc000000000, 0x10",    // 3 no closing paren
            "tracealloc(c000000000, 0x10)",     // 4 no 0x
            "tracealloc(0xc0000000zz, 0x10)",   // 5 bad hex
            "tracealloc(0xc000000000, 0x0)",    // 6 zero size
            "tracealloc(0xc000000000)",         // 7 no size
            "tracealloc(0xc000000000, 0x10, )", // 8 empty type
            "tracefree(0xc000000000, 0x10, T)", // 9 a free has no type
            "tracegc(1)",                       // 10
            "",                                 // 11 blank: ignored, not malformed
            "tracegc()",                        // 12 ok
            "tracefree(0xc000000000, 0x10)");   // 13 ok
        Trace t = CliTestSupport.Parse(text);
        Assert.Equal(9, t.MalformedLines);
        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 9, 10], t.FirstMalformed.Select(m => m.Line));
        Assert.Equal("goroutine 1 [running]:", t.FirstMalformed[0].Text);
        Assert.Equal([1, 12, 13], t.Events.Select(e => e.Line));
        Assert.Equal((1, 1, 1), (t.Allocs, t.Frees, t.Gcs));
    }

    [Fact]
    public void Read_ManyMalformedLines_KeepsOnlyTheFirstFewButCountsAll()
    {
        Trace t = CliTestSupport.Parse(string.Concat(Enumerable.Repeat("junk\n", 100)));
        Assert.Equal(100, t.MalformedLines);
        Assert.Equal(Trace.MaxMalformedKept, t.FirstMalformed.Count);
    }

    [Fact]
    public void Read_GzipIsDetectedByContent_AndGivesTheSameEventsAsPlainText()
    {
        byte[] plain = Encoding.UTF8.GetBytes(CliTestSupport.HandTrace);
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
            z.Write(plain);
        gz.Position = 0;
        Trace fromGzip = TraceReader.Read(gz);
        Trace fromText = TraceReader.Read(new MemoryStream(plain));
        Assert.Equal(fromText.Events, fromGzip.Events);
        Assert.Equal(15, fromGzip.Events.Count);
        Assert.True(gz.CanRead, "Read(Stream) leaves the caller's stream open");
    }

    [Fact]
    public void Read_BundledSample_HasTheEventCountsOfTheNotes()
    {
        string? path = SampleTrace.Locate(SampleTrace.OldFormatFileName);
        Assert.NotNull(path);
        Trace t = TraceReader.ReadFile(path);
        Assert.Equal(0, t.MalformedLines);
        Assert.Equal(209_828, t.Events.Count);
        Assert.Equal(117_355, t.Allocs);
        Assert.Equal(92_460, t.Frees);
        Assert.Equal(13, t.Gcs);
    }
}
