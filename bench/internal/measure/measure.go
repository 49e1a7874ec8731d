// Package measure times a benchmark's job and its baseline the same way:
// wall time, the process's CPU time (which a busy, shared machine disturbs
// less), and the peak of the live heap sampled while the job runs.
package measure

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Measurement is the fastest run of a job and the highest heap peaks of all
// its runs.
type Measurement struct {
	Elapsed time.Duration
	// CPU is the user and system time of the process during the run.
	CPU time.Duration
	// Peak is the bytes of live heap above the level before the run.
	Peak uint64
	// QuarterPeak is the same until the job said a quarter was done, so a
	// report can show whether memory grows with the work.
	QuarterPeak uint64
}

// Seconds is the elapsed time in seconds.
func (m Measurement) Seconds() float64 { return m.Elapsed.Seconds() }

// Add keeps the fastest times and the highest peaks of the runs so far;
// run counts from zero.
func (m *Measurement) Add(run int, r Measurement) {
	if run == 0 || r.Elapsed < m.Elapsed {
		m.Elapsed = r.Elapsed
	}
	if run == 0 || r.CPU < m.CPU {
		m.CPU = r.CPU
	}
	m.Peak = max(m.Peak, r.Peak)
	m.QuarterPeak = max(m.QuarterPeak, r.QuarterPeak)
}

// Run runs job once, sampling the live heap every millisecond; job calls
// quarter when a quarter of its work is done (or never).
func Run(job func(quarter func()) error) (Measurement, error) {
	runtime.GC()
	start := HeapLive()
	var peak atomic.Uint64
	raise := func() {
		if h := HeapLive(); h > peak.Load() {
			peak.Store(h)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // runtime/metrics does not stop the world
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				raise()
			}
		}
	}()
	var quarter uint64
	t0, c0 := time.Now(), CPUTime()
	err := job(func() { raise(); quarter = peak.Load() })
	elapsed, cpu := time.Since(t0), CPUTime()-c0
	close(done)
	wg.Wait()
	m := Measurement{Elapsed: elapsed, CPU: cpu}
	if p := peak.Load(); p > start {
		m.Peak = p - start
	}
	if quarter > start {
		m.QuarterPeak = quarter - start
	}
	return m, err
}

// Compare runs ours and the baseline n times each, alternately, so that a
// change in the machine's load affects both alike.
func Compare(n int, ours, base func(quarter func()) error) (Measurement, Measurement, error) {
	var o, b Measurement
	for i := range n {
		r, err := Run(ours)
		if err != nil {
			return o, b, err
		}
		o.Add(i, r)
		if r, err = Run(base); err != nil {
			return o, b, err
		}
		b.Add(i, r)
	}
	return o, b, nil
}

// Report prints both sides' time, rate of rows, CPU time and peak heap.
func Report(ours, base string, o, b Measurement, rows int) {
	for _, side := range []struct {
		name string
		m    Measurement
	}{{ours, o}, {base, b}} {
		fmt.Printf("  %-22s %6.2f s  %5.0f k rows/s  CPU %6.2f s  peak heap %6.1f MB\n",
			side.name, side.m.Seconds(), float64(rows)/side.m.Seconds()/1e3, side.m.CPU.Seconds(), MB(side.m.Peak))
	}
}

// MB is bytes in megabytes.
func MB(n uint64) float64 { return float64(n) / 1e6 }

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}

// HeapLive is the bytes of heap objects now, live or not yet swept.
func HeapLive() uint64 {
	metrics.Read(heapSample)
	return heapSample[0].Value.Uint64()
}

// CPUTime returns the user and system time the process has used.
func CPUTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// Median is the middle of the durations (the upper middle of an even
// count); ds is left as it was.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// StartCPUProfile writes a CPU profile of what runs until stop is called to
// path; with path "" it does nothing.
func StartCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
