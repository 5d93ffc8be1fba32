// AddressSpaceLimit: the process's RLIMIT_AS (what `prlimit --as` sets), read and moved from inside.
// The out-of-memory probe runs under `prlimit --as=L` (soft = hard = L) and, to make the kernel
// refuse at a chosen point, lowers its soft limit to "mapped now + headroom" just after creating a
// heap, then raises it back to the hard limit (an unprivileged process may raise its soft limit up
// to the hard one) before anything else runs. The kernel counts every mapping against it, PROT_NONE
// reservations included; mapping over a range already reserved does not count twice.
using System.Runtime.InteropServices;

namespace GoAlloc.Cli.Reliability;

public static partial class AddressSpaceLimit
{
    private const int RlimitAs = 9;
    private const ulong Infinity = ulong.MaxValue; // RLIM_INFINITY on Linux

    private struct Rlimit
    {
        public ulong Cur;
        public ulong Max;
    }

    /// <summary>The soft limit in bytes (long.MaxValue: unlimited).</summary>
    public static long Soft => ToLong(Get().Cur);

    /// <summary>The hard limit in bytes (long.MaxValue: unlimited).</summary>
    public static long Hard => ToLong(Get().Max);

    /// <summary>Sets the soft limit (at most the hard one); long.MaxValue: as high as the hard limit allows.</summary>
    public static void SetSoft(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Rlimit r = Get();
        ulong want = bytes == long.MaxValue ? r.Max : Math.Min((ulong)bytes, r.Max);
        r.Cur = want;
        if (setrlimit(RlimitAs, ref r) != 0)
            throw new InvalidOperationException($"setrlimit(RLIMIT_AS, {want}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private static Rlimit Get()
    {
        if (getrlimit(RlimitAs, out Rlimit r) != 0)
            throw new InvalidOperationException($"getrlimit(RLIMIT_AS) failed: errno {Marshal.GetLastPInvokeError()}");
        return r;
    }

    private static long ToLong(ulong v) => v == Infinity || v > long.MaxValue ? long.MaxValue : (long)v;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrlimit(int resource, out Rlimit rlim);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setrlimit(int resource, ref Rlimit rlim);
}
