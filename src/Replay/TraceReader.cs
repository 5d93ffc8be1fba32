// TraceReader: reads an allocation trace (gzip or plain text, told apart by the gzip magic bytes)
// into a Trace. The line shapes are those of Go's runtime/mprof.go tracers:
//   tracealloc(0xc000060000, 0x70)
//   tracealloc(0xc000026000, 0x10, *runtime.p)      the Go type may hold spaces, commas, braces, parens
//   tracefree(0xc000014008, 0x8)
//   tracegc()
//   tracealloc(0xc00001a09c, 0x4) p=0 noscan=true    GoAlloc's extended format (tools/record/):
//       the allocating P (-1 = none attached) and whether the type has no pointers; a noscan size
//       under 0x10 is a tiny request at its own address inside its 16-byte block. Lines without the
//       suffix (old traces) are scan objects on P0; a file may not mix the two.
// Parsing is by hand on spans (no regex), one pass, so the 200k-line sample reads in milliseconds.
// Blank lines are ignored; any other line that is not one of these shapes (or whose size is not a
// positive hex number) is malformed: counted, the first few kept (escaped, cut to 200 characters).
// A file that cannot be a trace is a TraceFormatException: empty, a truncated gzip (the trailer's
// length must match), xz / zstd / bzip2 (say how to decompress), no event at all, or more malformed
// lines than the tolerance allows (Check; the default tolerates none).
// No Go counterpart: Go only writes these lines (runtime/mprof.go).
using System.Globalization;
using System.IO.Compression;

namespace GoAlloc.Replay;

public static class TraceReader
{
    private const string AllocPrefix = "tracealloc(";
    private const string FreePrefix = "tracefree(";
    private const string GcLine = "tracegc()";

    /// <summary>Reads a trace file, gzip-compressed or plain.</summary>
    public static Trace ReadFile(string path)
    {
        using FileStream file = File.OpenRead(path);
        return Read(file);
    }

    /// <summary>Reads a trace from a stream (left open); gzip is detected by its magic bytes (1f 8b).</summary>
    public static Trace Read(Stream stream)
    {
        if (!stream.CanSeek)
        {
            // Detection needs to look ahead: buffer a non-seekable stream (a pipe) whole.
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position;
        long length = stream.Length - start;
        if (length == 0)
            throw new TraceFormatException("the file is empty");
        Span<byte> magic = stackalloc byte[6];
        int n = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        stream.Position = start;
        magic = magic[..n];
        if (magic.StartsWith((ReadOnlySpan<byte>)[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))
            throw new TraceFormatException("xz-compressed: not supported; decompress it first (xz -d FILE.xz, or xz -dc FILE.xz | gzip > FILE.gz)");
        if (magic.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd]))
            throw new TraceFormatException("zstd-compressed: not supported; decompress it first (zstd -d FILE.zst, or zstd -dc FILE.zst | gzip > FILE.gz)");
        if (magic.StartsWith("BZh"u8))
            throw new TraceFormatException("bzip2-compressed: not supported; decompress it first (bzip2 -d FILE.bz2, or bzip2 -dc FILE.bz2 | gzip > FILE.gz)");
        bool gzip = n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        if (!gzip)
        {
            using var plain = new StreamReader(stream, bufferSize: 1 << 16, leaveOpen: true);
            return Read(plain);
        }
        // gzip: the last 4 bytes (ISIZE) are the uncompressed length mod 2^32; a truncated file
        // either ends inside the deflate stream (GZipStream throws or stops early) or misses them.
        if (length < 18)
            throw new TraceFormatException($"truncated gzip: {length} bytes is shorter than a gzip header and trailer");
        stream.Position = start + length - 4;
        Span<byte> trailer = stackalloc byte[4];
        stream.ReadExactly(trailer);
        uint isize = BitConverter.ToUInt32(trailer);
        stream.Position = start;
        var counting = new CountingStream(new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true));
        Trace trace;
        try
        {
            using var reader = new StreamReader(counting, bufferSize: 1 << 16);
            trace = Read(reader);
        }
        catch (InvalidDataException ex)
        {
            throw new TraceFormatException($"corrupt or truncated gzip: {ex.Message}");
        }
        if ((uint)counting.BytesRead != isize)
            throw new TraceFormatException($"truncated gzip: decompressed {counting.BytesRead:N0} bytes, the trailer says {isize:N0} (mod 2^32)");
        return trace;
    }

    /// <summary>
    /// Rejects a trace with no event at all, or with more malformed lines than
    /// <paramref name="tolerance"/> (a fraction of the non-blank lines; 0 = none tolerated).
    /// </summary>
    public static void Check(Trace trace, double tolerance)
    {
        long lines = trace.Events.Count + trace.MalformedLines;
        if (trace.Events.Count == 0)
            throw new TraceFormatException(trace.MalformedLines == 0
                ? "no trace events (the file holds only blank lines)"
                : $"no trace events: all {trace.MalformedLines:N0} non-blank lines are malformed{FirstMalformed(trace)}");
        if (trace.MalformedLines > tolerance * lines)
            throw new TraceFormatException(
                $"{trace.MalformedLines:N0} of {lines:N0} lines are malformed ({100.0 * trace.MalformedLines / lines:0.##}%), " +
                $"more than the {100 * tolerance:0.##}% tolerated{(tolerance == 0 ? " (--lenient tolerates 1%)" : "")}{FirstMalformed(trace)}");
    }

    private static string FirstMalformed(Trace trace) =>
        trace.FirstMalformed.Count == 0 ? "" : $"; first: line {trace.FirstMalformed[0].Line}: {trace.FirstMalformed[0].Text}";

    /// <summary>A line for a report: control and non-ASCII characters escaped (\n, \x1b, \u00e9), cut to 200 characters.</summary>
    public static string Escape(string line)
    {
        const int Max = 200;
        var sb = new System.Text.StringBuilder(Math.Min(line.Length, Max) + 8);
        foreach (char c in line)
        {
            if (sb.Length >= Max)
            {
                sb.Append("...");
                break;
            }
            if (c == '\\') sb.Append(@"\\");
            else if (c == '\t') sb.Append(@"\t");
            else if (c == '\r') sb.Append(@"\r");
            else if (c < 0x20 || c == 0x7f) sb.Append($"\\x{(int)c:x2}");
            else if (c > 0x7e) sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Reads a plain-text trace.</summary>
    public static Trace Read(TextReader reader)
    {
        var events = new List<TraceEvent>();
        var malformed = new List<MalformedLine>();
        long malformedCount = 0;
        int lineNo = 0, extended = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            ReadOnlySpan<char> s = line.AsSpan().Trim();
            if (s.IsEmpty)
                continue;
            if (TryParseLine(s, lineNo, out TraceEvent e, out bool hasSuffix)
                && (e.Kind != TraceEventKind.Alloc || extended == 0 || (extended > 0) == hasSuffix))
            {
                if (e.Kind == TraceEventKind.Alloc && extended == 0)
                    extended = hasSuffix ? 1 : -1;
                events.Add(e);
                continue;
            }
            malformedCount++;
            if (malformed.Count < Trace.MaxMalformedKept)
                malformed.Add(new MalformedLine(lineNo, Escape(line)));
        }
        return new Trace(events, malformedCount, malformed, extended > 0);
    }

    /// <summary>Parses one (trimmed) line; false if it is not a well-formed trace event.</summary>
    public static bool TryParseLine(ReadOnlySpan<char> s, int lineNo, out TraceEvent e) =>
        TryParseLine(s, lineNo, out e, out _);

    /// <summary>Parses one (trimmed) line; <paramref name="extended"/> says it carried " p=N noscan=B".</summary>
    public static bool TryParseLine(ReadOnlySpan<char> s, int lineNo, out TraceEvent e, out bool extended)
    {
        e = default;
        extended = false;
        int p = 0;
        bool noscan = false;
        if (s.StartsWith(AllocPrefix, StringComparison.Ordinal) && s[^1] != ')')
        {
            // The extended suffix: ") p=<int> noscan=<true|false>" (the type may hold " p=" itself: search from the end).
            int at = s.LastIndexOf(" p=");
            if (at < 0)
                return false;
            ReadOnlySpan<char> suffix = s[(at + 3)..];
            int sp = suffix.IndexOf(' ');
            if (sp < 0 || !int.TryParse(suffix[..sp], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out p) || p < -1)
                return false;
            ReadOnlySpan<char> ns = suffix[(sp + 1)..];
            if (ns.SequenceEqual("noscan=true")) noscan = true;
            else if (!ns.SequenceEqual("noscan=false")) return false;
            s = s[..at].TrimEnd();
            extended = true;
        }
        if (s.SequenceEqual(GcLine))
        {
            e = new TraceEvent(TraceEventKind.Gc, 0, 0, lineNo);
            return true;
        }
        TraceEventKind kind;
        if (s.StartsWith(AllocPrefix, StringComparison.Ordinal))
        {
            kind = TraceEventKind.Alloc;
            s = s[AllocPrefix.Length..];
        }
        else if (s.StartsWith(FreePrefix, StringComparison.Ordinal))
        {
            kind = TraceEventKind.Free;
            s = s[FreePrefix.Length..];
        }
        else
        {
            return false;
        }
        // Everything up to the final ')' is "addr, size" or (alloc only) "addr, size, type".
        if (s.IsEmpty || s[^1] != ')')
            return false;
        s = s[..^1];

        int comma = s.IndexOf(',');
        if (comma < 0 || !TryParseHex(s[..comma], out ulong addr))
            return false;
        s = s[(comma + 1)..];

        comma = s.IndexOf(',');
        ReadOnlySpan<char> sizeText = comma < 0 ? s : s[..comma];
        if (!TryParseHex(sizeText, out ulong size) || size == 0 || size > (ulong)MallocConstants.MaxAlloc)
            return false;
        // An address off 8-byte alignment is only possible for a tiny request (noscan, under 16 bytes).
        if (kind == TraceEventKind.Alloc && (addr & 7) != 0 && !(noscan && size < (ulong)TraceEvent.MaxTinySize))
            return false;
        if (comma >= 0)
        {
            // A type name: allocations only, and it must not be empty.
            if (kind != TraceEventKind.Alloc || s[(comma + 1)..].Trim().IsEmpty)
                return false;
        }
        e = new TraceEvent(kind, addr, (long)size, lineNo, p, noscan);
        return true;
    }

    /// <summary>Parses " 0x1f" (surrounding spaces allowed, the 0x prefix required).</summary>
    private static bool TryParseHex(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        s = s.Trim();
        if (s.Length < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            return false;
        return s.Length <= 18 && ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>A file that is not a readable allocation trace (the message says why and what to do).</summary>
public sealed class TraceFormatException(string message) : FormatException(message);

/// <summary>Counts the bytes read through it (the decompressed length of a gzip trace).</summary>
internal sealed class CountingStream(Stream inner) : Stream
{
    public long BytesRead { get; private set; }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        BytesRead += n;
        return n;
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
