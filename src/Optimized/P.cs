// P: a processor and mallocgc (mirrors p in runtime/runtime2.go and mallocgc in malloc.go). The P
// is a managed handle; its mcache (spans, tiny block, page cache, counters) is native. Fast path:
// size_to_class8/128 lookup, nextFreeFast on the cached span's allocCache (one TZCNT), no lock, no
// atomic, no managed allocation; everything else (refill, large objects, sampling, allocate-black,
// bad input) falls to separate non-inlined methods (mimalloc's fast/slow split). Differs from Go:
// Go finds the P through the g in TLS and trusts it; here each call checks that the calling thread
// holds the P, against a [ThreadStatic] copy of the thread id.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GoAlloc.Optimized;

internal sealed unsafe class P : PBase, IProcessor
{
    private readonly MHeap _heap;
    internal readonly MCache* MCache;

    /// <summary>
    /// This thread's managed id, cached: Environment.CurrentManagedThreadId is an out-of-line call
    /// (about 3 ns here), a [ThreadStatic] int is one load. 0 until the thread's first slow-path
    /// check sets it, and 0 never matches a held P (idle is Owner 0, so the fast check also needs it nonzero).
    /// </summary>
    [ThreadStatic]
    private static int t_threadId;

    public P(MHeap heap, int id, MCache* mcache)
        : base(id)
    {
        _heap = heap;
        MCache = mcache;
    }

    internal void CheckOwner()
    {
        int owner = Volatile.Read(ref Owner);
        if (owner != Environment.CurrentManagedThreadId)
            ThrowHelper.NotOwner(Id, owner);
    }

    public void Release() => _heap.ReleaseP(this);

    public void Flush()
    {
        _heap.ThrowIfDisposed();
        CheckOwner();
        using (MHeap.ActingFor(Id))
        {
            if (_heap.Tracing)
                _heap.Trace(HeapTraceKind.Flush, null);
            MCache->ReleaseAll(_heap);
        }
        HookFaults.ThrowPending();
    }

    /// <summary>size -> size class through Go's two lookup tables (the 1016-byte boundary is Go's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int SizeToClass(long size) => size <= SizeClasses.SmallLookupMax
        ? SizeClasses.SizeToClass8[(int)(size + SizeClasses.SmallSizeDiv - 1) >> 3]
        : SizeClasses.SizeToClass128[(int)(size - SizeClasses.SmallSizeMax + SizeClasses.LargeSizeDiv - 1) >> 7];

    /// <summary>nextFreeFast: the next free slot from allocCache, or 0 at a 64-object boundary / empty cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint NextFreeFast(MSpan* s)
    {
        // One load of allocCache kept in a register: the shift chain from one call's store to the
        // next call's load is this loop's critical path (bench/FloorBenchmarks measures it).
        ulong cache = s->AllocCache;
        int theBit = BitOperations.TrailingZeroCount(cache);
        if (theBit < 64)
        {
            int result = s->FreeIndex + theBit;
            if (result < s->NElems)
            {
                int freeidx = result + 1;
                if ((freeidx & 63) == 0 && freeidx != s->NElems)
                    return 0;
                s->AllocCache = cache >> (theBit + 1);
                s->FreeIndex = freeidx;
                s->AllocCount++;
                return s->StartAddr + (nint)(result * s->ElemSize);
            }
        }
        return 0;
    }

    public nint Alloc(long size, bool noscan = false, bool needzero = true)
    {
        int me = t_threadId;
        if (Volatile.Read(ref Owner) != me || me == 0 || _heap.IsDisposed)
            CheckUsable();
        if ((ulong)(size - 1) >= SizeClasses.MaxSmallSize)
            return AllocOther(size, noscan, needzero);
        MCache* c = MCache;
        MSpan* s;
        nint x;
        long objSize;
        bool refilled = false;
        if (noscan && size < SizeClasses.MaxTinySize)
        {
            long off = TinyAlloc.AlignOffset(c->TinyOffset, size);
            if (off + size <= SizeClasses.MaxTinySize && c->Tiny != 0)
            {
                x = c->Tiny + (nint)off;
                c->TinyOffset = off + size;
                c->TinyAllocs++;
                // While marking, the block now holds an object allocated during the mark: black.
                if (_heap.Marking)
                    MarkTinyBlock(c->Tiny);
                return x;
            }
            s = c->Span(MallocConstants.TinySpanClass);
            x = NextFreeFast(s);
            if (x == 0)
            {
                x = c->NextFree(_heap, MallocConstants.TinySpanClass, Id);
                s = c->Span(MallocConstants.TinySpanClass);
                refilled = true;
            }
            ((long*)x)[0] = 0;
            ((long*)x)[1] = 0;
            if (size < c->TinyOffset || c->Tiny == 0)
            {
                c->Tiny = x;
                c->TinyOffset = size;
            }
            objSize = SizeClasses.MaxTinySize;
        }
        else
        {
            int spc = (SizeToClass(size) << 1) | (noscan ? 1 : 0);
            s = c->Span(spc);
            x = NextFreeFast(s);
            if (x == 0)
            {
                x = c->NextFree(_heap, spc, Id);
                s = c->Span(spc);
                refilled = true;
            }
            objSize = s->ElemSize;
            if (needzero && s->NeedZero != 0)
                ZeroObject(x, objSize);
        }
        if (_heap.Marking)
            MarkNew(s, x);
        if (objSize < c->NextSample)
            c->NextSample -= objSize;
        else
            ProfileAlloc(x, objSize);
        // A hook threw during the refill: the allocation finished (its address is lost to the
        // caller, and the object dies at the next cycle), then the exception is rethrown.
        if (refilled)
            HookFaults.ThrowPending();
        return x;
    }

    /// <summary>memclr of one small object: word stores up to 64 bytes (size classes are multiples of 8),
    /// the runtime's memset above that (a call costs more than the stores for the common small classes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroObject(nint x, long size)
    {
        if (size <= 64)
        {
            for (long i = 0; i < size; i += 8)
                *(long*)(x + (nint)i) = 0;
        }
        else
        {
            Unsafe.InitBlockUnaligned((void*)x, 0, (uint)size);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckUsable()
    {
        t_threadId = Environment.CurrentManagedThreadId;
        _heap.ThrowIfDisposed();
        CheckOwner();
    }

    /// <summary>The non-small cases: size 0, bad sizes, large objects.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint AllocOther(long size, bool noscan, bool needzero)
    {
        if (size == 0)
            return _heap.ZeroBase;
        if (size < 0 || size > MallocConstants.MaxAlloc)
            ThrowHelper.BadSize(size);
        MSpan* s = AllocLarge(size, needzero, noscan);
        nint x = s->StartAddr;
        if (_heap.Marking)
            MarkNew(s, x);
        MCache* c = MCache;
        if (s->ElemSize < c->NextSample)
            c->NextSample -= s->ElemSize;
        else
            ProfileAlloc(x, s->ElemSize);
        return x;
    }

    /// <summary>allocLarge: a span of its own (class 0) for an object over 32 KiB.</summary>
    private MSpan* AllocLarge(long size, bool needzero, bool noscan)
    {
        long npages = (size + MallocConstants.PageMask) >> MallocConstants.PageShift;
        using (MHeap.ActingFor(Id))
            _heap.DeductSweepCredit(npages * MallocConstants.PageSize, npages);
        HookFaults.ThrowPending(); // a hook threw while paying the sweep credit: nothing allocated yet
        int spc = noscan ? 1 : 0;
        MSpan* s = _heap.Alloc(checked((int)npages), spc, needzero, Id);
        MCache* c = MCache;
        c->LargeAllocs++;
        c->LargeAllocBytes += s->ElemSize;
        Interlocked.Add(ref _heap.Stats.HeapLive.Value, s->ElemSize);
        s->Limit = s->StartAddr + (nint)size;
        s->FreeIndex = 1;
        s->AllocCount = 1;
        // The large span lives in the full swept set so the sweeper finds it next cycle.
        _heap.PushSwept(_heap.Central[spc], s, _heap.SweepGen);
        return s;
    }

    /// <summary>Allocate black: an object allocated while marking is marked.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MarkNew(MSpan* s, nint x)
    {
        if (s->SetMarked(s->ObjIndex(x)))
            Interlocked.Add(ref _heap.Stats.BytesMarked, s->ElemSize);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MarkTinyBlock(nint block)
    {
        MSpan* s = _heap.SpanOf(block);
        if (s != null && s->SetMarked(s->ObjIndex(block)))
            Interlocked.Add(ref _heap.Stats.BytesMarked, s->ElemSize);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ProfileAlloc(nint x, long size)
    {
        int rate = _heap.Options.MemProfileRate;
        if (rate <= 0)
            return;
        MCache* c = MCache;
        c->NextSample = c->Sampler.NextSample(rate);
        c->Samples++;
        _heap.Options.OnSample?.Invoke(new SampledAllocation(x, size, Id));
    }
}
