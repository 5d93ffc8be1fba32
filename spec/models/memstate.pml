/*
 * memstate.pml -- OS memory states of heap pages, the scavenger racing page reuse, and the
 * heap_released account (SPEC.md 2.1, 4.3, 4.4, 4.10; INV-PAGE-1, INV-PAGE-2, INV-MEM-1).
 *
 * One arena of NPG pages, grown into the page allocator in chunks of CHUNK pages; a per-P page
 * cache covers one CHUNK-aligned block (Go: 64-page blocks in 512-page chunks; scaled down).
 *   os[i]      None / Reserved / Prepared / Ready, changed only through the sys* inlines, each of
 *              which asserts its legal source states (SPEC.md 2.1).
 *   alloc[i]   page bitmap: 1 = allocated (to a span or to a page cache).
 *   scav[i]    scavenged bitmap.
 *   cfree/cscav  P0's page cache: free pages it holds and their scavenged bits.
 * Actors (each does ROUNDS rounds, then stops):
 *   A0   allocates 1-page spans through its page cache (refill = allocToCache under the heap
 *        lock; cache.alloc without the lock; fallback pageAlloc.alloc under the lock, growing),
 *        then sysUsed if any page was scavenged, then subtracts from heap_released, uses the
 *        page, and frees it under the lock.
 *   A1   allocates 2-page spans directly from the page allocator (npages >= 16 in the real heap).
 *   Scav Scavenge(1 or 2 pages) under the heap lock: highest free unscavenged page first, run
 *        extended downward, sysUnused, scavenged bits set, heap_released += run.
 *   Dispose (after all): flushes the page cache back, checks, sysFree's the arena.
 * Ghost: owner[i] (0 free or never grown, 1 in a page cache, 2 being allocated, 3 handed out),
 *        inflight = scavenged pages taken by allocations whose heap_released update is pending.
 *
 * Invariants (monitor, every state; the bitmap ones whenever the heap lock is free):
 *   M1 a handed-out page is Ready;
 *   M2 a free page of a grown chunk: scavenged <=> Prepared; an allocated page is not scavenged;
 *   M3 a free page in the page cache: cache-scavenged <=> Prepared;
 *   M4 heap_released = scavenged free pages + scavenged cache pages + mapped pages not yet grown
 *      + inflight.
 *
 * Every assertion carries a name, the [tag] that opens its comment (unique in this file).
 * Liveness (ltl requests_complete, at the end): every request (a round of A0, A1, Scav) completes.
 *
 * Seeded bugs (spec/check requires a counterexample of the assertion or property it names):
 *   BUG_SCAV_NOLOCK      the scavenger does not take the heap lock
 *   BUG_NO_CLEAR_SCAV    allocation does not clear the scavenged bits of the pages it takes
 *   BUG_SCAV_AFTER_CLEAR allocation counts scavenged pages after clearing the bits (so it
 *                        never calls sysUsed and never adjusts heap_released)
 *   BUG_CACHE_DROPS_SCAV allocToCache clears the bitmap's scavenged bits without carrying them
 *                        into the cache
 *   BUG_SCAV_RETRY       (liveness only) a scavenge request that finds no free unscavenged page
 *                        drops the heap lock and looks again until it has released what it was
 *                        asked for; once the allocators stop, it waits forever. No safety
 *                        assertion fails.
 */

#define NPG 4
#define CHUNK 2
#define NCHUNK (NPG / CHUNK)
#ifndef ROUNDS
#define ROUNDS 3
#endif
#define NONE 255

#define S_NONE 0
#define S_RESERVED 1
#define S_PREPARED 2
#define S_READY 3

byte os[NPG];                    /* all None: the arena is not reserved yet */
bit  alloc[NPG];
bit  scav[NPG];
byte owner[NPG];                 /* ghost */
bit  grown[NCHUNK];
bit  mapped;                     /* the arena was reserved and sysMap'd */
byte heapSys;                    /* pages */
byte heapReleased;               /* pages */
byte inflight;                   /* ghost */
bit  lock;
byte cbase = NONE;               /* page-cache block (chunk index) */
bit  cfree[CHUNK];
bit  cscav[CHUNK];
byte finished;

/* ================================================================ OS layer (SPEC.md 2.1) */

inline sysReserveArena() {       /* mmap(hint, PROT_NONE): None -> Reserved */
  i = 0;
  do :: i < NPG -> assert(os[i] == S_NONE); os[i] = S_RESERVED; i++ :: else -> break od  /* [os-reserve] None -> Reserved */
}
inline sysMapArena() {           /* mmap(MAP_FIXED, RW): Reserved -> Prepared */
  i = 0;
  do :: i < NPG -> assert(os[i] == S_RESERVED); os[i] = S_PREPARED; i++ :: else -> break od  /* [os-map] Reserved -> Prepared */
}
inline sysUsed(pg) {             /* Prepared|Ready -> Ready (no syscall on Linux) */
  assert(os[pg] == S_PREPARED || os[pg] == S_READY); os[pg] = S_READY  /* [os-used] Prepared|Ready -> Ready */
}
inline sysUnused(pg) {           /* madvise(MADV_DONTNEED): Ready -> Prepared */
  assert(os[pg] == S_READY); os[pg] = S_PREPARED  /* [os-unused] Ready -> Prepared */
}
inline sysFreeArena() {          /* munmap: any -> None */
  i = 0;
  do :: i < NPG -> os[i] = S_NONE; i++ :: else -> break od
}

/* ================================================================ page allocator (under lock) */

inline lockHeap()   { atomic { lock == 0 -> lock = 1 } }
inline unlockHeap() { lock = 0 }

/* mheap.grow: map the arena on first use (counted released), then add the next chunk. */
inline growHeap(ok) {
  atomic {
    if
    :: !mapped ->
       sysReserveArena(); sysMapArena();
       mapped = 1; heapSys = NPG; heapReleased = heapReleased + NPG
    :: else -> skip
    fi;
    c = 0;
    do
    :: c < NCHUNK && grown[c] -> c++
    :: c < NCHUNK && !grown[c] ->
       grown[c] = 1;
       i = c * CHUNK;
       do
       :: i < (c + 1) * CHUNK -> alloc[i] = 0; scav[i] = 1; i++   /* new memory is scavenged */
       :: else -> break
       od;
       ok = 1; break
    :: c >= NCHUNK -> ok = 0; break                                 /* arena exhausted */
    od;
    c = 0; i = 0
  }
}

#define FREEPG(i) (grown[(i) / CHUNK] && !alloc[i])

/* pageAlloc.alloc(n): lowest run of n free pages; marks them allocated, clears their scavenged
   bits, reports how many were scavenged (sc) and records them in flight. base = NONE if none. */
inline pageAllocRun(n, base, sc) {
  atomic {
    base = NONE; i = 0;
    do
    :: i + n <= NPG && FREEPG(i) && (n == 1 || FREEPG(i + 1)) -> base = i; break
    :: i + n <= NPG && !(FREEPG(i) && (n == 1 || FREEPG(i + 1))) -> i++
    :: i + n > NPG -> break
    od;
    if
    :: base != NONE ->
       sc = 0; i = base;
       do
       :: i < base + n ->
#ifdef BUG_SCAV_AFTER_CLEAR
          scav[i] = 0; sc = sc + scav[i];
#else
          sc = sc + scav[i];
#ifndef BUG_NO_CLEAR_SCAV
          scav[i] = 0;
#endif
#endif
          alloc[i] = 1; owner[i] = 2; i++
       :: else -> break
       od;
       inflight = inflight + sc
    :: else -> skip
    fi;
    i = 0
  }
}

/* pageAlloc.allocToCache: the CHUNK-aligned block holding the lowest free page goes to the
   cache: its free pages (with their scavenged bits) become the cache; all its pages are marked
   allocated and their bitmap scavenged bits cleared. */
inline allocToCache() {
  atomic {
    i = 0;
    do
    :: i < NPG && FREEPG(i) -> break
    :: i < NPG && !FREEPG(i) -> i++
    :: i >= NPG -> break
    od;
    if
    :: i < NPG ->
       cbase = i / CHUNK; i = cbase * CHUNK;
       do
       :: i < (cbase + 1) * CHUNK ->
          cfree[i - cbase * CHUNK] = !alloc[i];
#ifdef BUG_CACHE_DROPS_SCAV
          cscav[i - cbase * CHUNK] = 0;
#else
          cscav[i - cbase * CHUNK] = scav[i];
#endif
          if :: !alloc[i] -> owner[i] = 1 :: else -> skip fi;
          alloc[i] = 1; scav[i] = 0; i++
       :: else -> break
       od
    :: else -> skip
    fi;
    i = 0
  }
}

/* ================================================================ actors */

proctype A0() {                  /* 1-page spans through the page cache */
  byte r, pg, sc, i, c, j;
  bit ok;
  r = 0;
  do
  :: r < ROUNDS ->
     /* refill an empty cache under the lock */
     if
     :: cbase == NONE || (!cfree[0] && !cfree[1]) ->
        lockHeap(); atomic { cbase = NONE; allocToCache() }; unlockHeap()
     :: else -> skip
     fi;
     /* cache.alloc(1): lowest free page, no lock */
     atomic {
       pg = NONE; sc = 0;
       if
       :: cbase != NONE && cfree[0] -> j = 0
       :: cbase != NONE && !cfree[0] && cfree[1] -> j = 1
       :: else -> j = NONE
       fi;
       if
       :: j != NONE ->
          pg = cbase * CHUNK + j; sc = cscav[j]; cfree[j] = 0; cscav[j] = 0;
          owner[pg] = 2; inflight = inflight + sc
       :: else -> skip
       fi;
       j = 0
     }
     /* fallback: pageAlloc.alloc(1) under the lock, growing once */
     if
     :: pg == NONE ->
        lockHeap();
        pageAllocRun(1, pg, sc);
        if
        :: pg == NONE -> growHeap(ok); if :: ok -> pageAllocRun(1, pg, sc) :: else -> skip fi
        :: else -> skip
        fi;
        unlockHeap()
     :: else -> skip
     fi;
     if
     :: pg != NONE ->
        /* commit: sysUsed the span if any page was scavenged, then account */
        atomic { if :: sc > 0 -> sysUsed(pg) :: else -> skip fi; owner[pg] = 3 }
        atomic { heapReleased = heapReleased - sc; inflight = inflight - sc; sc = 0 }
        assert(os[pg] == S_READY);                          /* [used-ready] the span is used */
        lockHeap(); atomic { alloc[pg] = 0; owner[pg] = 0; pg = NONE }; unlockHeap()
     :: else -> skip                                         /* out of memory */
     fi;
     r++
  :: else -> break
  od;
  atomic { finished++ }
}

proctype A1() {                  /* 2-page spans straight from the page allocator */
  byte r, base, sc, i, c;
  bit ok;
  r = 0;
  do
  :: r < ROUNDS ->
     lockHeap();
     pageAllocRun(2, base, sc);
     if
     :: base == NONE -> growHeap(ok); if :: ok -> pageAllocRun(2, base, sc) :: else -> skip fi
     :: else -> skip
     fi;
     unlockHeap();
     if
     :: base != NONE ->
        atomic {
          if :: sc > 0 -> sysUsed(base); sysUsed(base + 1) :: else -> skip fi;
          owner[base] = 3; owner[base + 1] = 3
        }
        atomic { heapReleased = heapReleased - sc; inflight = inflight - sc; sc = 0 }
        lockHeap();
        atomic { alloc[base] = 0; alloc[base + 1] = 0; owner[base] = 0; owner[base + 1] = 0; base = NONE };
        unlockHeap()
     :: else -> skip
     fi;
     r++
  :: else -> break
  od;
  atomic { finished++ }
}

#define CANDIDATE(i) (grown[(i) / CHUNK] && !alloc[i] && !scav[i])

proctype Scavenger() {           /* Scavenge(want pages), highest address first */
  byte r, want, done, top, lo, i;
  r = 0;
  do
  :: r < ROUNDS ->
     if :: want = 1 :: want = 2 fi;
     done = 0;
#ifndef BUG_SCAV_NOLOCK
     lockHeap();
#endif
     do
     :: done >= want -> break
     :: else ->
        /* the highest free, unscavenged page; extend the run downward */
        atomic {
          top = NPG;
          do
          :: top > 0 && CANDIDATE(top - 1) -> break
          :: top > 0 && !CANDIDATE(top - 1) -> top--
          :: top == 0 -> break
          od
        }
        if
#ifdef BUG_SCAV_RETRY
        :: top == 0 -> unlockHeap(); lockHeap()               /* waits for a page to free up */
#else
        :: top == 0 -> break                                   /* nothing left */
#endif
        :: else ->
           atomic {
             top--; lo = top;
             do
             :: lo > 0 && CANDIDATE(lo - 1) && top - lo + 1 < want - done -> lo--
             :: else -> break
             od
           }
           /* sysUnused the run, then set the scavenged bits and account */
           atomic { i = lo; do :: i <= top -> sysUnused(i); i++ :: else -> break od }
           atomic {
             i = lo;
             do :: i <= top -> scav[i] = 1; i++ :: else -> break od;
             heapReleased = heapReleased + (top - lo + 1);
             done = done + (top - lo + 1); i = 0; lo = 0; top = 0
           }
        fi
     od;
#ifndef BUG_SCAV_NOLOCK
     unlockHeap();
#endif
     r++
  :: else -> break
  od;
  atomic { finished++ }
}

/* ================================================================ invariants */

#define UNGROWN(i) (mapped && !grown[(i) / CHUNK])
#define M1PG(i) (owner[i] != 3 || os[i] == S_READY)
#define M2PG(i) (lock || !grown[(i) / CHUNK] || \
                 ((alloc[i] || (scav[i] == (os[i] == S_PREPARED))) && (!alloc[i] || !scav[i])))
#define M2UG(i) (!UNGROWN(i) || os[i] == S_PREPARED)
#define M3PG(j) (cbase == NONE || !cfree[j] || (cscav[j] == (os[cbase * CHUNK + (j)] == S_PREPARED)))
#define RELPG(i) ((((grown[(i) / CHUNK] && !alloc[i] && scav[i]) || UNGROWN(i)) -> 1 : 0))
#define RELC(j)  ((cbase != NONE && cfree[j] && cscav[j]) -> 1 : 0)
#define M1 (M1PG(0) && M1PG(1) && M1PG(2) && M1PG(3))
#define M2 (M2PG(0) && M2PG(1) && M2PG(2) && M2PG(3) && M2UG(0) && M2UG(1) && M2UG(2) && M2UG(3))
#define M3 (M3PG(0) && M3PG(1))
#define M4 (lock || heapReleased == RELPG(0) + RELPG(1) + RELPG(2) + RELPG(3) + RELC(0) + RELC(1) + inflight)

active proctype Monitor() {
end:
  atomic {
    !(M1 && M2 && M3 && M4) ->
    assert(M1);    /* [M1] a handed-out page is Ready */
    assert(M2);    /* [M2] free page scavenged <=> Prepared; allocated page not scavenged; ungrown Prepared */
    assert(M3);    /* [M3] free cache page cache-scavenged <=> Prepared */
    assert(M4)     /* [M4] heap_released = scavenged free + scavenged cached + ungrown + in flight */
  }
}

init {
  byte i, j;
  atomic { run A0(); run A1(); run Scavenger() }
  finished == 3;
  /* Dispose: give the cache back (pageCache.flush), check, unmap */
  atomic {
    if
    :: cbase != NONE ->
       j = 0;
       do
       :: j < CHUNK ->
          i = cbase * CHUNK + j;
          if :: cfree[j] -> alloc[i] = 0; scav[i] = cscav[j]; owner[i] = 0; cfree[j] = 0; cscav[j] = 0
             :: else -> skip fi;
          j++
       :: else -> break
       od;
       cbase = NONE
    :: else -> skip
    fi;
    assert(inflight == 0);  /* [dispose-inflight] no heap_released update pending at Dispose */
    i = 0;
    do :: i < NPG -> assert(!alloc[i] && owner[i] == 0); i++ :: else -> break od;  /* [dispose-free] every page given back before Dispose */
    if
    :: mapped ->
       sysFreeArena();
       i = 0;
       do :: i < NPG -> scav[i] = 0; i++ :: else -> break od;
       i = 0;
       do :: i < NCHUNK -> grown[i] = 0; i++ :: else -> break od;
       heapSys = 0; heapReleased = 0; mapped = 0
    :: else -> skip
    fi
  }
}

/* Liveness, checked with pan -a -f (weak fairness): every actor completes its ROUNDS requests.
   The correct model has no busy wait (the heap lock is a blocking await), so this holds even
   without fairness; BUG_SCAV_RETRY adds one that never ends. */
ltl requests_complete { <> (finished == 3) }
