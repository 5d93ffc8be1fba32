// SysMem: the OS memory layer (mirrors runtime/mem_linux.go). Each call moves a region between the
// states of MemState:
//   SysReserve  None     -> Reserved  mmap(hint, PROT_NONE) - the hint may be ignored by the kernel
//   SysMap      Reserved -> Prepared  mmap(MAP_FIXED, PROT_READ|PROT_WRITE)
//   SysUsed     Prepared -> Ready     nothing to do on Linux (pages fault in on first touch)
//   SysUnused   Ready    -> Prepared  madvise(MADV_DONTNEED): pages leave RSS and read back as zero
//   SysFault    Ready|Prepared -> Reserved  mmap(MAP_FIXED, PROT_NONE): any access faults
//   SysFree     any      -> None      munmap
//   SysAlloc    None     -> Ready     mmap(PROT_READ|PROT_WRITE)
// Go 1.16 defaults to MADV_DONTNEED on Linux (GODEBUG=madvdontneed=1), so do we.
// Failures raise OutOfMemoryException carrying the errno text. The layer keeps no state of its own:
// callers (the heaps) account every byte in their memstats. ResidentPages (mincore) and BackedPages
// (/proc/self/pagemap) only look: they serve the tests and Verify.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace GoAlloc;

/// <summary>The OS memory layer (runtime/mem_linux.go): mmap, madvise and munmap calls that move a region between MemStates. Failures throw OutOfMemoryException with the errno text; bad lengths or unaligned addresses throw ArgumentOutOfRangeException.</summary>
public static unsafe partial class SysMem
{
    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20, MapNoReserve = 0x4000;
    private const int MadvDontNeed = 4;
    private const int AnonymousFd = -1; // MAP_ANONYMOUS takes no file (Linux ignores fd; POSIX asks for -1)
    private static readonly nint s_mapFailed = -1;

    /// <summary>The kernel's page size (4 KiB on amd64): the granularity of mmap, madvise and mincore.</summary>
    public static int PhysPageSize { get; } = Environment.SystemPageSize;

    /// <summary>None -&gt; Ready: fresh zeroed read/write memory anywhere in the address space.</summary>
    public static nint SysAlloc(nint n)
    {
        CheckLength(n);
        InjectedFailure("sysAlloc", 0, n);
        nint p = mmap(0, (nuint)n, ProtRead | ProtWrite, MapPrivate | MapAnonymous, AnonymousFd, 0);
        if (p == s_mapFailed)
            throw Oom("sysAlloc", 0, n);
        return p;
    }

    /// <summary>
    /// None -&gt; Reserved: reserves n bytes of address space, at <paramref name="hint"/> if the kernel
    /// agrees (0 = anywhere). The result may differ from the hint; callers that need the hint check it.
    /// </summary>
    public static nint SysReserve(nint hint, nint n)
    {
        CheckLength(n);
        InjectedFailure("sysReserve", hint, n);
        nint p = mmap(hint, (nuint)n, ProtNone, MapPrivate | MapAnonymous | MapNoReserve, AnonymousFd, 0);
        if (p == s_mapFailed)
            throw Oom("sysReserve", hint, n);
        return p;
    }

    /// <summary>
    /// None -&gt; Reserved with alignment (Go's sysReserveAligned): over-reserves by align and trims
    /// both ends so that the result is aligned. <paramref name="align"/> must be a power of two.
    /// </summary>
    public static nint SysReserveAligned(nint hint, nint n, nint align)
    {
        CheckLength(n);
        if (align <= 0 || (align & (align - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(align), align, "alignment must be a power of two");
        if (n > nint.MaxValue - align)
            throw new ArgumentOutOfRangeException(nameof(n), n, "length plus alignment overflows");
        nint p = SysReserve(hint, n + align);
        nint aligned = (p + align - 1) & ~(align - 1);
        if (aligned > p)
            SysFree(p, aligned - p);
        // aligned <= p + align - 1, so at least one byte of the over-reservation lies past the end.
        nint end = p + n + align;
        SysFree(aligned + n, end - (aligned + n));
        return aligned;
    }

    /// <summary>Reserved -&gt; Prepared: commits the range read/write (contents zero, nothing resident).</summary>
    public static void SysMap(nint v, nint n)
    {
        CheckRange(v, n);
        InjectedFailure("sysMap", v, n);
        nint p = mmap(v, (nuint)n, ProtRead | ProtWrite, MapFixed | MapPrivate | MapAnonymous, AnonymousFd, 0);
        // MAP_FIXED maps exactly at v or fails.
        if (p == s_mapFailed)
            throw Oom("sysMap", v, n);
    }

    /// <summary>Prepared -&gt; Ready. Linux needs no call: pages fault in on first touch.</summary>
    public static void SysUsed(nint v, nint n) => CheckRange(v, n);

    /// <summary>Ready -&gt; Prepared: hands the physical pages back; the range reads as zero afterwards.</summary>
    public static void SysUnused(nint v, nint n)
    {
        CheckRange(v, n);
        InjectedFailure("sysUnused", v, n);
        // Only whole physical pages can be released; Go's heap pages (8 KiB) always are.
        if (madvise(v, (nuint)n, MadvDontNeed) != 0)
            throw Oom("sysUnused", v, n);
    }

    /// <summary>Ready|Prepared -&gt; Reserved: any access faults from now on (debugging aid).</summary>
    public static void SysFault(nint v, nint n)
    {
        CheckRange(v, n);
        nint p = mmap(v, (nuint)n, ProtNone, MapFixed | MapPrivate | MapAnonymous | MapNoReserve, AnonymousFd, 0);
        if (p == s_mapFailed)
            throw Oom("sysFault", v, n);
    }

    /// <summary>any -&gt; None: returns the address space to the OS.</summary>
    public static void SysFree(nint v, nint n)
    {
        CheckRange(v, n);
        if (munmap(v, (nuint)n) != 0)
            throw Oom("sysFree", v, n);
    }

    /// <summary>Counts the physical pages of [v, v+n) that are resident (mincore); v page-aligned.</summary>
    public static long ResidentPages(nint v, nint n)
    {
        CheckRange(v, n);
        long pages = (n + PhysPageSize - 1) / PhysPageSize;
        byte[] vec = new byte[pages];
        fixed (byte* pv = vec)
        {
            if (mincore(v, (nuint)n, pv) != 0)
                throw Oom("mincore", v, n);
        }
        long resident = 0;
        foreach (byte b in vec)
            resident += b & 1;
        return resident;
    }

    /// <summary>
    /// Which OS pages of [v, v+n) the kernel holds a page frame or a swap entry for (bits 63 and 62 of
    /// their /proc/self/pagemap entries); v page-aligned. A private anonymous page with neither was
    /// never touched, or was dropped by MADV_DONTNEED: it reads as zero, and reading it would fault
    /// in the zero page. Null when pagemap cannot be read (no procfs): callers read the pages then.
    /// </summary>
    public static bool[]? BackedPages(nint v, nint n) => BackedPages(v, n, "/proc/self/pagemap");

    /// <summary>BackedPages reading pagemapPath (the tests give it a file that cannot serve).</summary>
    internal static bool[]? BackedPages(nint v, nint n, string pagemapPath)
    {
        CheckRange(v, n);
        bool[] backed = new bool[(n + PhysPageSize - 1) / PhysPageSize];
        Span<byte> entries = stackalloc byte[4096]; // 512 entries of 8 bytes per read
        try
        {
            using SafeFileHandle pagemap = File.OpenHandle(pagemapPath);
            long offset = v / PhysPageSize * 8;
            for (int first = 0; first < backed.Length; first += 512)
            {
                Span<byte> block = entries[..(Math.Min(512, backed.Length - first) * 8)];
                for (int done = 0; done < block.Length;)
                {
                    int got = RandomAccess.Read(pagemap, block[done..], offset + first * 8L + done);
                    if (got <= 0)
                        return null;
                    done += got;
                }
                for (int i = 0; i < block.Length / 8; i++)
                    backed[first + i] = BinaryPrimitives.ReadUInt64LittleEndian(block[(i * 8)..]) >> 62 != 0;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return backed;
    }

    /// <summary>
    /// Fault injection for tests (issue #20): the number of the mapping call (SysAlloc, SysReserve,
    /// SysMap, SysUnused) on this thread that fails with OutOfMemoryException as if the kernel had
    /// refused it; 0 = off. Thread-local, so a test injects only into the heap calls it makes.
    /// </summary>
    [ThreadStatic]
    private static int t_failAtCall;

    /// <summary>Makes the k-th mapping call from now on (k >= 1) on this thread fail; 0 turns injection off.</summary>
    internal static void InjectFailureAtCall(int k) => t_failAtCall = k;

    /// <summary>The mapping calls still to go before the injected failure (0 once it fired or when off).</summary>
    internal static int InjectionCountdown => t_failAtCall;

    private static void InjectedFailure(string op, nint v, nint n)
    {
        if (t_failAtCall != 0 && --t_failAtCall == 0)
            throw new OutOfMemoryException($"{op}(0x{v:x}, {n}): injected failure (SysMem.InjectFailureAtCall)");
    }

    private static void CheckLength(nint n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, "length must be positive");
    }

    private static void CheckRange(nint v, nint n)
    {
        CheckLength(n);
        if ((v & (PhysPageSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(v), $"0x{v:x} is not aligned to the {PhysPageSize}-byte physical page");
    }

    private static OutOfMemoryException Oom(string op, nint v, nint n)
    {
        int errno = Marshal.GetLastPInvokeError();
        string text = Marshal.GetPInvokeErrorMessage(errno);
        return new OutOfMemoryException($"{op}(0x{v:x}, {n} bytes) failed: errno {errno} ({text})");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(nint addr, nuint length, int advice);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mincore(nint addr, nuint length, byte* vec);
}
