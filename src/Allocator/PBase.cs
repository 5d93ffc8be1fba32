// PBase: what a P is in both heaps (mirrors p in runtime/runtime2.go): its id and the thread that
// holds it. Each heap's P adds its mcache and mallocgc; ProcTable hands Ps out and takes them back.
// Differs from Go: Go's m owns a P (m.p / p.m); here a managed thread id, 0 when the P is idle.
namespace GoAlloc;

/// <summary>The id and the holder of a P, shared by both heaps' P.</summary>
internal abstract class PBase(int id)
{
    /// <summary>The P's index in allp, 0..Procs-1.</summary>
    public int Id { get; } = id;

    /// <summary>Managed thread id of the holder, 0 when idle. Written only by ProcTable, under the heap's P lock.</summary>
    internal int Owner;
}
