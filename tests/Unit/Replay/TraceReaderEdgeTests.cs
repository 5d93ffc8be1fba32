// TraceReader at its edges: a stream that does not start at offset 0, the compressed formats it
// names but does not read, plain text whose second byte is gzip's, a file too short for a gzip
// trailer, the format (old or extended) decided by the first allocation only, hex numbers at their
// limits, addresses off 8-byte alignment (tiny requests only), cut lines, and the escaping of
// malformed lines for a report. Killers of Replay mutants the full record of 2026-12-07 left alive
// (mutation/README.md, "Replay").
using System.IO.Compression;
using System.Text;
using GoAlloc.Replay;
using Xunit;

namespace GoAlloc.Tests.Replay;

public sealed class TraceReaderEdgeTests
{
    private static byte[] Gzip(string text)
    {
        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Optimal, leaveOpen: true))
            z.Write(Encoding.UTF8.GetBytes(text));
        return gz.ToArray();
    }

    private static bool Parses(string line) => TraceReader.TryParseLine(line, 1, out _);

    private static string ReadError(byte[] bytes) =>
        Assert.Throws<TraceFormatException>(() => TraceReader.Read(new MemoryStream(bytes))).Message;

    [Fact]
    public void Read_GzipAfterAPrefix_ReadsFromTheStreamsPosition()
    {
        byte[] prefix = Encoding.ASCII.GetBytes("not part of the trace");
        var stream = new MemoryStream([.. prefix, .. Gzip("tracealloc(0xc000010000, 0x20)\ntracegc()\n")]) { Position = prefix.Length };
        Trace trace = TraceReader.Read(stream);
        Assert.Equal(2, trace.Events.Count);
        Assert.Equal(0, trace.MalformedLines);
    }

    [Fact]
    public void Read_ZstdAndBzip2_AreNamedWithHowToDecompress()
    {
        Assert.Contains("zstd-compressed", ReadError([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00, 0x01]));
        Assert.Contains("bzip2-compressed", ReadError(Encoding.ASCII.GetBytes("BZh91AY&SY")));
    }

    [Fact]
    public void Read_PlainTextWhoseSecondByteIsGzips_IsPlainText()
    {
        // U+010B is C4 8B in UTF-8: the second byte matches gzip's magic, the first does not.
        Trace trace = TraceReader.Read(new MemoryStream(Encoding.UTF8.GetBytes("\u010b\ntracegc()\n")));
        Assert.Single(trace.Events);
        Assert.Equal(1, trace.MalformedLines);
    }

    [Fact]
    public void Read_GzipMagicAlone_IsATruncatedGzip()
    {
        Assert.Contains("truncated gzip: 2 bytes", ReadError([0x1f, 0x8b]));
    }

    [Fact]
    public void Read_GzipHeaderAndTrailerWithNoData_IsCorruptNotTooShort()
    {
        byte[] eighteen = [.. Gzip("tracegc()\n").Take(10), 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.Equal(18, eighteen.Length);
        Assert.Contains("corrupt or truncated gzip", ReadError(eighteen));
    }

    [Fact]
    public void Read_PlainText_LeavesTheCallersStreamOpen()
    {
        var stream = new MemoryStream(Encoding.ASCII.GetBytes("tracegc()\n"));
        TraceReader.Read(stream);
        Assert.True(stream.CanRead);
    }

    [Fact]
    public void Read_TheFirstAllocationDecidesTheFormat_NotAGcOrFreeBeforeIt()
    {
        Trace trace = TraceReader.Read(new StringReader(
            "tracegc()\ntracefree(0xc000010000, 0x20)\ntracealloc(0xc000020000, 0x20) p=1 noscan=true\n"));
        Assert.True(trace.Extended);
        Assert.Equal(3, trace.Events.Count);
        Assert.Equal(0, trace.MalformedLines);
        Assert.False(TraceReader.Read(new StringReader("tracegc()\n")).Extended);
    }

    [Fact]
    public void Check_MalformedLinesCountedButNoneKept_MessageWithoutAFirstLine()
    {
        var trace = new Trace([new TraceEvent(TraceEventKind.Gc, 0, 0, 1)], malformedLines: 5, firstMalformed: []);
        string message = Assert.Throws<TraceFormatException>(() => TraceReader.Check(trace, 0)).Message;
        Assert.StartsWith("5 of 6 lines are malformed", message);
        Assert.DoesNotContain("first:", message);
    }

    [Fact]
    public void TryParseLine_HexAtItsLimits()
    {
        Assert.True(Parses("tracefree(0xffffffffffffffff, 0x8)"));   // 16 digits: the largest address
        Assert.False(Parses("tracefree(0x1ffffffffffffffff, 0x8)")); // 17 digits
        Assert.True(Parses("tracefree(0XC000010000, 0X8)"));         // an upper-case prefix
        Assert.False(Parses("tracefree(1x10, 0x8)"));
        Assert.False(Parses("tracefree(0y10, 0x8)"));
        Assert.True(Parses($"tracealloc(0xc000000000, 0x{MallocConstants.MaxAlloc:x})"));
        Assert.False(Parses($"tracealloc(0xc000000000, 0x{MallocConstants.MaxAlloc + 1:x})"));
    }

    [Fact]
    public void TryParseLine_AnAddressOffEightByteAlignment_OnlyForATinyRequest()
    {
        Assert.True(Parses("tracealloc(0xc000000004, 0x8) p=0 noscan=true"));
        Assert.False(Parses("tracealloc(0xc000000004, 0x8) p=0 noscan=false"));  // a scan object
        Assert.False(Parses("tracealloc(0xc000000004, 0x10) p=0 noscan=true"));  // 16 bytes is not tiny
        Assert.False(Parses("tracealloc(0xc000000004, 0x8)"));                   // old format: scan
    }

    [Fact]
    public void TryParseLine_ALineCutBeforeItsClosingParenthesis_IsMalformed()
    {
        Assert.False(Parses("tracefree(0xc000010000, 0x88"));
        Assert.False(Parses("tracefree("));
        Assert.True(Parses("tracefree(0xc000010000, 0x88)"));
    }

    [Fact]
    public void Escape_BackslashTabReturnControlAndNonAscii()
    {
        Assert.Equal(@"a\\b\rc\td\x1b~\u00e9", TraceReader.Escape("a\\b\rc\td\u001b~\u00e9"));
    }
}
