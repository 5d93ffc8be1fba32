// PageCache: a per-P cache of up to 64 free pages inside one 64-page aligned block (mirrors
// runtime/mpagecache.go). Small spans (< 16 pages) are carved from it first.
// The pages it holds are marked allocated in the PageAlloc bitmap (INV-PAGE-1) and keep their own
// scavenged flags until handed out. Differs from Go (used without the heap lock by the P's
// owner): touched only under the heap lock, like everything in the Reference.
namespace GoAlloc.Reference;

internal sealed class PageCache
{
    public nint Base;
    public readonly bool[] Free = new bool[MallocConstants.PageCachePages];
    public readonly bool[] Scavenged = new bool[MallocConstants.PageCachePages];

    public bool Empty => Array.IndexOf(Free, true) < 0;

    /// <summary>
    /// alloc: the lowest run of npages free pages in the cache (npages = 1 takes the lowest free
    /// page). Returns 0 if there is no such run; <paramref name="scav"/> = scavenged pages taken.
    /// </summary>
    public nint Alloc(int npages, out int scav)
    {
        scav = 0;
        int run = 0;
        for (int i = 0; i < MallocConstants.PageCachePages; i++)
        {
            run = Free[i] ? run + 1 : 0;
            if (run < npages)
                continue;
            int start = i - npages + 1;
            for (int k = start; k <= i; k++)
            {
                if (Scavenged[k])
                    scav++;
                Free[k] = false;
                Scavenged[k] = false;
            }
            return Base + start * (nint)MallocConstants.PageSize;
        }
        return 0;
    }
}
