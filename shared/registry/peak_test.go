package registry

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// heapObjects is the heap memory occupied by objects, live or not yet
// swept: what the process must hold, and so what drives its RSS.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakHeap runs f and returns the most heap its objects occupied at once
// above what was in use before it started, sampled every 200µs while f
// runs (a 100k apply takes hundreds of samples, so the peak is missed by
// at most what f allocates in 200µs).
func peakHeap(f func()) uint64 {
	runtime.GC()
	base := heapObjects()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := heapObjects(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	})
	f()
	if v := heapObjects(); v > peak.Load() {
		peak.Store(v)
	}
	close(done)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}
