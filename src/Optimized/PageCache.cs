// TEMPORARY stand-in until branch pagealloc lands: Go's pageCache (base, 64-bit free mask, 64-bit scavenged mask).
using System.Numerics;

namespace GoAlloc.Optimized;

internal struct PageCache
{
    public nint Base;
    public ulong Cache;
    public ulong Scav;

    public readonly bool Empty => Cache == 0;

    public nint Alloc(int npages, out int scav)
    {
        scav = 0;
        if (Cache == 0)
            return 0;
        for (int i = 0; i + npages <= 64; i++)
        {
            ulong mask = (npages == 64 ? ulong.MaxValue : ((1UL << npages) - 1)) << i;
            if ((Cache & mask) == mask)
            {
                scav = BitOperations.PopCount(Scav & mask);
                Cache &= ~mask;
                Scav &= ~mask;
                return Base + i * (nint)MallocConstants.PageSize;
            }
        }
        return 0;
    }
}
