// Helpers for the Cli tests: traces from text, a Spectre console writing to a string, FaultyHeap, an
// IHeap that delegates to the Reference MHeap but can be told to break one rule (skip a Mark, hide
// a free from OnFree, hand out a live address again, fail Verify) so the tests can check that the
// replayer notices, and ExtraAllocHeap, a heap that allocates one object too many now and then (a
// lockstep replay must notice).
using GoAlloc.Reference;
using GoAlloc.Replay;
using Spectre.Console;

namespace GoAlloc.Tests;

internal static class CliTestSupport
{
    public static Trace Parse(string text) => TraceReader.Read(new StringReader(text));

    /// <summary>A small trace touching every rule: frees per cycle, a large object, address reuse after a free, an allocation over a live address, an unpaired free.</summary>
    public const string HandTrace = """
        tracealloc(0xc000000000, 0x10)
        tracealloc(0xc000000010, 0x10, *main.T)
        tracealloc(0xc000000020, 0x30, struct { a, b int; c *byte })
        tracealloc(0xc000100000, 0xa000, [5120]uint64)
        tracegc()
        tracefree(0xc000000010, 0x10)
        tracefree(0xc000100000, 0xa000)
        tracefree(0xc000999990, 0x10)
        tracealloc(0xc000000010, 0x10)
        tracegc()
        tracefree(0xc000000000, 0x10)
        tracealloc(0xc000000040, 0x2000)
        tracealloc(0xc000000020, 0x30)
        tracegc()
        tracealloc(0xc000000080, 0x8)
        """;

    /// <summary>A Spectre console like Program's for redirected output: no ANSI, 200 columns.</summary>
    public static IAnsiConsole StringConsole(StringWriter writer)
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No });
        console.Profile.Width = 200;
        return console;
    }

    public static string WriteTempTrace(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"alloc-cli-test-{Guid.NewGuid():N}.trace");
        File.WriteAllText(path, text);
        return path;
    }
}

/// <summary>Delegates to MHeap; each knob breaks one thing on purpose.</summary>
internal sealed class FaultyHeap : IHeap
{
    private readonly MHeap _heap;
    private int _marks;
    private int _verifies;

    public FaultyHeap(HeapOptions options, int skipMarkNumber = -1, int hideFreeNumber = -1, int failVerifyNumber = -1, int repeatAllocNumber = -1,
        int throwOnAllocNumber = -1, bool outOfMemory = false)
    {
        ThrowOnAllocNumber = throwOnAllocNumber;
        OutOfMemory = outOfMemory;
        SkipMarkNumber = skipMarkNumber;
        FailVerifyNumber = failVerifyNumber;
        RepeatAllocNumber = repeatAllocNumber;
        int frees = 0;
        Action<nint, long>? onFree = options.OnFree;
        _heap = new MHeap(hideFreeNumber < 0 ? options : options with
        {
            OnFree = (a, s) =>
            {
                if (frees++ != hideFreeNumber)
                    onFree?.Invoke(a, s);
            },
        });
    }

    /// <summary>The n-th Mark call (0-based) is dropped: its object stays white and is swept.</summary>
    public int SkipMarkNumber { get; }
    /// <summary>The n-th Verify call (0-based) throws HeapInvariantException.</summary>
    public int FailVerifyNumber { get; }
    /// <summary>The n-th Alloc (0-based) returns the previous Alloc's address again.</summary>
    public int RepeatAllocNumber { get; }
    /// <summary>The n-th Alloc (0-based) throws: InvalidOperationException, or OutOfMemoryException when OutOfMemory.</summary>
    public int ThrowOnAllocNumber { get; }
    public bool OutOfMemory { get; }

    public HeapOptions Options => _heap.Options;
    public nint ArenaBase => _heap.ArenaBase;
    public nint ZeroBase => _heap.ZeroBase;
    public int ProcCount => _heap.ProcCount;
    public GcPhase Phase => _heap.Phase;
    public bool SweepDone => _heap.SweepDone;

    public IProcessor AcquireP() => new FaultyP(_heap.AcquireP(), this);
    public IProcessor AcquireP(int id) => new FaultyP(_heap.AcquireP(id), this);
    public void StartMark() => _heap.StartMark();
    public bool Mark(nint ptr) => _marks++ == SkipMarkNumber || _heap.Mark(ptr);
    public void FinishMark() => _heap.FinishMark();
    public long SweepOne() => _heap.SweepOne();
    public void FinishSweep() => _heap.FinishSweep();
    public void StartBackgroundSweeper() => _heap.StartBackgroundSweeper();
    public void StopBackgroundSweeper() => _heap.StopBackgroundSweeper();
    public void SetGcPercent(int percent) => _heap.SetGcPercent(percent);
    public long Scavenge(long bytes) => _heap.Scavenge(bytes);
    public HeapStats ReadStats() => _heap.ReadStats();
    public bool FindObject(nint ptr, out ObjectInfo info) => _heap.FindObject(ptr, out info);

    public void Verify()
    {
        if (_verifies++ == FailVerifyNumber)
            throw new HeapInvariantException("INV-TEST-1", "deliberately broken by FaultyHeap");
        _heap.Verify();
    }

    public void Dispose() => _heap.Dispose();

    internal int Allocs;
    internal nint LastAlloc;

    private sealed class FaultyP(IProcessor p, FaultyHeap owner) : IProcessor
    {
        public int Id => p.Id;
        public void Flush() => p.Flush();
        public void Release() => p.Release();

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            if (owner.Allocs == owner.ThrowOnAllocNumber)
            {
                owner.Allocs++;
                throw owner.OutOfMemory
                    ? new OutOfMemoryException("mmap failed: errno 12 (deliberately, FaultyHeap)")
                    : new InvalidOperationException("deliberately broken by FaultyHeap");
            }
            nint x = p.Alloc(size, noscan, needzero);
            if (owner.Allocs++ == owner.RepeatAllocNumber)
                x = owner.LastAlloc;
            owner.LastAlloc = x;
            return x;
        }
    }
}

/// <summary>
/// Delegates to another heap (for the lockstep tests: the Optimized MHeap), but every
/// <c>everyNth</c> Alloc (the N-th, 2N-th, ... call, counted over all Ps) also allocates one extra
/// 8-byte object after the real one: the address returned is right, the heap's stats are not.
/// </summary>
internal sealed class ExtraAllocHeap(IHeap heap, int everyNth) : IHeap
{
    private long _allocs;

    public int EveryNth { get; } = everyNth;

    /// <summary>Extra objects allocated so far.</summary>
    public long Extras { get; private set; }

    public HeapOptions Options => heap.Options;
    public nint ArenaBase => heap.ArenaBase;
    public nint ZeroBase => heap.ZeroBase;
    public int ProcCount => heap.ProcCount;
    public GcPhase Phase => heap.Phase;
    public bool SweepDone => heap.SweepDone;

    public IProcessor AcquireP() => new ExtraP(heap.AcquireP(), this);
    public IProcessor AcquireP(int id) => new ExtraP(heap.AcquireP(id), this);
    public void StartMark() => heap.StartMark();
    public bool Mark(nint ptr) => heap.Mark(ptr);
    public void FinishMark() => heap.FinishMark();
    public long SweepOne() => heap.SweepOne();
    public void FinishSweep() => heap.FinishSweep();
    public void StartBackgroundSweeper() => heap.StartBackgroundSweeper();
    public void StopBackgroundSweeper() => heap.StopBackgroundSweeper();
    public void SetGcPercent(int percent) => heap.SetGcPercent(percent);
    public long Scavenge(long bytes) => heap.Scavenge(bytes);
    public HeapStats ReadStats() => heap.ReadStats();
    public bool FindObject(nint ptr, out ObjectInfo info) => heap.FindObject(ptr, out info);
    public void Verify() => heap.Verify();
    public void Dispose() => heap.Dispose();

    private sealed class ExtraP(IProcessor p, ExtraAllocHeap owner) : IProcessor
    {
        public int Id => p.Id;
        public void Flush() => p.Flush();
        public void Release() => p.Release();

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = p.Alloc(size, noscan, needzero);
            if (++owner._allocs % owner.EveryNth == 0)
            {
                p.Alloc(8, noscan: false, needzero: true);
                owner.Extras++;
            }
            return x;
        }
    }
}
