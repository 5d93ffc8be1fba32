/*
 * sweepgen.pml -- the sweepgen ownership protocol and the sweep-done protocol (SPEC.md 2.3-2.5).
 *
 * Actors: NP = 2 Ps (refill = uncacheSpan + cacheSpan with lazy sweeping, Flush = releaseAll,
 * ensureSwept of an arbitrary in-use span, lazy flush by flushGen at AcquireP), a background
 * sweeper (sweepone in a loop), and a GC driver that runs NCYCLES cycles of
 *     [stop the world] FinishMark: sg += 2, sweep word := NP, sweep cursor := 0 [start the world]
 *     FinishSweep: flush every idle stale P, (GC_SWEEPS: sweepone until none), wait for SweepDone.
 * StartMark and the mark phase are folded into the stop-the-world step: marking changes no
 * sweepgen, and which objects survive is a nondeterministic sweep outcome (empty/partial/full).
 *
 * One span class, NS spans. Span sets are atomic FIFOs (channels); their lock-free internals
 * are checked separately in spanset.pml. sg starts at 2 so that sg-2 is representable.
 *
 * Granularity: every access to shared state that another actor can race with is its own atomic
 * step (a pop, the sweepgen CAS, a register/deregister, a push). Steps of one actor that touch
 * only state it owns are folded into the neighbouring step (e.g. the sweep of a span the actor
 * owns at sg-1 is one step that ends with publishing sg and pushing/freeing it; cacheSpan's
 * deregistration is folded into the step that caches the span). The seeded bugs split exactly
 * the steps they break.
 *
 * Sweep-state word (Go 1.18 activeSweep; SPEC.md 2.5): bit 7 = drained, bits 0..6 = count.
 *   FinishMark   word := NP: every P is a pending sweeper until its mcache is flushed, because
 *                its cached spans (sg+1 after the flip) must be swept by uncacheSpan
 *   begin        sweepone, cacheSpan's lazy sweeping, ensureSwept: fails if drained, else count++
 *   end          count--; prepareForSweep ends the P's pending registration after releaseAll
 *                (which sweeps the stale spans) and after storing flushGen = sg
 *   markDrained  set bit 7 (by the sweeper that found every unswept set empty)
 *   SweepDone    word == DRAINED
 *
 * Assertions:
 *   A1 a span is swept only by its owner (winner of sg-2 -> sg-1, or the P holding it stale),
 *      never while cached, never twice in one cycle; only swept spans are freed;
 *   A2 a span popped from a swept set is at sg; a span is never cached while it is a live entry
 *      of a swept set, and never pushed while cached;
 *   A3 (monitor, every state) SweepDone => no in-use span at sg-2 or sg-1, the unswept sets are
 *      empty, the sweeper count is 0, every P's flushGen is sg (INV-SWEEP-3);
 *   A4 (monitor) INV-SWEEP-5: in-use spans at sg-1 <= registered sweepers, and Ps not yet flushed
 *      <= registered sweepers (INV-SWEEP-4); INV-SWEEP-2: a cached span is at sg+3, or at sg+1
 *      in a P whose flushGen is sg-2;
 *   A5 at each stop-the-world point every in-use span is cached or in exactly one swept set.
 * Every assertion carries a name, the [tag] that opens its comment (unique in this file).
 * Liveness (ltl sweep_finishes, at the end): once a sweep has started, it eventually finishes.
 *
 * Seeded bugs (spec/check requires a counterexample of the assertion or property it names):
 *   BUG_CHECK_THEN_SET  ownership by "if sweepgen == sg-2 then sweepgen = sg-1", not a CAS
 *   BUG_LATE_PUBLISH    sweep publishes sweepgen = sg after pushing / freeing the span
 *   BUG_NO_COUNT        sweep done = drained bit alone, sweeper count ignored
 *                       (Go 1.16's mheap.sweepdone; golang/go#46500 family)
 *   BUG_REG_AFTER_POP   sweepers register only after popping and winning a span (Go 1.17's
 *                       sweepLocker, golang/go#46500): drained can be set while a popped span waits
 *   BUG_LAZY_UNREG      cacheSpan's lazy sweeping does not register (Go 1.16, golang/go#45315)
 *   BUG_STALE_UNREG     prepareForSweep ends the P's registration before releaseAll, so the
 *                       stale-span sweeps of uncacheSpan run unregistered (golang/go#45315)
 *   BUG_ENSURE_WAIT     (liveness only) ensureSwept, having lost the span, waits (still registered)
 *                       until the span's sweepgen is sg, forgetting sg+3 (Go's ensureSwept accepts
 *                       both): a span cached in this cycle, e.g. in the waiting P's own mcache,
 *                       makes it wait forever, the count never drops to 0, and the sweep never
 *                       finishes. No safety assertion fails.
 */

#ifndef NS
#define NS 2
#endif
#define NP 2
#ifndef NCYCLES
#define NCYCLES 1
#endif
#define NONE 255
#define DRAINED 128
#define CNT(w) ((w) & 127)

#define EMPTY 0
#define PARTIAL 1
#define FULL 2

byte sg = 2;                     /* mheap.sweepgen: changes only with the world stopped */
byte sgen[NS];                   /* mspan.sweepgen, atomic */
bit  inuse[NS];                  /* mspan.state == mSpanInUse */
byte cachedBy[NS] = NONE;        /* ghost: the P whose mcache slot holds the span */
bit  sweptNow[NS];               /* ghost: swept in the current cycle (cleared by FinishMark) */
chan partialSet[2] = [NS] of { byte };
chan fullSet[2] = [NS] of { byte };
byte word = DRAINED;             /* sweep-state word; a new heap has nothing to sweep */
byte cursor = 2;                 /* sweep class cursor: 0 full-unswept, 1 partial-unswept, 2 done */
byte flushGen[NP] = 2;           /* mcache.flushGen */
byte cache[NP] = NONE;           /* mcache.alloc[spc]; NONE = empty */
bit  held[NP];
bit  gcFinished;

#define SWEPT(set)   set[(sg / 2) % 2]
#define UNSWEPT(set) set[1 - (sg / 2) % 2]

#ifdef BUG_NO_COUNT
#define WORD_DONE ((word & DRAINED) != 0)
#else
#define WORD_DONE (word == DRAINED)
#endif
#define SWEEP_DONE (WORD_DONE)
#define ALL_FLUSHED (flushGen[0] == sg && flushGen[1] == sg)
#define PENDING (((flushGen[0] != sg) -> 1 : 0) + ((flushGen[1] != sg) -> 1 : 0))

#define UNSW(i)    (inuse[i] && (sgen[i] == sg - 2 || sgen[i] == sg - 1))
#define BUSY(i)    ((inuse[i] && sgen[i] == sg - 1) -> 1 : 0)
#define CACHEOK(i) (cachedBy[i] == NONE || sgen[i] == sg + 3 || \
                    (sgen[i] == sg + 1 && flushGen[cachedBy[i]] == sg - 2))
#if NS == 1
#define NO_UNSWEPT (!UNSW(0))
#define NBUSY      (BUSY(0))
#define ALLCACHEOK (CACHEOK(0))
#elif NS == 2
#define NO_UNSWEPT (!UNSW(0) && !UNSW(1))
#define NBUSY      (BUSY(0) + BUSY(1))
#define ALLCACHEOK (CACHEOK(0) && CACHEOK(1))
#else
#define NO_UNSWEPT (!UNSW(0) && !UNSW(1) && !UNSW(2))
#define NBUSY      (BUSY(0) + BUSY(1) + BUSY(2))
#define ALLCACHEOK (CACHEOK(0) && CACHEOK(1) && CACHEOK(2))
#endif

/* ================================================================ span sets (inside atomic) */

inline popSet(ch, s) {
  if
  :: nempty(ch) -> ch ? s
  :: empty(ch) -> s = NONE
  fi
}

inline pushSet(ch, s) {
  assert(inuse[s] && cachedBy[s] == NONE);         /* [A2-push-uncached] never pushed while cached */
  assert(len(ch) < NS);  /* [bound-set] model bound: a set holds at most NS spans */
  ch ! s
}

/* ================================================================ sweep-state word */

/* begin: register before popping from an unswept set (inside atomic). */
inline sweepBegin(ok) {
#ifdef BUG_REG_AFTER_POP
  ok = ((word & DRAINED) == 0); late = 0
#else
  if
  :: (word & DRAINED) != 0 -> ok = 0
  :: else -> word++; ok = 1
  fi
#endif
}

/* end: deregister (inside atomic). */
inline sweepEnd() {
#ifdef BUG_REG_AFTER_POP
  if :: late -> word--; late = 0 :: else -> skip fi
#else
  word--
#endif
}

/* ================================================================ ownership */

/* tryAcquire: the CAS sg-2 -> sg-1 that makes the caller the span's only sweeper. */
inline tryAcquire(s, won) {
#ifdef BUG_CHECK_THEN_SET
  if
  :: sgen[s] == sg - 2 -> sgen[s] = sg - 1; won = 1
  :: else -> won = 0
  fi
#else
  atomic {
    if
    :: sgen[s] == sg - 2 -> sgen[s] = sg - 1; won = 1
#ifdef BUG_REG_AFTER_POP
       ; word++; late = 1        /* Go 1.17: sweepers++ once a span is acquired */
#endif
    :: else -> won = 0
    fi
  }
#endif
}

/* ================================================================ sweeping */

/* mspan.sweep(preserve) by the owner of s (at sg-1), inside an atomic step. canFull = 0 when s
   came from a partial set (sweeping only frees objects). */
inline sweepBody(s, preserve, out, canFull) {
  assert(inuse[s] && sgen[s] == sg - 1);            /* [A1-owner] only the owner sweeps */
  assert(cachedBy[s] == NONE);                      /* [A1-uncached] never swept while cached */
  assert(!sweptNow[s]);                             /* [A1-once] never swept twice in a cycle */
  sweptNow[s] = 1;
  if
  :: out = EMPTY
  :: out = PARTIAL
  :: canFull -> out = FULL
  fi;
#ifndef BUG_LATE_PUBLISH
  sgen[s] = sg;                  /* publish "swept" before the span becomes visible anywhere */
#endif
  if
  :: preserve -> skip
  :: else ->
     if
     :: out == EMPTY -> assert(sgen[s] == sg); inuse[s] = 0     /* [A1-free-swept] freeSpan of a swept span */
     :: out == PARTIAL -> pushSet(SWEPT(partialSet), s)
     :: out == FULL -> pushSet(SWEPT(fullSet), s)
     fi
  fi
}

/* the steps after the owner's CAS: sweep (and, for the bug, publish late), then deregister */
inline sweepAndEnd(s) {
#ifdef BUG_LATE_PUBLISH
  atomic { sweepBody(s, 0, out, 1) }
  atomic { sgen[s] = sg; sweepEnd(); s = NONE; out = 0 }
#else
  atomic { sweepBody(s, 0, out, 1); sweepEnd(); s = NONE; out = 0 }
#endif
}

/* sweepone: r = the span swept, or NONE when nothing was left (Go's ^uintptr(0)). */
inline sweepone(r) {
  atomic { r = NONE; s = NONE; sweepBegin(ok) }
  if
  :: ok ->
     do
     :: atomic {
          /* nextSpanForSweep: full-unswept, then partial-unswept, from the cursor on; the two
             sets only shrink during a sweep phase, so one step may look at both */
          sc = cursor; s = NONE;
          if :: sc == 0 -> popSet(UNSWEPT(fullSet), s); if :: s == NONE -> sc = 1 :: else -> skip fi
             :: else -> skip fi;
          if :: s == NONE && sc == 1 -> popSet(UNSWEPT(partialSet), s); if :: s == NONE -> sc = 2 :: else -> skip fi
             :: else -> skip fi;
          if :: cursor < sc -> cursor = sc :: else -> skip fi;
          sc = 0;
          if
          :: s == NONE -> word = word | DRAINED      /* markDrained: every unswept set was empty */
          :: else -> skip
          fi
        }
        if
        :: s == NONE -> break
        :: else ->
           if
           :: !inuse[s] -> assert(sgen[s] == sg || sgen[s] == sg + 3)  /* [stale-entry] stale entry of a freed span */
           :: else ->
              tryAcquire(s, won);
              if :: won -> won = 0; break :: else -> skip fi
           fi
        fi
     od;
     if
     :: s != NONE -> r = s; sweepAndEnd(s)
     :: else -> atomic { sweepEnd() }
     fi
  :: else -> skip
  fi;
  ok = 0
}

/* ensureSwept on an arbitrary in-use span: a sweeper that does not pop it from its set, which
   therefore keeps a stale entry that poppers must skip. */
inline ensureSwept() {
  atomic {
    sweepBegin(ok);
    s = NONE; won = 0;
    if
    :: ok ->
       if
       :: inuse[0] -> s = 0
#if NS > 1
       :: inuse[1] -> s = 1
#endif
#if NS > 2
       :: inuse[2] -> s = 2
#endif
       :: else -> skip
       fi;
       /* registering and trying the span are folded into one step (nothing another actor
          does in between can change the outcome); BUG_CHECK_THEN_SET splits the CAS itself */
#ifdef BUG_CHECK_THEN_SET
       if :: s != NONE && sgen[s] == sg - 2 -> won = 1 :: else -> skip fi   /* check ... */
#else
       if :: s != NONE -> tryAcquire(s, won) :: else -> skip fi
#endif
    :: else -> skip
    fi
  }
#ifdef BUG_CHECK_THEN_SET
  if :: won -> sgen[s] = sg - 1 :: else -> skip fi;                       /* ... then set */
#endif
  if
  :: won -> won = 0; sweepAndEnd(s)
#ifdef BUG_ENSURE_WAIT
  :: !won && ok ->                 /* waits, registered, for the winner's sweep: but only for sg */
     if :: s != NONE -> (sgen[s] == sg) :: else -> skip fi;
     atomic { sweepEnd(); s = NONE; ok = 0 }
#else
  :: !won && ok -> atomic { sweepEnd(); s = NONE; ok = 0 }
#endif
  :: else -> skip
  fi;
  ok = 0
}

/* ================================================================ mcache / mcentral */

inline cacheIt(p, s) {
  assert(cachedBy[s] == NONE);  /* [cache-once] a span is cached by one P at a time */
  assert(!(SWEPT(partialSet) ?? [eval(s)]) && !(SWEPT(fullSet) ?? [eval(s)]));   /* [A2-cache-unlisted] not listed in a swept set */
  sgen[s] = sg + 3;              /* cached: no sweeper may touch it in this cycle */
  cachedBy[s] = p;
  cache[p] = s;
  s = NONE
}

/* mheap.alloc for a fresh span: the lowest dead span, at sweepgen sg (inside atomic) */
inline grow(s) {
  s = 0;
  do
  :: s < NS && inuse[s] -> s++
  :: s < NS && !inuse[s] -> inuse[s] = 1; sgen[s] = sg; break
  :: s >= NS -> s = NONE; break
  od
}

inline cacheSpan(p) {
  /* (0) deductSweepCredit is sweepone on this P: the same code as the Background process */
  /* (1) a partial swept span; failing that, register for lazy sweeping */
  atomic {
    popSet(SWEPT(partialSet), s);
    if
    :: s != NONE -> assert(inuse[s] && sgen[s] == sg); cacheIt(p, s); got = 1   /* [A2-pop-swept] popped from a swept set: at sg */
    :: else ->
       got = 0;
#ifdef BUG_LAZY_UNREG
       ok = 1
#else
       sweepBegin(ok)
#endif
    fi
  }
  if
  :: !got && ok ->
     /* (2) partial unswept: the first span we win is swept (preserved) and used */
     do
     :: atomic { popSet(UNSWEPT(partialSet), s) }
        if
        :: s == NONE -> break
        :: else ->
           tryAcquire(s, won);
           if
           :: won ->
              atomic {
                sweepBody(s, 1, out, 0);
#ifndef BUG_LAZY_UNREG
                sweepEnd();
#endif
                cacheIt(p, s); got = 1; won = 0; out = 0
              }
              break
           :: else -> skip
           fi
        fi
     od;
     /* (3) full unswept: swept; used if it has room, else pushed to full swept */
     do
     :: got -> break
     :: else ->
        atomic { popSet(UNSWEPT(fullSet), s) }
        if
        :: s == NONE -> break
        :: else ->
           tryAcquire(s, won);
           if
           :: won ->
              atomic {
                sweepBody(s, 1, out, 1);
                won = 0;
                if
                :: out != FULL ->
#ifndef BUG_LAZY_UNREG
                   sweepEnd();
#endif
                   cacheIt(p, s); got = 1
                :: else -> pushSet(SWEPT(fullSet), s); s = NONE
                fi;
                out = 0
              }
           :: else -> skip
           fi
        fi
     od;
     /* (4) end lazy sweeping; grow if nothing was found */
     atomic {
       if
       :: !got ->
#ifndef BUG_LAZY_UNREG
          sweepEnd();
#endif
          grow(s);
          if :: s != NONE -> cacheIt(p, s) :: else -> skip fi   /* else: out of memory */
       :: else -> skip
       fi;
       ok = 0; got = 0
     }
  :: !got && !ok -> atomic { grow(s); if :: s != NONE -> cacheIt(p, s) :: else -> skip fi }
  :: got -> got = 0
  fi
}

/* uncacheSpan of a span of this cycle (sg+3); canPartial = 0 on refill (the span is full) */
inline uncacheFresh(p, canPartial) {
  atomic {
    s = cache[p];
    assert(sgen[s] == sg + 3);  /* [fresh-sg] a span of this cycle is at sg+3 in the mcache */
    if
    :: out = FULL
    :: canPartial -> out = PARTIAL
    fi;
    cachedBy[s] = NONE; cache[p] = NONE; sgen[s] = sg;   /* no longer cached; swept */
    if
    :: out == PARTIAL -> pushSet(SWEPT(partialSet), s)
    :: else -> pushSet(SWEPT(fullSet), s)
    fi;
    s = NONE; out = 0
  }
}

/* prepareForSweep, first step (inside atomic, the P is held by the caller). If the mcache was
   filled in the previous cycle (flushGen == sg-2) and holds a span, that span is stale (sg+1):
   take ownership of it for sweeping; the P's pending registration (made by FinishMark) covers
   the sweep. stale = 1 when the second step (staleSweep) must follow. */
inline prepareBegin(p) {
  stale = 0;
  if
  :: flushGen[p] == sg -> skip
  :: else ->
     assert(flushGen[p] == sg - 2);  /* [flush-gen] an unflushed mcache is one cycle old */
#ifdef BUG_STALE_UNREG
     word--;                     /* end: deregisters before the stale span is swept */
#endif
     if
     :: cache[p] != NONE ->
        s = cache[p];
        assert(sgen[s] == sg + 1);  /* [stale-sg] a stale cached span is at sg+1 */
        cachedBy[s] = NONE; cache[p] = NONE; sgen[s] = sg - 1;
        stale = 1
     :: else ->
        flushGen[p] = sg
#ifndef BUG_STALE_UNREG
        ; word--                 /* end: this P has nothing left of the previous cycle */
#endif
     fi
  fi
}

/* prepareForSweep, second step: sweep the stale span, store flushGen = sg, then end the P's
   registration (in that order, as a store followed by the atomic decrement) */
inline staleSweep(p) {
  atomic {
    sweepBody(s, 0, out, 1);
    flushGen[p] = sg;
#ifndef BUG_STALE_UNREG
    word--;
#endif
    stale = 0; s = NONE; out = 0
  }
}

/* ================================================================ processes */

proctype P(byte id) {
  byte s, out;
  bit ok, won, got, late, stale;
end:
  do
  :: atomic { !held[id] && !gcFinished -> held[id] = 1; prepareBegin(id) }   /* AcquireP */
     if :: stale -> staleSweep(id) :: else -> skip fi;
     do
     :: cache[id] == NONE -> cacheSpan(id)                        /* first refill */
     :: cache[id] != NONE -> uncacheFresh(id, 0); cacheSpan(id)   /* refill: span is full */
     :: cache[id] != NONE -> uncacheFresh(id, 1)                  /* Flush (releaseAll) */
     :: id == 1 -> ensureSwept()                                  /* e.g. SetFinalizer */
     :: held[id] = 0; break                                       /* Release */
     od
  od
}

proctype Background() {
  byte s, r, out, sc;
  bit ok, won, late;
end:
  do
  :: !gcFinished -> sweepone(r); r = 0
  od
}

proctype GC() {
  byte c, i, s, r, out, sc;
  bit ok, won, late, stale, mine;
  c = 0;
  do
  :: c < NCYCLES ->
     /* stop the world (no P held), FinishMark, start the world: one step */
     atomic {
       !held[0] && !held[1] ->
       assert(SWEEP_DONE);  /* [stw-done] the previous sweep finished before the next cycle */
       assert(len(UNSWEPT(partialSet)) == 0 && len(UNSWEPT(fullSet)) == 0);  /* [stw-unswept-empty] and left the unswept sets empty */
       i = 0;
       do
       :: i < NS ->
          if                     /* A5 */
          :: inuse[i] && cachedBy[i] == NONE ->
             assert(sgen[i] == sg);  /* [A5-swept] A5: an uncached in-use span is swept */
             assert((SWEPT(partialSet) ?? [eval(i)]) != (SWEPT(fullSet) ?? [eval(i)]))  /* [A5-one-set] A5: and in exactly one swept set */
          :: else -> skip
          fi;
          sweptNow[i] = 0;
          i++
       :: else -> break
       od;
       i = 0;
       sg = sg + 2; cursor = 0;
       word = NP                 /* every P is a pending sweeper until it flushes */
     }
     /* FinishSweep: */
     /* ... flush every idle P that still holds spans of the previous cycle ... */
     i = 0;
     do
     :: i < NP ->
        atomic {
          if
          :: !held[i] && flushGen[i] != sg -> held[i] = 1; mine = 1; prepareBegin(i)
          :: else -> mine = 0; stale = 0
          fi
        }
        if :: stale -> staleSweep(i) :: else -> skip fi;
        atomic { if :: mine -> held[i] = 0; mine = 0 :: else -> skip fi; i++ }
     :: else -> break
     od;
     /* ... sweep what is left ... */
#ifdef GC_SWEEPS
     do
     :: sweepone(r);
        if :: r == NONE -> break :: else -> r = 0 fi
     od;
#endif
     /* ... and wait for the other sweepers and flushes */
     atomic { SWEEP_DONE -> i = 0; c++ }
  :: else -> break
  od;
  gcFinished = 1
}

/* A3, A4: evaluated in every reachable state (the guard fires as soon as one fails) */
#define A3 (!SWEEP_DONE || (NO_UNSWEPT && CNT(word) == 0 && ALL_FLUSHED && \
                            len(UNSWEPT(partialSet)) == 0 && len(UNSWEPT(fullSet)) == 0))
#define A4_BUSY (NBUSY <= CNT(word))
#define A4_PENDING (PENDING <= CNT(word))
#define A4_CACHE (ALLCACHEOK)

active proctype Monitor() {
end:
  atomic {
    !(A3 && A4_BUSY && A4_PENDING && A4_CACHE) ->
    assert(A3);         /* [A3] SweepDone => nothing at sg-2/sg-1, unswept sets empty, no sweeper, all flushed */
    assert(A4_BUSY);    /* [A4-busy] spans being swept (sg-1) <= registered sweepers (INV-SWEEP-5) */
    assert(A4_PENDING); /* [A4-pending] Ps not yet flushed <= registered sweepers (INV-SWEEP-4) */
    assert(A4_CACHE)    /* [A4-cache] a cached span is at sg+3, or sg+1 in an unflushed mcache (INV-SWEEP-2) */
  }
}

init {
  atomic {
    run GC();
    run Background();
    run P(0);
    run P(1)
  }
}

/* Liveness, checked with pan -a -f (weak fairness): a sweep that has started (FinishMark set the
   word to NP) eventually finishes. Without fairness the background sweeper may never be scheduled
   while a P refills forever, a (spurious) counterexample. */
ltl sweep_finishes { [] (!SWEEP_DONE -> <> SWEEP_DONE) }
