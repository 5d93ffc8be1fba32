// MemClr: zeroes a block of any length (mirrors memclrNoHeapPointers in runtime/memclr_*.s, for
// the needzero paths of malloc.go and mheap.go). A Span<byte> holds at most 2 GiB - 1 bytes, so a
// large object is cleared in chunks; no length arithmetic can overflow.
namespace GoAlloc;

internal static unsafe class MemClr
{
    private const int Chunk = 1 << 30;

    /// <summary>Zeroes [p, p+n); n >= 0.</summary>
    public static void Clear(nint p, long n)
    {
        while (n > 0)
        {
            int len = n > Chunk ? Chunk : (int)n;
            new Span<byte>((void*)p, len).Clear();
            p += len;
            n -= len;
        }
    }
}
