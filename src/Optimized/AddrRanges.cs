// AddrRanges: the sorted set of address ranges the page allocator has grown into (mirrors
// addrRanges in runtime/mranges.go, the pageAlloc.inUse field). Ranges are half-open [Base, Limit),
// sorted by address, pairwise disjoint, and never adjacent: Add merges a new range with the
// neighbours it touches, so a contiguous heap is one range. The page allocator uses it to map
// only the summary memory a growth newly needs, to move a candidate searchAddr into grown memory
// (golang/go#40191), to answer Contains, and to walk grown chunks for the scavenger and Verify.
// Owns a small managed array that only Add (heap growth, rare) reallocates; every query is a
// binary search with no allocation. Accessed under the heap lock.
// C# differs from Go: Go's findSucc is a linear scan (heaps have few ranges); this one bisects.
using System.Diagnostics;

namespace GoAlloc.Optimized;

/// <summary>addrRange: [Base, Limit).</summary>
internal readonly record struct AddrRange(nint Base, nint Limit)
{
    public nint Size => Limit > Base ? Limit - Base : 0;

    public bool Contains(nint addr) => addr >= Base && addr < Limit;

    /// <summary>
    /// subtract: this range minus <paramref name="b"/>, where b may cover this range, overlap one
    /// end of it, or miss it; b strictly inside this range would leave two pieces and is a bug.
    /// </summary>
    public AddrRange Subtract(AddrRange b)
    {
        if (b.Base <= Base && Limit <= b.Limit)
            return default;
        if (Base < b.Base && b.Limit < Limit)
            throw new InvalidOperationException($"addrRange.subtract: [0x{b.Base:x}, 0x{b.Limit:x}) lies strictly inside [0x{Base:x}, 0x{Limit:x})");
        if (b.Limit < Limit && Base < b.Limit)
            return this with { Base = b.Limit };
        if (Base < b.Base && b.Base < Limit)
            return this with { Limit = b.Base };
        return this;
    }
}

internal sealed class AddrRanges
{
    private AddrRange[] _ranges = new AddrRange[16];
    private int _count;

    public int Count => _count;

    public AddrRange this[int i]
    {
        get
        {
            Debug.Assert((uint)i < (uint)_count);
            return _ranges[i];
        }
    }

    /// <summary>Total bytes over all ranges.</summary>
    public long TotalBytes { get; private set; }

    /// <summary>findSucc: the index of the first range whose Base is strictly above addr (Count if none).</summary>
    public int FindSucc(nint addr)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].Base > addr)
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    }

    public bool Contains(nint addr)
    {
        int i = FindSucc(addr);
        return i > 0 && _ranges[i - 1].Contains(addr);
    }

    /// <summary>findAddrGreaterEqual: the lowest address in some range that is &gt;= addr.</summary>
    public bool TryFindAddrGreaterEqual(nint addr, out nint found)
    {
        int i = FindSucc(addr);
        if (i > 0 && _ranges[i - 1].Contains(addr))
        {
            found = addr;
            return true;
        }
        if (i < _count)
        {
            found = _ranges[i].Base;
            return true;
        }
        found = 0;
        return false;
    }

    /// <summary>add: inserts r (which must not overlap any range), merging it with touching neighbours.</summary>
    public void Add(AddrRange r)
    {
        Debug.Assert(r.Size > 0);
        int i = FindSucc(r.Base);
        bool coalescesDown = i > 0 && _ranges[i - 1].Limit == r.Base;
        bool coalescesUp = i < _count && r.Limit == _ranges[i].Base;
        if (coalescesDown && coalescesUp)
        {
            _ranges[i - 1] = _ranges[i - 1] with { Limit = _ranges[i].Limit };
            Array.Copy(_ranges, i + 1, _ranges, i, _count - i - 1);
            _count--;
        }
        else if (coalescesDown)
        {
            _ranges[i - 1] = _ranges[i - 1] with { Limit = r.Limit };
        }
        else if (coalescesUp)
        {
            _ranges[i] = _ranges[i] with { Base = r.Base };
        }
        else
        {
            if (_count == _ranges.Length)
                Array.Resize(ref _ranges, _ranges.Length * 2);
            Array.Copy(_ranges, i, _ranges, i + 1, _count - i);
            _ranges[i] = r;
            _count++;
        }
        TotalBytes += r.Size;
    }

    /// <summary>A copy of the ranges in address order (tests, diagnostics).</summary>
    public AddrRange[] ToArray() => _ranges.AsSpan(0, _count).ToArray();
}
