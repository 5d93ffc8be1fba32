/*
 * sweepgen.pml -- the sweepgen ownership protocol and the sweep-done protocol (SPEC.md 3.3, 3.4).
 *
 * One span class, NS spans, NP Ps, a background sweeper (which also plays ensureSwept on an
 * arbitrary in-use span), and a GC driver that runs NCYCLES cycles of
 *     stop the world; FinishMark (sg += 2, sweep word := 0, cursor := 0); start the world;
 *     FinishSweep (sweepone until none, flush idle stale Ps, wait for SweepDone).
 * StartMark and the mark phase are folded into the STW step: marking changes no sweepgen, and
 * which objects survive is modelled by a nondeterministic sweep outcome (empty/partial/full).
 *
 * Span sets are atomic FIFOs (channels); their lock-free internals are checked in spanset.pml.
 * The heap sweepgen sg starts at 2 so that sg-2 is representable; span sweepgens are absolute.
 *
 * Sweep-state word (Go 1.18 activeSweep): bit 7 = drained, bits 0..6 = registered sweepers.
 *   begin  (sweepone, cacheSpan's lazy sweeping, ensureSwept): fails if drained, else count++.
 *   beginStale (uncacheSpan of an sg+1 span): count++ even if drained (the span is not in any
 *          set, it must be swept by its owner, and its sweep never refills an unswept set).
 *   end: count--.   markDrained: set bit 7 (by the sweeper that found every unswept set empty).
 *   SweepDone := word == DRAINED && every P's flushGen == sg.
 *
 * Assertions:
 *   A1 a span is swept only by the winner of sg-2 -> sg-1 (or its stale owner), never while cached,
 *      never twice in one cycle;
 *   A2 a span popped from a swept set is swept (sweepgen sg); a span is never cached while it is
 *      also a live entry of a set, and never pushed while cached;
 *   A3 (monitor) SweepDone => no in-use span at sg-2 or sg-1, unswept sets empty, count 0;
 *   A4 (monitor) INV-SWEEP-5: spans at sg-1 <= registered sweepers; cached spans are at sg+3,
 *      or at sg+1 in a P whose flushGen is sg-2 (INV-SWEEP-2);
 *   A5 at every stop-the-world point every in-use span is cached or in exactly one swept set.
 *
 * Seeded bugs (spec/check requires a counterexample for each):
 *   BUG_CHECK_THEN_SET  ownership by "if sweepgen == sg-2 then sweepgen = sg-1" (not a CAS)
 *   BUG_LATE_PUBLISH    sweep publishes sweepgen = sg after pushing / freeing the span
 *   BUG_NO_COUNT        sweep done = drained bit only, sweeper count ignored (Go 1.16's sweepdone)
 *   BUG_REG_AFTER_POP   sweepers register after popping and winning the span (Go 1.17
 *                       sweepLocker; golang/go#46500): drained can be set while a popped span waits
 *   BUG_LAZY_UNREG      cacheSpan's lazy sweeping does not register (Go 1.16; golang/go#45315)
 *   BUG_STALE_UNREG     uncacheSpan's stale sweep does not register (golang/go#45315)
 */

#ifndef NS
#define NS 3
#endif
#define NP 2
#ifndef NCYCLES
#define NCYCLES 2
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
byte cachedBy[NS];               /* ghost: the P whose mcache slot holds the span */
bit  sweptNow[NS];               /* ghost: swept in the current cycle (cleared by FinishMark) */
chan partialSet[2] = [NS] of { byte };
chan fullSet[2] = [NS] of { byte };
byte word = DRAINED;             /* sweep-state word; the heap starts with nothing to sweep */
byte cursor = 2;                 /* sweep class cursor: 0 full-unswept, 1 partial-unswept, 2 done */
byte flushGen[NP];
byte cache[NP];                  /* mcache.alloc[spc], NONE = empty */
bit  held[NP];
bit  stw;
bit  gcFinished;

#define SWEPT(set)   set[(sg / 2) % 2]
#define UNSWEPT(set) set[1 - (sg / 2) % 2]

#ifdef BUG_NO_COUNT
#define WORD_DONE ((word & DRAINED) != 0)
#else
#define WORD_DONE (word == DRAINED)
#endif
#define SWEEP_DONE (WORD_DONE && flushGen[0] == sg && flushGen[1] == sg)

#define UNSW(i)  (inuse[i] && (sgen[i] == sg - 2 || sgen[i] == sg - 1))
#define BUSY(i)  ((inuse[i] && sgen[i] == sg - 1) -> 1 : 0)
#define CACHEOK(i) (cachedBy[i] == NONE || sgen[i] == sg + 3 || \
                    (sgen[i] == sg + 1 && flushGen[cachedBy[i]] == sg - 2))
#if NS == 2
#define NO_UNSWEPT (!UNSW(0) && !UNSW(1))
#define NBUSY (BUSY(0) + BUSY(1))
#define ALLCACHEOK (CACHEOK(0) && CACHEOK(1))
#else
#define NO_UNSWEPT (!UNSW(0) && !UNSW(1) && !UNSW(2))
#define NBUSY (BUSY(0) + BUSY(1) + BUSY(2))
#define ALLCACHEOK (CACHEOK(0) && CACHEOK(1) && CACHEOK(2))
#endif

/* ---------------------------------------------------------------- span sets */

inline popSet(ch, s) {
  atomic {
    if
    :: nempty(ch) -> ch ? s
    :: empty(ch) -> s = NONE
    fi
  }
}

inline pushSet(ch, s) {
  atomic {
    assert(inuse[s] && cachedBy[s] == NONE);       /* A2: never pushed while cached */
    assert(len(ch) < NS);
    ch ! s
  }
}

/* ---------------------------------------------------------------- sweep-state word */

inline sweepBegin(ok) {
#ifdef BUG_REG_AFTER_POP
  atomic { ok = ((word & DRAINED) == 0); late = 0 }
#else
  atomic {
    if
    :: (word & DRAINED) != 0 -> ok = 0
    :: else -> word++; ok = 1
    fi
  }
#endif
}

inline sweepEnd() {
#ifdef BUG_REG_AFTER_POP
  atomic { if :: late -> word--; late = 0 :: else -> skip fi }
#else
  word--
#endif
}

inline markDrained() {
  word = word | DRAINED
}

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
       ; word++; late = 1
#endif
    :: else -> won = 0
    fi
  }
#endif
}

/* ---------------------------------------------------------------- sweeping */

inline freeSpan(s) {
  atomic {
    assert(sgen[s] == sg);       /* mheap.freeSpanLocked: only swept spans are freed */
    inuse[s] = 0
  }
}

/* mspan.sweep(preserve): the caller owns s at sg-1. canFull = 0 when s came from a partial set.
   The owner's private steps are folded into one atomic step: between "sweepgen = sg" and the
   push nobody can tell the difference (the span is in no set, and sg is what every observer of
   sweepgen alone would see after the push too). BUG_LATE_PUBLISH splits them the wrong way. */
inline sweepSpan(s, preserve, out, canFull) {
  atomic {
    assert(inuse[s] && sgen[s] == sg - 1);          /* A1: only the owner sweeps */
    assert(cachedBy[s] == NONE);                    /* A1: never swept while cached */
    assert(!sweptNow[s]);                           /* A1: never swept twice in a cycle */
    sweptNow[s] = 1;
    if
    :: out = EMPTY
    :: out = PARTIAL
    :: canFull -> out = FULL
    fi;
#ifndef BUG_LATE_PUBLISH
    sgen[s] = sg;                /* publish: swept, before the span becomes visible anywhere */
#endif
    if
    :: preserve -> skip
    :: else ->
       if
       :: out == EMPTY -> freeSpan(s)
       :: out == PARTIAL -> pushSet(SWEPT(partialSet), s)
       :: out == FULL -> pushSet(SWEPT(fullSet), s)
       fi
    fi
  }
#ifdef BUG_LATE_PUBLISH
  sgen[s] = sg;
#endif
  skip
}

/* nextSpanForSweep: full-unswept, then partial-unswept; the cursor only moves forward. */
inline nextSpanForSweep(s) {
  sc = cursor;
  do
  :: sc == 0 -> popSet(UNSWEPT(fullSet), s);
     if :: s != NONE -> break :: else -> sc = 1 fi
  :: sc == 1 -> popSet(UNSWEPT(partialSet), s);
     if :: s != NONE -> break :: else -> sc = 2 fi
  :: sc >= 2 -> s = NONE; break
  od;
  atomic { if :: cursor < sc -> cursor = sc :: else -> skip fi; sc = 0 }
}

/* sweepone: sweeps one span; r = the span, or NONE when there was nothing left. */
inline sweepone(r) {
  r = NONE;
  sweepBegin(ok);
  if
  :: ok ->
     do
     :: nextSpanForSweep(s);
        if
        :: s == NONE -> markDrained(); break
        :: else ->
           if
           :: !inuse[s] -> assert(sgen[s] == sg || sgen[s] == sg + 3)  /* stale entry of a freed span */
           :: else ->
              tryAcquire(s, won);
              if :: won -> break :: else -> skip fi
           fi
        fi
     od;
     if
     :: s != NONE -> sweepSpan(s, 0, out, 1); r = s
     :: else -> skip
     fi;
     sweepEnd()
  :: else -> skip
  fi;
  atomic { s = 0; out = 0; won = 0; ok = 0 }
}

/* ensureSwept on an arbitrary in-use span: a sweeper that does not pop from a set, so the span
   stays in its unswept set as a stale entry that poppers must skip. */
inline ensureSwept() {
  sweepBegin(ok);
  if
  :: ok ->
     atomic {
       if
       :: inuse[0] -> s = 0
       :: inuse[1] -> s = 1
#if NS > 2
       :: inuse[2] -> s = 2
#endif
       :: else -> s = NONE
       fi
     }
     if
     :: s != NONE ->
        tryAcquire(s, won);
        if :: won -> sweepSpan(s, 0, out, 1) :: else -> skip fi
     :: else -> skip
     fi;
     sweepEnd()
  :: else -> skip
  fi;
  atomic { s = 0; out = 0; won = 0; ok = 0 }
}

/* ---------------------------------------------------------------- mcentral / mcache */

inline grow(s) {
  atomic {
    s = 0;
    do
    :: s < NS && inuse[s] -> s++
    :: s < NS && !inuse[s] -> inuse[s] = 1; sgen[s] = sg; break
    :: s >= NS -> s = NONE; break
    od
  }
}

inline cacheIt(p, s) {
  atomic {
    assert(cachedBy[s] == NONE);
    assert(!(SWEPT(partialSet) ?? [eval(s)]) && !(SWEPT(fullSet) ?? [eval(s)]));  /* A2 */
    sgen[s] = sg + 3;
    cachedBy[s] = p;
    cache[p] = s
  }
}

inline cacheSpan(p) {
  got = 0;
  /* (0) deductSweepCredit is sweepone by the allocating P: the Background process covers it */
  /* (1) partial swept */
  popSet(SWEPT(partialSet), s);
  if
  :: s != NONE -> assert(inuse[s] && sgen[s] == sg); got = 1     /* A2 */
  :: else ->
#ifdef BUG_LAZY_UNREG
     ok = 1;
#else
     sweepBegin(ok);
#endif
     if
     :: ok ->
        /* (2) partial unswept: sweep and use the first span we win */
        do
        :: popSet(UNSWEPT(partialSet), s);
           if
           :: s == NONE -> break
           :: else ->
              tryAcquire(s, won);
              if
              :: won -> sweepSpan(s, 1, out, 0); got = 1; break
              :: else -> skip
              fi
           fi
        od;
        /* (3) full unswept: sweep; use it if it has room, else push to full swept */
        if
        :: !got ->
           do
           :: popSet(UNSWEPT(fullSet), s);
              if
              :: s == NONE -> break
              :: else ->
                 tryAcquire(s, won);
                 if
                 :: won ->
                    sweepSpan(s, 1, out, 1);
                    if
                    :: out != FULL -> got = 1; break
                    :: else -> pushSet(SWEPT(fullSet), s)
                    fi
                 :: else -> skip
                 fi
              fi
           od
        :: else -> skip
        fi;
#ifndef BUG_LAZY_UNREG
        sweepEnd()
#else
        skip
#endif
     :: else -> skip
     fi
  fi;
  /* (4) grow */
  if
  :: !got -> grow(s); got = (s != NONE)
  :: else -> skip
  fi;
  if
  :: got -> cacheIt(p, s)
  :: else -> skip
  fi;
  atomic { s = 0; out = 0; won = 0; ok = 0; got = 0 }
}

/* uncacheSpan: canPartial = 0 on refill (the span is full), 1 on releaseAll. */
inline uncacheSpan(p, canPartial) {
  s = cache[p];
  if
  :: sgen[s] == sg + 1 ->
     /* stale: cached before this sweep phase began; its owner sweeps it */
#ifndef BUG_STALE_UNREG
     word++;
#endif
     atomic { cachedBy[s] = NONE; cache[p] = NONE; sgen[s] = sg - 1 }
     sweepSpan(s, 0, out, 1);
#ifndef BUG_STALE_UNREG
     word--;
#endif
     skip
  :: else ->
     assert(sgen[s] == sg + 3);
     atomic {
       if
       :: out = FULL
       :: canPartial -> out = PARTIAL
       fi;
       cachedBy[s] = NONE; cache[p] = NONE; sgen[s] = sg;   /* not cached any more, swept */
       if
       :: out == PARTIAL -> pushSet(SWEPT(partialSet), s)
       :: else -> pushSet(SWEPT(fullSet), s)
       fi
     }
  fi;
  atomic { s = 0; out = 0 }
}

inline prepareForSweep(p) {
  if
  :: flushGen[p] == sg -> skip
  :: else ->
     assert(flushGen[p] == sg - 2);
     if
     :: cache[p] != NONE -> uncacheSpan(p, 1)
     :: else -> skip
     fi;
     flushGen[p] = sg
  fi
}

/* ---------------------------------------------------------------- processes */

proctype P(byte id) {
  byte s, out;
  bit ok, won, got, late;
end:
  do
  :: atomic { !stw && !held[id] && !gcFinished -> held[id] = 1 }   /* AcquireP */
     prepareForSweep(id);
     do
     :: skip ->  /* refill: the cached span is full */
        if
        :: cache[id] != NONE -> assert(sgen[cache[id]] == sg + 3); uncacheSpan(id, 0)
        :: else -> skip
        fi;
        cacheSpan(id)
     :: cache[id] != NONE -> uncacheSpan(id, 1)                     /* Flush (releaseAll) */
     :: skip -> ensureSwept()                                       /* e.g. for a finalizer */
     :: break
     od;
     held[id] = 0                                                   /* Release */
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

inline checkQuiescent() {
  /* A5: at a stop-the-world point every in-use span is cached, or in exactly one swept set */
  i = 0;
  do
  :: i < NS ->
     if
     :: inuse[i] && cachedBy[i] == NONE ->
        assert(sgen[i] == sg);
        assert((SWEPT(partialSet) ?? [eval(i)]) != (SWEPT(fullSet) ?? [eval(i)]))
     :: else -> skip
     fi;
     i++
  :: else -> break
  od;
  i = 0
}

proctype GC() {
  byte c, i, s, r, out, sc;
  bit ok, won, late, doFlush;
  c = 0;
  do
  :: c < NCYCLES ->
     /* stop the world */
     atomic { !held[0] && !held[1] -> stw = 1 }
     assert(SWEEP_DONE);
     assert(len(UNSWEPT(partialSet)) == 0 && len(UNSWEPT(fullSet)) == 0);
     checkQuiescent();
     /* FinishMark */
     atomic {
       sg = sg + 2; word = 0; cursor = 0;
       i = 0;
       do
       :: i < NS -> sweptNow[i] = 0; i++
       :: else -> i = 0; break
       od;
       stw = 0
     }
     /* FinishSweep */
     do
     :: sweepone(r);
        if :: r == NONE -> break :: else -> r = 0 fi
     od;
     i = 0;
     do
     :: i < NP ->
        atomic {
          if
          :: !held[i] && flushGen[i] != sg -> held[i] = 1; doFlush = 1
          :: else -> doFlush = 0
          fi
        }
        if
        :: doFlush -> prepareForSweep(i); held[i] = 0; doFlush = 0
        :: else -> skip
        fi;
        i++
     :: else -> break
     od;
     i = 0;
     SWEEP_DONE;                                /* wait for other sweepers and flushes */
     c++
  :: else -> break
  od;
  gcFinished = 1
}

/* A3, A4: checked in every reachable state */
active proctype Monitor() {
end:
  atomic {
    ((SWEEP_DONE && !(NO_UNSWEPT && CNT(word) == 0 &&
                      len(UNSWEPT(partialSet)) == 0 && len(UNSWEPT(fullSet)) == 0))
     || NBUSY > CNT(word)
     || !ALLCACHEOK)
    -> assert(false)
  }
}

init {
  atomic {
    byte i = 0;
    do
    :: i < NS -> cachedBy[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NP -> cache[i] = NONE; flushGen[i] = sg; i++
    :: else -> break
    od;
    run GC();
    run Background();
    run P(0);
    run P(1)
  }
}
