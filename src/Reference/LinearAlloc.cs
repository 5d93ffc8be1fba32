// LinearAlloc: a bump allocator over one reserved region that maps memory as it goes
// (mirrors linearAlloc in runtime/malloc.go). The region is Reserved up front; each allocation maps
// (Reserved -> Prepared -> Ready) up to the next physical page boundary past its end. Nothing is ever
// freed until Dispose unmaps the whole region.
// C# difference: Go uses linearAlloc for arena metadata on 32-bit only; here it backs PersistentAlloc.
// Not thread-safe: the owner (PersistentAlloc) serialises calls.
namespace GoAlloc.Reference;

internal sealed class LinearAlloc : IDisposable
{
    private readonly nint _base;
    private readonly nint _end;
    private nint _next;   // first free byte
    private nint _mapped; // end of the mapped (Ready) prefix

    public LinearAlloc(nint reserveBytes)
    {
        _base = SysMem.SysReserve(0, reserveBytes);
        _next = _mapped = _base;
        _end = _base + reserveBytes;
    }

    /// <summary>Address space reserved for the region.</summary>
    public long ReservedBytes => _end - _base;

    /// <summary>Bytes mapped so far (metadata memory that counts as used).</summary>
    public long MappedBytes => _mapped - _base;

    /// <summary>Returns size bytes aligned to align, or 0 if the region is exhausted.</summary>
    public nint Alloc(nint size, nint align)
    {
        nint p = (_next + align - 1) & ~(align - 1);
        if (p + size > _end)
            return 0;
        _next = p + size;
        int phys = SysMem.PhysPageSize;
        nint pEnd = (_next - 1 + phys) & ~(nint)(phys - 1);
        if (pEnd > _mapped)
        {
            SysMem.SysMap(_mapped, pEnd - _mapped);
            SysMem.SysUsed(_mapped, pEnd - _mapped);
            _mapped = pEnd;
        }
        return p;
    }

    public void Dispose() => SysMem.SysFree(_base, _end - _base);
}
