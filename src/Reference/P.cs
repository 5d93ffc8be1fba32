// P: a processor (mirrors p in runtime/runtime2.go) and mallocgc (runtime/malloc.go). A P is
// owned by one thread between AcquireP and Release and carries the mcache and the page cache.
// Alloc follows mallocgc: size 0 -> zerobase; noscan under 16 bytes -> tiny block; up to 32 KiB ->
// size class (found here by a plain search of the class table; Go: size_to_class8/128); larger ->
// own span. During the mark phase new objects are allocated black; heap-profile sampling follows
// Go's nextSample. Differs from Go (mallocgc takes no lock until it needs a span): Alloc and
// Flush run under the one heap lock from start to end.
namespace GoAlloc.Reference;

internal sealed unsafe class P : PBase, IProcessor
{
    private readonly MHeap _heap;
    internal readonly MCache MCache;
    /// <summary>The per-P page cache (under the heap lock).</summary>
    internal PageCache PCache = new();

    public P(MHeap heap, int id)
        : base(id)
    {
        _heap = heap;
        MCache = new MCache(heap, this);
    }

    /// <summary>Throws unless the calling thread holds this P. Caller holds the heap lock.</summary>
    internal void CheckOwner()
    {
        int owner = Owner;
        if (owner != Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException(owner == 0
                ? $"P{Id} is not acquired"
                : $"P{Id} is held by thread {owner}, not by the calling thread {Environment.CurrentManagedThreadId}");
        }
    }

    public void Release() => _heap.ReleaseP(this);

    public void Flush()
    {
        lock (_heap.Lock)
        {
            _heap.ThrowIfDisposed();
            CheckOwner();
            using (_heap.ActingFor(Id))
            {
                if (_heap.Tracing)
                    _heap.Trace(HeapTraceKind.Flush, null);
                MCache.ReleaseAll();
            }
        }
        HookFaults.ThrowPending();
    }

    /// <summary>The smallest size class whose objects hold size bytes (plain search of class_to_size).</summary>
    internal static int SizeToClass(long size)
    {
        for (int c = 1; c < SizeClasses.NumSizeClasses; c++)
        {
            if (SizeClasses.ClassToSize[c] >= size)
                return c;
        }
        throw new ArgumentOutOfRangeException(nameof(size), size, "not a small size");
    }

    public nint Alloc(long size, bool noscan = false, bool needzero = true)
    {
        nint x;
        lock (_heap.Lock)
        {
            _heap.ThrowIfDisposed();
            CheckOwner();
            using (_heap.ActingFor(Id))
                x = AllocLocked(size, noscan, needzero);
        }
        // A hook threw during a refill: the allocation finished (its address is lost to the
        // caller, and the object dies at the next cycle), then the exception is rethrown.
        HookFaults.ThrowPending();
        return x;
    }

    /// <summary>mallocgc. Caller holds the heap lock and this P.</summary>
    private nint AllocLocked(long size, bool noscan, bool needzero)
    {
        if (size < 0 || size > MallocConstants.MaxAlloc)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"allocation size must be 0..{MallocConstants.MaxAlloc}");
        if (size == 0)
            return _heap.ZeroBase;

        MCache c = MCache;
        nint x;
        MSpan span;
        long objSize;
        if (size <= SizeClasses.MaxSmallSize)
        {
            if (noscan && size < SizeClasses.MaxTinySize)
            {
                // Tiny allocator: combine small noscan objects in one 16-byte block.
                long off = TinyAlloc.AlignOffset(c.TinyOffset, size);
                if (off + size <= SizeClasses.MaxTinySize && c.Tiny != 0)
                {
                    // Fits in the current block: no sampling (Go returns early too). While marking,
                    // the block must be black: it now holds an object allocated during the mark.
                    x = c.Tiny + (nint)off;
                    c.TinyOffset = off + size;
                    c.TinyAllocs++;
                    if (_heap.Marking)
                        MarkTinyBlock(c.Tiny);
                    return x;
                }
                // A new block.
                (x, span) = c.NextFree(MallocConstants.TinySpanClass);
                new Span<byte>((void*)x, SizeClasses.MaxTinySize).Clear();
                // Keep whichever block has more room left.
                if (size < c.TinyOffset || c.Tiny == 0)
                {
                    c.Tiny = x;
                    c.TinyOffset = size;
                }
                objSize = SizeClasses.MaxTinySize;
            }
            else
            {
                int sizeClass = SizeToClass(size);
                objSize = SizeClasses.ClassToSize[sizeClass];
                (x, span) = c.NextFree(GoAlloc.SpanClass.Make(sizeClass, noscan));
                if (needzero && span.NeedZero)
                    new Span<byte>((void*)x, (int)objSize).Clear();
            }
        }
        else
        {
            span = c.AllocLarge(size, needzero, noscan);
            x = span.StartAddr;
            objSize = span.ElemSize;
        }

        // Allocate black: an object allocated during marking is marked.
        if (_heap.Marking && span.SetMarked(span.ObjIndex(x)))
            _heap.Stats.BytesMarked += span.ElemSize;

        int rate = _heap.Options.MemProfileRate;
        if (rate > 0)
        {
            if (rate != 1 && objSize < c.NextSample)
                c.NextSample -= objSize;
            else
                ProfileAlloc(x, objSize, rate);
        }
        return x;
    }

    private void MarkTinyBlock(nint block)
    {
        MSpan? s = _heap.SpanOf(block);
        if (s != null && s.SetMarked(s.ObjIndex(block)))
            _heap.Stats.BytesMarked += s.ElemSize;
    }

    private void ProfileAlloc(nint x, long size, int rate)
    {
        MCache.NextSample = MCache.Sampler.NextSample(rate);
        MCache.Samples++;
        _heap.Options.OnSample?.Invoke(new SampledAllocation(x, size, Id));
    }
}
