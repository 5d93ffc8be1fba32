// MemProfileSampler: Go's heap-profile sampling distance (runtime/malloc.go nextSample/fastexprand)
// driven by Go's fastrand xorshift64+ generator, seeded so runs are reproducible. One per P, like
// Go's per-M fastrand state. C# difference: fastlog2's table approximation is replaced by Math.Log2.
namespace GoAlloc;

/// <summary>One P's heap-profile sampling state: a seeded fastrand generator and nextSample.</summary>
public struct MemProfileSampler
{
    private const int RandomBitCount = 26;
    private const double MinusLog2 = -0.6931471805599453; // -ln(2)
    private uint _s0, _s1;

    /// <summary>Seeds P <paramref name="p"/>'s generator from <paramref name="seed"/> (HeapOptions.SampleSeed): the same seed and P give the same samples.</summary>
    public MemProfileSampler(ulong seed, int p)
    {
        // splitmix64 spreads (seed, p) into a nonzero xorshift state.
        ulong z = seed + (ulong)(p + 1) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        _s0 = (uint)z | 1;
        _s1 = (uint)(z >> 32) | 2;
    }

    /// <summary>Go's fastrand: two 32-bit xorshift sequences added together (shift triplet 17, 7, 16).</summary>
    public uint FastRand()
    {
        uint s1 = _s0, s0 = _s1;
        s1 ^= s1 << 17;
        s1 = s1 ^ s0 ^ (s1 >> 7) ^ (s0 >> 16);
        _s0 = s0;
        _s1 = s1;
        return s0 + s1;
    }

    /// <summary>nextSample: bytes until the next sample, exponentially distributed with mean <paramref name="rate"/>.</summary>
    public long NextSample(int rate)
    {
        if (rate <= 0)
            return long.MaxValue;
        if (rate == 1)
            return 0;
        int mean = Math.Min(rate, 0x7000000);
        uint q = FastRand() % (1u << RandomBitCount) + 1;
        double qlog = Math.Log2(q) - RandomBitCount;
        if (qlog > 0)
            qlog = 0;
        return (int)(qlog * (MinusLog2 * mean)) + 1;
    }
}
