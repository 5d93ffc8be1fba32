// Every `alloc` command fails cleanly (issue 18): a mistyped option is an unknown option with
// "did you mean" (never a trace path), a mistyped value or command gets the nearest name, parse
// errors are one line per problem with no .NET type names, "-" reads the trace from standard
// input, a damaged or truncated Coyote trace is bad input (exit 2) before anything is built, a
// child that crashes is a host failure (exit 3), running out of memory is a host failure (exit 3,
// not a finding, and nothing is replayed again), an unexpected exception is one line (the stack
// trace only under --verbose), and output files are complete or absent (AtomicFile).
using System.IO.Compression;
using System.Text;
using GoAlloc.Cli;
using Xunit;

namespace GoAlloc.Tests;

public class CliFailureTests
{
    private sealed class Recorder
    {
        public int Launches { get; private set; }

        public int Launch(ConcurrencyRun run)
        {
            Launches++;
            return ExitCodes.Ok;
        }
    }

    private static (int Exit, string Out, string Err) Run(string[] args, Func<Stream>? stdin = null,
        IReadOnlyDictionary<string, Func<HeapOptions, IHeap>>? factories = null, Recorder? launcher = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr, (launcher ?? new Recorder()).Launch, stdin, factories);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // ---------------------------------------------------------------- the command line

    [Fact]
    public void MistypedOption_IsAnUnknownOptionWithASuggestion_NotATracePath()
    {
        (int exit, _, string err) = Run(["replay", "--quite"]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("unknown option '--quite' (did you mean '--quiet'?)", err);
        Assert.DoesNotContain("trace file not found", err);
        Assert.Single(Lines(err));
    }

    [Theory]
    [InlineData("--impl refrence", "did you mean 'reference'?")]
    [InlineData("--impl optimised", "did you mean 'optimized'?")]
    public void MistypedReplayValue_SuggestsTheNearestName(string args, string suggestion)
    {
        (int exit, _, string err) = Run(["replay", .. args.Split(' ')]);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(suggestion, err);
        Assert.Single(Lines(err));
    }

    [Theory]
    [InlineData("explore refill-sweep-flsh", "did you mean 'refill-sweep-flush'?")]
    [InlineData("explore cycle-boundary --strategy randm", "did you mean 'random'?")]
    [InlineData("explore cycle-boundary --bug RefilForgetsSg3", "did you mean 'RefillForgetsSg3'?")]
    [InlineData("explore --strateg random cycle-boundary", "unknown option '--strateg' (did you mean '--strategy'?)")]
    [InlineData("reproduce --verbos x.trace", "did you mean '--verbose'?")]
    [InlineData("replya", "unknown command 'replya' (did you mean 'replay'?)")]
    [InlineData("exlpore cycle-boundary", "did you mean 'explore'?")]
    [InlineData("record --gocg 5", "did you mean '--gogc'?")]
    public void MistypedExploreReproduceRecordOrCommand_SuggestsTheNearestName_AndLaunchesNothing(string args, string suggestion)
    {
        var launcher = new Recorder();
        (int exit, _, string err) = Run(args.Split(' '), launcher: launcher);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(suggestion, err);
        Assert.Equal(0, launcher.Launches);
    }

    [Theory]
    [InlineData("replay --procs abc")]
    [InlineData("replay --procs 0")]
    [InlineData("replay --stats-every 1.5")]
    [InlineData("explore cycle-boundary --iterations lots")]
    [InlineData("explore cycle-boundary --seed -3")]
    [InlineData("record --gogc lots")]
    [InlineData("record --procs 9999999999")]
    [InlineData("reproduce")]
    public void ParseError_IsOneLine_WithNoDotNetTypeNames(string args)
    {
        (int exit, string output, string err) = Run(args.Split(' '));
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Single(Lines(err));
        Assert.Matches(@"^alloc \w+: .+; see 'alloc \w+ --help'$", err.Trim());
        Assert.DoesNotMatch(@"System\.|Int32|UInt32|Exception", err);
        Assert.Equal("", output);
    }

    // ---------------------------------------------------------------- standard input

    [Fact]
    public void DashReadsThePlainTraceFromStandardInput()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(CliTestSupport.HandTrace);
        (int exit, string output, string err) = Run(["replay", "-", "--impl", "reference"], () => new MemoryStream(bytes));
        Assert.True(exit == ExitCodes.Ok, output + err);
        Assert.Contains("trace (standard input)", output);
        Assert.Contains("8 allocs, 4 frees, 3 GC cycles", output);
    }

    [Fact]
    public void DashReadsAGzippedTraceFromStandardInput_ThroughANonSeekableStream()
    {
        var gz = new MemoryStream();
        using (var zip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
            zip.Write(Encoding.UTF8.GetBytes(CliTestSupport.HandTrace));
        (int exit, string output, string err) = Run(["replay", "-", "--impl", "optimized", "-q"], () => new NonSeekable(gz.ToArray()));
        Assert.True(exit == ExitCodes.Ok, output + err);
        Assert.Contains("(standard input)", output);
    }

    [Fact]
    public void DashWithEmptyStandardInput_IsBadInput()
    {
        (int exit, _, string err) = Run(["replay", "-"], () => new MemoryStream());
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("cannot read (standard input): the file is empty", err);
    }

    // ---------------------------------------------------------------- reproduce: damaged traces, crashed children

    [Theory]
    [InlineData("truncated", "is not a Coyote trace (truncated or damaged?)")]
    [InlineData("not json", "is not a Coyote trace (truncated or damaged?)")]
    [InlineData("""{ "Settings": {} }""", "is not a Coyote trace (no \"Settings\" object and \"Steps\" array)")]
    [InlineData("""{ "Settings": {}, "Steps": [] }""", "with no steps")]
    [InlineData("""{ "Settings": {}, "Steps": [ "op(0:1)", 42 ] }""", "damaged Coyote trace: step 2")]
    public void Reproduce_DamagedOrTruncatedCoyoteTrace_IsBadInput_BeforeAnythingIsBuilt(string content, string message)
    {
        string trace = Path.Combine(Path.GetTempPath(), $"alloc-damaged-{Guid.NewGuid():N}.trace");
        string good = CliConcurrencyTests.MinimalCoyoteTrace;
        File.WriteAllText(trace, content == "truncated" ? good[..(good.Length / 2)] : content);
        File.WriteAllText(trace + ".json", """{ "scenario": "cycle-boundary", "impl": "reference", "build": "clean" }""");
        try
        {
            var launcher = new Recorder();
            (int exit, _, string err) = Run(["reproduce", trace], launcher: launcher);
            Assert.Equal(ExitCodes.Usage, exit);
            Assert.Contains(message, err);
            Assert.Single(Lines(err));
            Assert.Equal(0, launcher.Launches);
        }
        finally
        {
            File.Delete(trace);
            File.Delete(trace + ".json");
        }
    }

    [Theory]
    [InlineData(0, ExitCodes.Ok)]
    [InlineData(1, ExitCodes.Disagreement)]
    [InlineData(2, ExitCodes.Usage)]
    [InlineData(134, ExitCodes.HostFailure)]
    [InlineData(137, ExitCodes.HostFailure)]
    [InlineData(-1, ExitCodes.HostFailure)]
    public void ChildExitCode_ZeroOneTwoPassThrough_ACrashIsAHostFailure(int child, int expected)
    {
        var err = new StringWriter();
        Assert.Equal(expected, ConcurrencyProcess.Relay("reproduce", child, err));
        if (expected == ExitCodes.HostFailure)
            Assert.Contains($"host failure: the concurrency tool crashed or was killed (exit {child}", err.ToString());
        else
            Assert.Equal("", err.ToString());
    }

    // ---------------------------------------------------------------- host failures

    [Theory]
    [InlineData("both")]
    [InlineData("reference")]
    public void OutOfMemory_IsAHostFailure_NotAFinding_AndIsNotReplayedAgain(string impl)
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        int heaps = 0;
        var factories = new Dictionary<string, Func<HeapOptions, IHeap>>
        {
            ["reference"] = o =>
            {
                heaps++;
                return new FaultyHeap(o, throwOnAllocNumber: 2, outOfMemory: true);
            },
            ["optimized"] = o => new GoAlloc.Optimized.MHeap(o),
        };
        try
        {
            (int exit, string output, string err) = Run(["replay", path, "--impl", impl], factories: factories);
            Assert.True(exit == ExitCodes.HostFailure, output + err);
            Assert.Contains("alloc replay: host failure: out of memory (mmap failed: errno 12", err);
            Assert.Single(Lines(err));
            Assert.DoesNotContain("FAILED", output);
            Assert.DoesNotContain("DISAGREEMENT", output);
            Assert.DoesNotContain("   at ", err); // no stack trace without --verbose
            Assert.Equal(1, heaps); // one replay: no timed re-runs of a host failure
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void UnexpectedException_IsOneLineInternalError_WithTheStackTraceOnlyUnderVerbose()
    {
        string path = CliTestSupport.WriteTempTrace(CliTestSupport.HandTrace);
        var factories = new Dictionary<string, Func<HeapOptions, IHeap>>
        {
            ["reference"] = _ => throw new NotSupportedException("no heap today"),
        };
        try
        {
            (int exit, _, string err) = Run(["replay", path, "--impl", "reference"], factories: factories);
            Assert.Equal(ExitCodes.HostFailure, exit);
            Assert.Equal("alloc replay: internal error: no heap today (a bug in alloc; --verbose prints the stack trace)", err.Trim());

            (exit, _, err) = Run(["replay", path, "--impl", "reference", "--verbose"], factories: factories);
            Assert.Equal(ExitCodes.HostFailure, exit);
            Assert.Contains("internal error: no heap today", err);
            Assert.Contains("   at ", err);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // ---------------------------------------------------------------- output files: complete or absent

    [Fact]
    public void AtomicFile_AWriteThatFailsHalfway_LeavesTheOldFileAndNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("alloc-atomic-").FullName;
        string target = Path.Combine(dir, "out.json");
        File.WriteAllText(target, "old and good");
        try
        {
            Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s =>
            {
                s.Write("{ \"half"u8);
                throw new InvalidOperationException("interrupted");
            }));
            Assert.Equal("old and good", File.ReadAllText(target));
            Assert.Equal([target], Directory.GetFiles(dir));

            AtomicFile.Write(target, s => s.Write("new"u8));
            Assert.Equal("new", File.ReadAllText(target));
            Assert.Equal([target], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AtomicFile_Produce_KeepsTheResultOnlyWhenTheProducerSucceeds()
    {
        string dir = Directory.CreateTempSubdirectory("alloc-atomic-").FullName;
        string target = Path.Combine(dir, "trace.gz");
        try
        {
            Assert.False(AtomicFile.Produce(target, temp =>
            {
                File.WriteAllText(temp, "partial");
                return false; // the recorder failed after writing part of it
            }));
            Assert.Empty(Directory.GetFiles(dir));
            Assert.True(AtomicFile.Produce(target, temp =>
            {
                File.WriteAllText(temp, "whole");
                return true;
            }));
            Assert.Equal("whole", File.ReadAllText(target));
            Assert.Equal([target], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("quite", new[] { "--quiet", "--impl" }, "--quiet")]
    [InlineData("refrence", new[] { "reference", "optimized", "both" }, "reference")]
    [InlineData("xyz", new[] { "reference", "optimized", "both" }, null)]
    [InlineData("opt", new[] { "reference", "optimized", "both" }, "optimized")]
    public void Suggest_PicksATypoOrAUniquePrefix_OrNothing(string typed, string[] candidates, string? expected)
    {
        string? got = Suggest.Closest(typed.StartsWith('q') ? "--" + typed : typed, candidates);
        Assert.Equal(expected, got);
    }

    /// <summary>A pipe: readable once, no length, no seeking.</summary>
    private sealed class NonSeekable(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    }
}
