// PageAlloc.Scavenge: the scavenger's page selection, with the Reference's policy (spec/SPEC.md),
// not Go's background scavenger: release up to ceil(nbytes / page) free, unscavenged pages,
// highest address first; each step takes the highest such page and extends the run downward
// inside its chunk while pages are free and unscavenged and the request is not yet met.
// Speed: chunks are visited from the top through the grown ranges, a chunk whose leaf summary is 0
// (no free page) is skipped without touching its bitmap, and inside a chunk the candidates
// (~inUse & ~scavenged) are found a 64-page word at a time with leading-zero counts.
// Only scavenged bits change, so no summary needs updating. Under the heap lock.
// C# differs from Go: Go's scavenger walks down from a high-water mark using
// findScavengeCandidate and physical-page alignment; this follows the Reference exactly.
using System.Numerics;

namespace GoAlloc.Optimized;

internal sealed unsafe partial class PageAlloc
{
    /// <summary>
    /// scavenge: releases up to ceil(nbytes / page) free, unscavenged pages, highest first, as
    /// described above. <paramref name="release"/> is called on each run (base, pages) before its
    /// scavenged bits are set. Returns the number of pages scavenged.
    /// </summary>
    public long Scavenge(long nbytes, Action<nint, int> release)
    {
        ArgumentNullException.ThrowIfNull(release);
        ObjectDisposedException.ThrowIf(_disposed, this);
        long want = nbytes / MallocConstants.PageSize + (nbytes % MallocConstants.PageSize != 0 ? 1 : 0);
        long done = 0;
        PallocSum* leaf = LeafSummary;
        for (int r = _inUse.Count - 1; r >= 0 && done < want; r--)
        {
            AddrRange range = _inUse[r];
            long first = ChunkIndex(range.Base);
            for (long ci = ChunkIndex(range.Limit) - 1; ci >= first && done < want; ci--)
            {
                if (leaf[ci].Value == 0)
                    continue; // every page in use: nothing to release here
                done += ScavengeChunk(ci, want - done, release);
            }
        }
        return done;
    }

    /// <summary>Free and unscavenged pages of word w of a chunk.</summary>
    private static ulong ScavengeCandidates(PallocData* chunk, int w) => ~(chunk->Alloc[w] | chunk->Scavenged[w]);

    /// <summary>Scavenges runs of chunk ci from its top down until <paramref name="remaining"/> pages are done.</summary>
    private long ScavengeChunk(long ci, long remaining, Action<nint, int> release)
    {
        PallocData* chunk = ChunkOf(ci);
        nint chunkBase = ChunkBase(ci);
        long done = 0;
        int w = PageBits.Words - 1;
        ulong cand = ScavengeCandidates(chunk, w);
        while (done < remaining)
        {
            // The highest candidate page at or below the cursor.
            while (cand == 0)
            {
                if (--w < 0)
                    return done;
                cand = ScavengeCandidates(chunk, w);
            }
            int bit = 63 - BitOperations.LeadingZeroCount(cand);
            int top = (w << 6) + bit;
            long limit = remaining - done;

            // Extend downward: the candidates at and below `bit` in this word, then whole lower words.
            long run = BitOperations.LeadingZeroCount(~(cand << (63 - bit)));
            if (run == bit + 1)
            {
                for (int lw = w - 1; lw >= 0 && run < limit; lw--)
                {
                    int ones = BitOperations.LeadingZeroCount(~ScavengeCandidates(chunk, lw));
                    run += ones;
                    if (ones < 64)
                        break;
                }
            }
            int n = (int)Math.Min(run, limit);
            int start = top - n + 1;
            release(chunkBase + (nint)start * (nint)MallocConstants.PageSize, n);
            chunk->Scavenged.SetRange(start, n);
            done += n;

            // Continue below the run.
            if (start == 0)
                return done;
            w = (start - 1) >> 6;
            cand = ScavengeCandidates(chunk, w) & PageBits.LowMask(((start - 1) & 63) + 1);
        }
        return done;
    }
}
