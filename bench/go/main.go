// Command gobench runs the peer harness's workloads (bench/Peers/Workloads.cs) on Go's own runtime
// allocator, for the side-by-side table: the same sizes (the same xorshift64 sequences), the same
// counts, the same trace replay plan. With -mode off the program sets GOGC=off and a workload's
// "free" is a timed runtime.GC() (mark + sweep, as GoAlloc's Collect); with -mode 100 the collector
// paces itself (GOGC=100) and the timed region is the allocations only. Every workload runs once
// untimed (warm-up) and then -rounds times; each timed run prints "workload ns_per_op".
// -memory W runs workload W once and prints its peak RSS growth and heap_sys / heap_inuse.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

type obj16 struct{ a, b *int }

var (
	fill    bool // memory runs: write every word of every object
	anchor  int
	anchorB byte
)

// use writes the first word of an object, or every word in memory runs (the C# harness's Use).
func useP(p []*byte) []*byte {
	if fill {
		for i := range p {
			p[i] = &anchorB
		}
	} else if len(p) > 0 {
		p[0] = &anchorB
	}
	return p
}

func useB(p []byte) []byte {
	if fill {
		for i := range p {
			p[i] = 0xA5
		}
	} else if len(p) > 0 {
		p[0] = 1
	}
	return p
}

func use16(o *obj16) *obj16 {
	o.a = &anchor
	if fill {
		o.b = &anchor
	}
	return o
}

var (
	sink16   []*obj16
	sinkB    [][]byte
	sinkP    [][]*byte
	keep     [][]*byte
	prevKeep [][]*byte
	gcOff    bool
)

func scaled(n int, scale float64) int {
	m := int(float64(n) * scale)
	if m < 4 {
		m = 4
	}
	return m
}

func sizes(n int, lo, hi int64, seed uint64) []int64 {
	x := seed * 0x9E3779B97F4A7C15
	s := make([]int64, n)
	for i := range s {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		s[i] = lo + int64(x%uint64(hi-lo+1))
	}
	return s
}

// collect is the workload's free: a full GC with GOGC=off; nothing with GOGC=100.
func collect() {
	if gcOff {
		runtime.GC()
	}
}

func ptrSlice(size int64) []*byte {
	n := (size + 7) / 8
	return make([]*byte, n)
}

func batch(n int) int {
	for i := 0; i < n; i++ {
		sink16[i] = use16(new(obj16))
	}
	for i := 0; i < n; i++ {
		sink16[i] = nil
	}
	collect()
	return n
}

func sized(s []int64, scan bool) int {
	for i, sz := range s {
		if scan {
			sinkP[i] = useP(ptrSlice(sz))
		} else {
			sinkB[i] = useB(make([]byte, sz))
		}
	}
	for i := range s {
		sinkP[i] = nil
		sinkB[i] = nil
	}
	collect()
	return len(s)
}

var pairSink *obj16

func pairs(n, gcEvery int) int {
	for i := 1; i <= n; i++ {
		pairSink = use16(new(obj16))
		if i%gcEvery == 0 {
			collect()
		}
	}
	pairSink = nil
	collect()
	return n
}

func liveSet(s []int64, cycles int) int {
	for c := 0; c < cycles; c++ {
		k := 0
		for i, sz := range s {
			p := useP(ptrSlice(sz))
			sinkP[i] = p
			if i&3 == 0 {
				keep[k] = p
				k++
			}
		}
		for i := range s {
			sinkP[i] = nil
		}
		for i := range prevKeep {
			prevKeep[i] = nil
		}
		keep, prevKeep = prevKeep, keep
		collect()
	}
	for i := range prevKeep {
		prevKeep[i] = nil
	}
	collect()
	return cycles * len(s)
}

// threadPtrs: one pointer array per goroutine, made before the timed region (as the C# harness's).
var threadPtrs [2][]*obj16

func threads(k, n int) int {
	var wg sync.WaitGroup
	for t := 0; t < k; t++ {
		wg.Add(1)
		ptrs := threadPtrs[t]
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				ptrs[i] = use16(new(obj16))
			}
			for i := 0; i < n; i++ {
				ptrs[i] = nil
			}
		}()
	}
	wg.Wait()
	collect()
	return k * n
}

type trace struct {
	sizes        []int32
	allocsBefore []int32
	dying        [][]int32
}

func readTrace(path string) *trace {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	rd := func() int32 {
		var v int32
		if err := binary.Read(r, binary.LittleEndian, &v); err != nil {
			fmt.Fprintln(os.Stderr, "trace:", err)
			os.Exit(2)
		}
		return v
	}
	t := &trace{}
	n, cycles := rd(), rd()
	t.sizes = make([]int32, n)
	for i := range t.sizes {
		t.sizes[i] = rd()
	}
	t.allocsBefore = make([]int32, cycles)
	t.dying = make([][]int32, cycles)
	for c := range t.dying {
		t.allocsBefore[c] = rd()
		d := make([]int32, rd())
		for i := range d {
			d[i] = rd()
		}
		t.dying[c] = d
	}
	return t
}

var traceObjs [][]*byte

// replay allocates in trace order, drops each cycle's dead objects at its GC (the GC itself is
// the timed free with GOGC=off). Dropping references is bookkeeping and is not timed.
func replay(t *trace) (time.Duration, int) {
	var d time.Duration
	next := 0
	for c := 0; c <= len(t.allocsBefore); c++ {
		upTo := len(t.sizes)
		if c < len(t.allocsBefore) {
			upTo = int(t.allocsBefore[c])
		}
		t0 := time.Now()
		for ; next < upTo; next++ {
			traceObjs[next] = useP(ptrSlice(int64(t.sizes[next])))
		}
		d += time.Since(t0)
		if c == len(t.allocsBefore) {
			break
		}
		for _, id := range t.dying[c] {
			traceObjs[id] = nil
		}
		t0 = time.Now()
		collect()
		d += time.Since(t0)
	}
	for i := range traceObjs {
		traceObjs[i] = nil
	}
	t0 := time.Now()
	collect()
	d += time.Since(t0)
	return d, len(t.sizes)
}

type workloads struct {
	batch, pairs, pairGc, cycles, perThread int
	mixed, large, live                      []int64
	tr                                      *trace
}

func (w *workloads) run(name string) (time.Duration, int) {
	t0 := time.Now()
	var n int
	switch name {
	case "Batch16":
		n = batch(w.batch)
	case "Mixed":
		n = sized(w.mixed, true)
	case "Large":
		n = sized(w.large, false)
	case "Pairs16":
		n = pairs(w.pairs, w.pairGc)
	case "LiveSet":
		n = liveSet(w.live, w.cycles)
	case "Threads1":
		n = threads(1, w.perThread)
	case "Threads2":
		n = threads(2, w.perThread)
	case "Trace":
		return replay(w.tr)
	default:
		fmt.Fprintln(os.Stderr, "unknown workload", name)
		os.Exit(2)
	}
	return time.Since(t0), n
}

func status(field string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v * 1024
		}
	}
	return 0
}

func main() {
	mode := flag.String("mode", "off", "off: GOGC=off and a timed runtime.GC() as the free; 100: GOGC=100")
	rounds := flag.Int("rounds", 1, "timed runs per workload")
	scale := flag.Float64("scale", 1, "multiplies every count")
	tracePath := flag.String("trace", "", "trace replay plan written by the C# harness")
	only := flag.String("workloads", "Batch16,Mixed,Large,Pairs16,LiveSet,Threads1,Threads2,Trace", "comma-separated")
	memory := flag.String("memory", "", "run this workload once and print peak RSS growth and heap_sys/heap_inuse")
	flag.Parse()
	runtime.GOMAXPROCS(2)
	gcOff = *mode == "off"
	if gcOff {
		debug.SetGCPercent(-1)
	} else {
		debug.SetGCPercent(100)
	}
	w := &workloads{
		batch:     scaled(1_000_000, *scale),
		pairs:     scaled(1_000_000, *scale),
		pairGc:    scaled(100_000, *scale),
		cycles:    5,
		perThread: scaled(500_000, *scale),
		mixed:     sizes(scaled(100_000, *scale), 8, 1024, 1),
		large:     sizes(scaled(200, *scale), 64<<10, 1<<20, 2),
		live:      sizes(scaled(200_000, *scale), 16, 512, 3),
	}
	sink16 = make([]*obj16, w.batch)
	for t := range threadPtrs {
		threadPtrs[t] = make([]*obj16, w.perThread)
	}
	n := len(w.mixed)
	if len(w.live) > n {
		n = len(w.live)
	}
	sinkB = make([][]byte, n)
	sinkP = make([][]*byte, n)
	keep = make([][]*byte, len(w.live)/4+1)
	prevKeep = make([][]*byte, len(w.live)/4+1)
	names := strings.Split(*only, ",")
	if *tracePath != "" {
		w.tr = readTrace(*tracePath)
		traceObjs = make([][]*byte, len(w.tr.sizes))
	} else {
		var kept []string
		for _, name := range names {
			if name != "Trace" {
				kept = append(kept, name)
			}
		}
		names = kept
	}
	if *memory != "" {
		fill = true
		runtime.GC()
		base := status("VmRSS")
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		var ms runtime.MemStats
		w.run(*memory)
		runtime.ReadMemStats(&ms)
		fmt.Printf("%s peak_rss_growth %d heap_sys %d heap_inuse %d\n", *memory, status("VmHWM")-base, ms.HeapSys, ms.HeapInuse)
		return
	}
	for _, name := range names {
		runtime.GC()
		w.run(name)
		for r := 0; r < *rounds; r++ {
			runtime.GC()
			d, ops := w.run(name)
			fmt.Printf("%s %.3f\n", name, float64(d.Nanoseconds())/float64(ops))
		}
	}
}
