/*
 * spanset.pml -- Go's lock-free spanSet (runtime/mspanset.go, Go 1.16) with block reuse.
 * SPEC.md section 2.6 describes the data structure; this model checks its concurrency protocol.
 *
 * Scaled down: ENTRIES slots per block (Go: 512), a spine that never needs regrowing (the
 * spine copy is not modelled: old spines are never freed, so a stale spine pointer is still a
 * valid array), PUSHERS pushers each pushing ITEMS distinct spans, POPPERS poppers.
 *
 * Shared state, as in Go:
 *   head, tail   the packed 64-bit headTailIndex; every access reads or writes both halves
 *                at once (atomic{} here): push = incTail (fetch-add), pop = CAS on the word.
 *   spine[]      block pointers (0 = nil), spineLen published after the pointer it covers.
 *   slot[b][i]   span pointers inside block b (0 = nil), popped[b] = pops finished in b.
 *   pool         free blocks (Go's lock-free stack spanSetBlockPool); modelled as a set
 *                from which alloc takes any free block (a superset of LIFO behaviour).
 *
 * Ghost state (not in Go, only for the assertions):
 *   expected[k]  the span pushed at logical index k (k = top*ENTRIES + bottom).
 *   pending[t]   poppers that claimed a slot of logical block t and have not yet done their
 *                popped-counter increment, i.e. that may still read the block.
 *   times[s]     how many times span s was popped.
 *
 * Checked:
 *   - a popper that won the CAS never sees a nil block (spineLen covers it);
 *   - it reads exactly the span pushed at its index (no lost or foreign span);
 *   - no span is popped twice; when the set is empty and quiescent every span was popped;
 *   - a block goes back to the pool only when no popper may still read it and it holds no span.
 * Every assertion carries a name, the [tag] that opens its comment (unique in this file).
 * Liveness (ltl pop_succeeds, at the end): every pushed span is eventually popped.
 *
 * Switches (each must give a counterexample of the assertion or property spec/check names):
 *   -DBUG_FREE_ON_CLAIM   the popper that claimed the block's last slot frees the block when it
 *                         is done, instead of the popper whose increment makes popped == ENTRIES
 *   -DBUG_SPINELEN_FIRST  spineLen is published before the block pointer
 *   -DBUG_GO116_OVERTAKE  Go 1.16's locked path (stores spine[top], sets spineLen = old+1) with
 *                         ENTRIES+1 concurrent pushers: a pusher of block k+1 can overtake all
 *                         pushers of block k and leave spine[k] nil below spineLen. The fixed
 *                         protocol (SPEC.md 2.6) fills every missing spine slot up to top.
 *                         Use with -DPUSHERS=3 -DITEMS=1.
 *   -DBUG_CAS_STALE       (liveness only) a popper whose CAS failed retries with the head and
 *                         tail it read first instead of reloading them: once the tail moved, its
 *                         CAS can never succeed again; once every popper is stuck so, the spans
 *                         left are never popped. No safety assertion fails.
 */

#ifndef ENTRIES
#define ENTRIES 2
#endif
#ifndef PUSHERS
#define PUSHERS 2
#endif
#ifndef ITEMS
#define ITEMS 2
#endif
#ifndef POPPERS
#define POPPERS 2
#endif

#define TOTAL    (PUSHERS * ITEMS)
#define NTOP     ((TOTAL + ENTRIES - 1) / ENTRIES)   /* logical blocks ever needed */
#define NBLK     (NTOP + 1)                          /* block ids 1..NTOP; 0 = nil */

byte head, tail;                 /* headTailIndex */
byte spine[NTOP];                /* block id per logical block, 0 = nil */
byte spineLen;
bit  spineLock;
byte slot[NBLK * ENTRIES];       /* slot[b*ENTRIES + i]: span id, 0 = nil */
byte popped[NBLK];
bit  inPool[NBLK];               /* block is in the free pool */
byte created;                    /* blocks created so far (persistentalloc) */

byte expected[TOTAL];            /* ghost */
byte pending[NTOP];              /* ghost */
byte times[TOTAL + 1];           /* ghost, indexed by span id */
byte npopped;                    /* ghost: pops completed */
byte pushersDone;                /* ghost */
byte inPop;                      /* ghost: poppers between claim and completion */

#define SLOT(b, i) slot[(b) * ENTRIES + (i)]

/* spanSetBlockPool.alloc: take a pooled block if any, else create one. Caller holds spineLock. */
inline blockAlloc(b) {
  atomic {
    b = 1;
    do
    :: b < NBLK && inPool[b] -> inPool[b] = 0; break
    :: b < NBLK && !inPool[b] -> b++
    :: b >= NBLK -> created++; assert(created < NBLK); b = created; break  /* [bound-blocks] model bound: NBLK blocks suffice */
    od
  }
}

/* spanSetBlockPool.free: popped := 0, then push on the lock-free stack. */
inline blockFree(b) {
  atomic {
    k = 0;
    do
    :: k < ENTRIES -> assert(SLOT(b, k) == 0); k++     /* [free-empty] no span left inside */
    :: else -> k = 0; break
    od;
    popped[b] = 0;
    inPool[b] = 1
  }
}

proctype Pusher(byte id) {
  byte i, s, cursor, top, bottom, sl, b;
  i = 0;
  do
  :: i < ITEMS ->
     /* Obtain our slot: fetch-add on the packed word (tail half). Local arithmetic is folded
        into the neighbouring shared access to keep the state space small. */
     atomic {
       s = id * ITEMS + i + 1;
       cursor = tail; tail++; expected[cursor] = s;
       top = cursor / ENTRIES; bottom = cursor % ENTRIES
     }
retry:
     sl = spineLen;
     if
     :: top < sl ->
        b = spine[top];
        assert(b != 0)              /* [push-spine] a pusher never finds a nil block below spineLen */
     :: else ->
        atomic { spineLock == 0 -> spineLock = 1 }
        sl = spineLen;
        if
        :: top < sl -> spineLock = 0; goto retry
        :: else ->
#ifdef BUG_GO116_OVERTAKE
           /* Go 1.16: one block, stored at spine[top], spineLen := old spineLen + 1. */
           blockAlloc(b);
           spine[top] = b;
           spineLen = sl + 1
#else
           /* Fixed: fill every missing logical block up to top, in order; each pointer is
              published before the spineLen that covers it. */
           do
           :: sl <= top ->
              blockAlloc(b);
#ifdef BUG_SPINELEN_FIRST
              spineLen = sl + 1;
              spine[sl] = b;
#else
              spine[sl] = b;
              spineLen = sl + 1;
#endif
              sl++
           :: else -> break
           od;
           b = spine[top]
#endif
           ;
           spineLock = 0
        fi
     fi;
     assert(b != 0);  /* [push-block] the pusher has a block for its slot */
     atomic {
       SLOT(b, bottom) = s;        /* publish the span (atomic store) */
       i++; s = 0; cursor = 0; top = 0; bottom = 0; sl = 0; b = 0
     }
  :: else -> break
  od;
  atomic { pushersDone++ }
}

proctype Popper() {
  byte h, t, want, sl, top, bottom, b, s, k;
  bit last;
end:
  do
  :: npopped == TOTAL -> break
  :: atomic { pushersDone == PUSHERS && head >= tail && inPop == 0 && npopped < TOTAL } ->
     assert(npopped == TOTAL)      /* [no-lost] set empty and quiescent, yet a span was never popped: lost */
  :: npopped < TOTAL ->
claim:
     atomic { h = head; t = tail }
     if
     :: h >= t -> goto done          /* the set looks empty */
     :: else -> skip
     fi;
     atomic {
       sl = spineLen;
       if
       :: sl <= h / ENTRIES -> goto done /* racing with the block's publication: report empty */
       :: else -> want = h
       fi
     }
     do
     :: atomic {
          if
          :: head == h && tail == t ->
             head = want + 1; inPop++; pending[want / ENTRIES]++; h = want; goto claimed
#ifdef BUG_CAS_STALE
          :: else -> skip            /* retries with the values it read first */
#else
          :: else -> h = head; t = tail
#endif
          fi
        }
        if
        :: h != want -> goto claim   /* another popper got ahead: start over */
        :: else -> skip              /* only the tail moved: retry the CAS */
        fi
     od;
claimed:
     atomic {
       top = h / ENTRIES; bottom = h % ENTRIES;
       b = spine[top];
       assert(b != 0)              /* [pop-block] a claimed position always has its block */
     }
     atomic {
       (SLOT(b, bottom) != 0);     /* spin until the pusher's store is visible */
       s = SLOT(b, bottom);
       assert(s == expected[h]);   /* [pop-span] the span pushed at this index, not a reused block's */
       times[s]++;
       assert(times[s] == 1)  /* [pop-once] no span popped twice */
     }
     SLOT(b, bottom) = 0;          /* clear the slot (defensive, as in Go) */
     atomic {
       popped[b]++;
       pending[top]--;
#ifdef BUG_FREE_ON_CLAIM
       last = (bottom == ENTRIES - 1)
#else
       last = (popped[b] == ENTRIES)
#endif
     }
     if
     :: last ->
        assert(pending[top] == 0); /* [free-unread] nobody may still read the block */
        spine[top] = 0;
        blockFree(b)
     :: else -> skip
     fi;
     atomic { npopped++; inPop-- }
done:
     atomic { h = 0; t = 0; want = 0; sl = 0; top = 0; bottom = 0; b = 0; s = 0; last = 0 }
  od
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < PUSHERS -> run Pusher(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < POPPERS -> run Popper(); i++
    :: else -> break
    od
  }
}
/* Liveness, checked with pan -a -f (weak fairness): whenever the set is non-empty (a slot was
   reserved and not yet claimed), pops keep succeeding until every pushed span has been popped.
   A popper that finds the set empty or loses the CAS retries, so without fairness a popper
   spinning while every pusher sleeps is a (spurious) counterexample. */
ltl pop_succeeds { [] (head < tail -> <> (npopped == TOTAL)) }
