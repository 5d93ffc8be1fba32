// HeapOpDecoder: turns any byte string into a valid sequence of heap operations on one thread and
// runs it (the fuzz target `heap-ops`; issue #20 item 4). Each byte picks an operation; the bytes
// after it its arguments. The decoder keeps the API's preconditions (a P is held to allocate,
// every P is released at a stop-the-world point, Mark only in the mark phase), so the only
// exception allowed out of the heap is OutOfMemoryException past MemoryLimit. Checks: every object
// the decoder knows to be live (allocated this cycle, or marked last cycle, or allocated black) is
// found allocated by FindObject; Verify passes after each cycle and at the end. Anything else
// thrown is a finding (FuzzFindingException or the heap's own exception).
namespace GoAlloc.Cli;

public sealed class FuzzFindingException(string message) : Exception(message);

public static class HeapOpDecoder
{
    private const int Procs = 2;
    private const long MemoryLimit = 256L << 20;

    public static void Run(byte[] data, Func<HeapOptions, IHeap> factory)
    {
        using IHeap heap = factory(new HeapOptions { Procs = Procs, MemoryLimit = MemoryLimit, MemProfileRate = 0 });
        var held = new IProcessor?[Procs];
        var live = new List<nint>();     // certainly live (see the header)
        var marked = new List<nint>();   // marked (or allocated black) in the current mark phase
        int at = 0;
        int Next() => at < data.Length ? data[at++] : 0;

        void ReleaseAll()
        {
            for (int i = 0; i < Procs; i++)
            {
                held[i]?.Release();
                held[i] = null;
            }
        }

        IProcessor Held(int id) => held[id] ??= heap.AcquireP(id);

        while (at < data.Length)
        {
            int op = Next();
            switch (op % 13)
            {
                case 0:
                    Held(Next() % Procs);
                    break;
                case 1:
                {
                    int id = Next() % Procs;
                    held[id]?.Release();
                    held[id] = null;
                    break;
                }
                case 2:
                case 3:
                {
                    IProcessor p = Held(Next() % Procs);
                    int flags = Next();
                    // Sizes: one byte (0..255), two (up to 64 KiB) or three bytes (up to 16 MiB).
                    long size = (flags & 3) switch
                    {
                        0 => Next(),
                        1 => Next() | (Next() << 8),
                        2 => Next() | (Next() << 8) | (Next() << 16),
                        _ => Next() & 15,
                    };
                    nint a;
                    try
                    {
                        a = p.Alloc(size, noscan: (flags & 4) != 0, needzero: (flags & 8) == 0);
                    }
                    catch (OutOfMemoryException)
                    {
                        heap.Verify();
                        break;
                    }
                    if (size == 0)
                    {
                        if (a != heap.ZeroBase)
                            throw new FuzzFindingException($"Alloc(0) returned 0x{a:x}, not ZeroBase");
                        break;
                    }
                    live.Add(a);
                    if (heap.Phase == GcPhase.Mark)
                        marked.Add(a); // allocated black
                    break;
                }
                case 4:
                    held[Next() % Procs]?.Flush();
                    break;
                case 5:
                    if (heap.Phase == GcPhase.Off)
                    {
                        ReleaseAll();
                        heap.StartMark();
                        marked.Clear();
                    }
                    break;
                case 6:
                    if (heap.Phase == GcPhase.Mark && live.Count > 0)
                    {
                        nint a = live[(Next() | (Next() << 8)) % live.Count];
                        if (!heap.Mark(a))
                            throw new FuzzFindingException($"Mark(0x{a:x}) of a live object returned false");
                        marked.Add(a);
                    }
                    break;
                case 7:
                    if (heap.Phase == GcPhase.Mark)
                    {
                        ReleaseAll();
                        heap.FinishMark();
                        live = [.. marked.Distinct()];
                        marked.Clear();
                        heap.Verify();
                    }
                    break;
                case 8:
                    heap.SweepOne();
                    break;
                case 9:
                    heap.FinishSweep();
                    break;
                case 10:
                    heap.Scavenge(Next() * 65536L);
                    break;
                case 11:
                    if (live.Count > 0)
                    {
                        nint a = live[(Next() | (Next() << 8)) % live.Count];
                        if (!heap.FindObject(a, out ObjectInfo info) || !info.Allocated || a < info.Base || a >= info.Base + (nint)info.Size)
                            throw new FuzzFindingException($"FindObject(0x{a:x}) of a live object: {info}");
                    }
                    break;
                default:
                    heap.SetGcPercent(Next() * 4 - 1);
                    break;
            }
        }
        ReleaseAll();
        heap.Verify();
    }
}
