// TraceReader: reads an allocation trace (gzip or plain text, told apart by the gzip magic bytes)
// into a Trace. The line shapes are those of Go's runtime/mprof.go tracers:
//   tracealloc(0xc000060000, 0x70)
//   tracealloc(0xc000026000, 0x10, *runtime.p)      the Go type may hold spaces, commas, braces, parens
//   tracefree(0xc000014008, 0x8)
//   tracegc()
// Parsing is by hand on spans (no regex), one pass, so the 200k-line sample reads in milliseconds.
// Blank lines are ignored; any other line that is not one of these shapes (or has a zero size) is
// malformed: counted, the first few kept, and skipped.
using System.Globalization;
using System.IO.Compression;

namespace GoAlloc.Cli;

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
        Span<byte> magic = stackalloc byte[2];
        int n = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        bool gzip = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        Stream input = gzip ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : stream;
        using var reader = new StreamReader(input, bufferSize: 1 << 16, leaveOpen: !gzip);
        return Read(reader);
    }

    /// <summary>Reads a plain-text trace.</summary>
    public static Trace Read(TextReader reader)
    {
        var events = new List<TraceEvent>();
        var malformed = new List<MalformedLine>();
        long malformedCount = 0;
        int lineNo = 0;
        string? line;
        while ((line = reader.ReadLine()) != null)
        {
            lineNo++;
            ReadOnlySpan<char> s = line.AsSpan().Trim();
            if (s.IsEmpty)
                continue;
            if (TryParseLine(s, lineNo, out TraceEvent e))
            {
                events.Add(e);
                continue;
            }
            malformedCount++;
            if (malformed.Count < Trace.MaxMalformedKept)
                malformed.Add(new MalformedLine(lineNo, line));
        }
        return new Trace(events, malformedCount, malformed);
    }

    /// <summary>Parses one (trimmed) line; false if it is not a well-formed trace event.</summary>
    public static bool TryParseLine(ReadOnlySpan<char> s, int lineNo, out TraceEvent e)
    {
        e = default;
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
        if (comma >= 0)
        {
            // A type name: allocations only, and it must not be empty.
            if (kind != TraceEventKind.Alloc || s[(comma + 1)..].Trim().IsEmpty)
                return false;
        }
        e = new TraceEvent(kind, addr, (long)size, lineNo);
        return true;
    }

    /// <summary>Parses " 0x1f" (surrounding spaces allowed, the 0x prefix required).</summary>
    private static bool TryParseHex(ReadOnlySpan<char> s, out ulong value)
    {
        value = 0;
        s = s.Trim();
        if (s.Length < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
            return false;
        return ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
