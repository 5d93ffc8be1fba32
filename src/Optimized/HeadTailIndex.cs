// HeadTailIndex: the head and the tail of a SpanSet packed into one 64-bit word (mirrors
// headTailIndex in runtime/mspanset.go): head in the high 32 bits, tail in the low 32. Both count
// positions in the logical concatenation of the set's blocks; head <= tail, equal when empty.
// One word lets a popper claim the head with a single CAS that also sees the latest tail, and lets
// a pusher reserve a slot with a single atomic add. 32 bits give 2^32 pushes between two Resets;
// the 2^32nd wraps the tail to 0, which IncTail detects and throws on (the carry has already
// spoiled the head, so the set is unusable).
// The word is the most contended field of a set: it sits alone in a 128-byte explicitly laid-out
// struct, 64 bytes of padding on each side, so that neither the spine fields of its own set nor
// the neighbouring fields of the owner share its cache line (the false-sharing guard of
// ConcurrentQueueSegment's PaddedHeadAndTail). Every access is atomic.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GoAlloc.Optimized;

[StructLayout(LayoutKind.Explicit, Size = 2 * CacheLineSize)]
internal struct HeadTailIndex
{
    /// <summary>cpu.CacheLineSize on amd64.</summary>
    public const int CacheLineSize = 64;

    // head << 32 | tail. Atomic only (Volatile / Interlocked). Stored as long: the long overloads
    // are the oldest ones, the safe choice for Coyote's rewriter (the ulong ones are untried there).
    [FieldOffset(CacheLineSize)]
    private long _value;

    /// <summary>makeHeadTailIndex: a word holding <paramref name="head"/> and <paramref name="tail"/>.</summary>
    public HeadTailIndex(uint head, uint tail) => _value = (long)Make(head, tail);

    /// <summary>Packs a head and a tail into one word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Make(uint head, uint tail) => (ulong)head << 32 | tail;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Head(ulong ht) => (uint)(ht >> 32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Tail(ulong ht) => (uint)ht;

    /// <summary>A plain read, for quiescent callers (Verify's snapshots): no barrier, no Coyote scheduling point.</summary>
    public readonly ulong LoadPlain() => (ulong)_value;

    /// <summary>The current (head, tail) word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Load()
    {
        // Reads head and tail together: the pair was true at one instant, though pushers and
        // poppers may have moved either half by the time the caller looks at it.
        return (ulong)Volatile.Read(ref _value);
    }

    /// <summary>
    /// Moves the head one step forward if the word still equals <paramref name="old"/>; false if a
    /// pusher or a popper changed it first (the caller reloads and decides again).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool CasHead(ulong old)
    {
        // Claims slot Head(old) for this popper. Fails if another popper took it, or if a pusher
        // moved the tail meanwhile (then the same head is still there to retry with the new tail).
        return Interlocked.CompareExchange(ref _value, (long)(old + (1UL << 32)), (long)old) == (long)old;
    }

    /// <summary>
    /// Reserves the next tail slot and returns the word after the increment: the reserved position
    /// is Tail(result) - 1. Throws when the tail wraps (2^32 pushes since the last Reset).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong IncTail()
    {
        // Reserves position tail for this pusher alone. Poppers may see the new tail before the
        // span is stored in that slot; they wait for the slot to become non-zero.
        ulong ht = (ulong)Interlocked.Increment(ref _value);
        if (Tail(ht) == 0)
            ThrowOverflow(ht);
        return ht;
    }

    /// <summary>Sets head and tail back to 0. Only for a set nobody else is touching (SpanSet.Reset).</summary>
    public void Reset()
    {
        // Publishes the empty (0, 0) index; the caller guarantees no concurrent push or pop.
        Volatile.Write(ref _value, 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOverflow(ulong ht) =>
        throw new HeapInvariantException("INV-SPANSET-1",
            $"headTailIndex overflow: head = {Head(ht)}, tail = {Tail(ht)} (2^32 pushes without a reset)");
}
