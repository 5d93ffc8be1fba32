// TestAddressSpace: address hints for SysMem tests. xunit runs test classes in parallel, so each
// test that passes a hint takes its own 1 GiB slot far from anything the runtime, the kernel's
// top-down mmap area or the heaps' arena hints (0x00c0<<32 + i<<40) use. Nothing else in the
// process maps there, so a test's regions never merge with someone else's VMA.
namespace GoAlloc.Tests.Helpers;

public static class TestAddressSpace
{
    /// <summary>Start of the hint window: 63 TiB, well below the 128 TiB user limit and the mmap base.</summary>
    public const long HintWindowBase = 0x3f00_0000_0000;
    /// <summary>Each hint owns this much address space; regions a test maps stay inside its slot.</summary>
    public const long SlotBytes = 1L << 30;
    /// <summary>Slots available before reaching arena hint 0x3fc0&lt;&lt;32 (768 GiB above the window).</summary>
    private const int MaxSlots = 512;

    private static int s_next;

    /// <summary>A fresh, 1 GiB-aligned hint no other test uses.</summary>
    public static nint NextHint()
    {
        int slot = Interlocked.Increment(ref s_next);
        if (slot >= MaxSlots)
            throw new InvalidOperationException("out of test address slots");
        return (nint)(HintWindowBase + slot * SlotBytes);
    }
}
