// HeapSnapshot's parts with behaviour of their own: the span bitmap copy (BitSet, Bits) keeps a bit
// per object, so that Verify's snapshot of a heap of millions of small objects stays small (a bool
// per bit once outgrew the 128 MiB GC heap of the out-of-memory probe), and reads the heap's
// bitmap layout (bit i = byte i/8, bit i%8) exactly.
using Xunit;

namespace GoAlloc.Tests.Allocator;

public sealed unsafe class HeapSnapshotTests
{
    [Fact]
    public void Bits_ReadsBitIOfByteIOver8_AndNothingPastCount()
    {
        byte[] raw = [0b1000_0101, 0b0000_0010, 0xFF];
        fixed (byte* p = raw)
        {
            HeapSnapshot.BitSet b = HeapSnapshot.Bits(p, 16);
            Assert.Equal(16, b.Length);
            int[] set = [.. Enumerable.Range(0, 16).Where(i => b[i])];
            Assert.Equal([0, 2, 7, 9], set);
            Assert.Equal(4, b.Count(x => x)); // the enumerator stops at Length: byte 2's bits are not read
        }
    }

    [Fact]
    public void Bits_ReadsWholeWords_AndClearsThePartialLastWordPastCount()
    {
        byte[] raw = new byte[24];
        Array.Fill(raw, (byte)0xFF);
        raw[1] = 0b0000_0100; // bit 10 only, in the first word
        raw[8] = 0b1010_0001; // bits 64, 69 (the last of 70) and 71 (past it)
        fixed (byte* p = raw)
        {
            HeapSnapshot.BitSet b = HeapSnapshot.Bits(p, 70);
            Assert.Equal(70, b.Length);
            Assert.Equal(~0xFF00UL | (1UL << 10), b.Word(0));
            Assert.Equal(0b10_0001UL, b.Word(1)); // bits 64 and 69; 71 and byte 9's bits are past 70
            Assert.True(b[69]);
            Assert.Equal(0UL, b.Word(2)); // past the words: 0
        }
    }

    [Fact]
    public void BitSet_SetAndClearEachBitAcrossWords()
    {
        var b = new HeapSnapshot.BitSet(130);
        foreach (int i in new[] { 0, 63, 64, 127, 128, 129 })
        {
            b[i] = true;
            Assert.True(b[i]);
            Assert.Equal(1, b.Count(x => x));
            b[i] = false;
            Assert.False(b[i]);
            Assert.DoesNotContain(true, b);
        }
        HeapSnapshot.BitSet fromArray = new[] { false, true, true };
        Assert.Equal([false, true, true], fromArray.ToArray());
        HeapSnapshot.BitSet empty = [];
        Assert.Equal(0, empty.Length);
    }

    [Fact]
    public void BitSet_TakesABitPerObject_NotAByte()
    {
        const int n = 1 << 20;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var b = new HeapSnapshot.BitSet(n);
        long took = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(took, n / 8, n / 8 + 1024);
        b[n - 1] = true;
        Assert.True(b[n - 1]);
    }
}
