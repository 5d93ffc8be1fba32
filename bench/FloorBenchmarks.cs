// The cost floor of the allocation benchmarks' loop: the same `IProcessor.Alloc(16)` calls as
// AllocBenchmarks.Batch1M16AndSweep, answered by a bump pointer that only zeroes the 16 bytes it
// hands out (no size classes, no spans, no sweep, no checks). No allocator behind this interface
// can cost less per object; it bounds the speed-up any Optimized allocator can show over the
// Reference on the batch workload. A second processor does only Go's nextFreeFast step on a native
// span record (allocCache shifted to freeindex, refilled at each 64-object group, 512 objects per
// span): the part of the Optimized fast path that the design fixes, with no checks, no
// refill from mcentral and no sweep.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;

namespace GoAlloc.Bench;

[MemoryDiagnoser]
public class FloorBenchmarks
{
    private const int Batch = 1_000_000;
    private BumpProcessor _p = null!;
    private AllocCacheProcessor _q = null!;

    [GlobalSetup]
    public unsafe void Setup()
    {
        _p = new BumpProcessor((nint)NativeMemory.AlignedAlloc(Batch * 16, 64));
        _q = new AllocCacheProcessor((nint)NativeMemory.AlignedAlloc(8192, 64));
    }

    [GlobalCleanup]
    public unsafe void Cleanup()
    {
        NativeMemory.AlignedFree((void*)_p.Base);
        _q.Dispose();
    }

    /// <summary>1M 16-byte objects through the interface, as the batch benchmark allocates them.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Batch1M16BumpPointer()
    {
        IProcessor p = _p;
        p.Flush();
        for (int i = 0; i < Batch; i++)
            p.Alloc(16);
    }

    /// <summary>1M 16-byte objects through the interface, each found by Go's allocCache step only.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Batch1M16AllocCacheOnly()
    {
        IProcessor p = _q;
        for (int i = 0; i < Batch; i++)
            p.Alloc(16);
    }

    /// <summary>Bump allocation over one native buffer: the least any IProcessor can do per Alloc.</summary>
    private sealed unsafe class BumpProcessor(nint start) : IProcessor
    {
        private nint _next;
        public nint Base { get; } = start;
        public int Id => 0;

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            nint x = _next;
            _next += (nint)((size + 15) & ~15L);
            if (needzero)
                Unsafe.InitBlockUnaligned((void*)x, 0, (uint)size);
            return x;
        }

        /// <summary>Starts the buffer over.</summary>
        public void Flush() => _next = Base;

        public void Release()
        {
        }
    }

    /// <summary>
    /// Go's nextFreeFast alone: one 512-object span of 16-byte objects whose allocCache is the
    /// complement of its (all clear) alloc bits shifted to freeindex. At a 64-object boundary it
    /// reloads the next group, and a full span starts over: what nextFreeIndex / refill would hand
    /// back for a span that was swept empty. The memory is not zeroed (a fresh span needs none).
    /// </summary>
    private sealed unsafe class AllocCacheProcessor(nint start) : IProcessor, IDisposable
    {
        private const int NElems = 512;
        private readonly SpanRecord* _s = Init(start);
        public int Id => 0;

        private static SpanRecord* Init(nint start)
        {
            var s = (SpanRecord*)NativeMemory.AllocZeroed((nuint)sizeof(SpanRecord));
            s->StartAddr = start;
            s->AllocCache = ~0UL;
            return s;
        }

        public nint Alloc(long size, bool noscan = false, bool needzero = true)
        {
            SpanRecord* s = _s;
            ulong cache = s->AllocCache;
            int theBit = BitOperations.TrailingZeroCount(cache);
            if (theBit < 64)
            {
                int result = s->FreeIndex + theBit;
                if (result < NElems)
                {
                    int freeidx = result + 1;
                    if ((freeidx & 63) != 0 || freeidx == NElems)
                    {
                        s->AllocCache = cache >> (theBit + 1);
                        s->FreeIndex = freeidx;
                        s->AllocCount++;
                        return s->StartAddr + result * 16;
                    }
                }
            }
            return NextFree(s);
        }

        /// <summary>The last object of a 64-object group (then the next group's cache), or a fresh span.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static nint NextFree(SpanRecord* s)
        {
            int theBit = BitOperations.TrailingZeroCount(s->AllocCache);
            int result = s->FreeIndex + theBit;
            if (theBit == 64 || result >= NElems)
            {
                result = 0;
                s->AllocCount = 0;
            }
            s->FreeIndex = result + 1;
            s->AllocCache = ~0UL >> ((result + 1) & 63);
            s->AllocCount++;
            return s->StartAddr + result * 16;
        }

        public void Flush()
        {
        }

        public void Release()
        {
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree((void*)_s->StartAddr);
            NativeMemory.Free(_s);
        }
    }

    private struct SpanRecord
    {
        public nint StartAddr;
        public ulong AllocCache;
        public int FreeIndex;
        public int AllocCount;
    }
}
