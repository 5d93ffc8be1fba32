// StressPattern: the bytes a stress run writes into each object and checks later. A pattern covers
// a window of the object (its first 256 bytes and its last 64), enough to see an object handed out
// twice, an overlap with a neighbour, or memory reused while the object is live, without touching
// every page of a large object. The byte at offset k depends on the object's tag and on k.
namespace GoAlloc.Cli;

public static unsafe class StressPattern
{
    private const long Head = 256;
    private const long TailBytes = 64;

    private static byte At(ulong tag, long k) => (byte)((tag >> (int)((k & 7) * 8)) ^ (ulong)(k * 0x9D));

    private static long TailStart(long size) => Math.Max(Math.Min(size, Head), size - TailBytes);

    /// <summary>Writes the pattern of tag into the object at address (size bytes).</summary>
    public static void Write(nint address, long size, ulong tag)
    {
        byte* p = (byte*)address;
        long head = Math.Min(size, Head);
        for (long k = 0; k < head; k++)
            p[k] = At(tag, k);
        for (long k = TailStart(size); k < size; k++)
            p[k] = At(tag, k);
    }

    /// <summary>The first offset whose byte differs from the pattern, or -1.</summary>
    public static long FirstMismatch(nint address, long size, ulong tag)
    {
        byte* p = (byte*)address;
        long head = Math.Min(size, Head);
        for (long k = 0; k < head; k++)
        {
            if (p[k] != At(tag, k))
                return k;
        }
        for (long k = TailStart(size); k < size; k++)
        {
            if (p[k] != At(tag, k))
                return k;
        }
        return -1;
    }

    /// <summary>The first offset of the pattern window that is not zero, or -1.</summary>
    public static long FirstNonZero(nint address, long size)
    {
        byte* p = (byte*)address;
        long head = Math.Min(size, Head);
        for (long k = 0; k < head; k++)
        {
            if (p[k] != 0)
                return k;
        }
        for (long k = TailStart(size); k < size; k++)
        {
            if (p[k] != 0)
                return k;
        }
        return -1;
    }

    /// <summary>The byte the pattern has at offset k (for messages).</summary>
    public static byte Expected(ulong tag, long k) => At(tag, k);

    /// <summary>The byte at address + k (for messages).</summary>
    public static byte Actual(nint address, long k) => ((byte*)address)[k];
}
