package reconcile

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/registry"
)

// applyHeapBound is the most heap a 100k-claim registry apply may add
// above its input (file and records). Measured on 2026-12-02 at 308-310
// MiB while the file was parsed whole, and at 87 MiB since the registry
// reads it a section at a time; the bound is that plus about 30%, so a
// return to the whole node tree fails here.
const applyHeapBound = 112 << 20

// BenchmarkApplyHeap fails when the peak heap of one level-triggered
// apply of 100,000 claims (seed layout, 100 clusters, a tenth changed)
// grows past applyHeapBound. The heap is sampled every millisecond from
// runtime/metrics while the apply runs. It is a benchmark, run by `make
// bench`, because under the race detector of `make test` it takes a
// minute.
func BenchmarkApplyHeap(b *testing.B) {
	for b.Loop() {
		applyHeap(b)
	}
}

func applyHeap(t testing.TB) {
	dir := t.TempDir()
	files, recs, err := fleet(dir, 100_000, false)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, filepath.Base(files[0])))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	base := heapObjects()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapObjects())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	out, rep, err := registry.Apply(src, recs, registry.Options{})
	close(done)
	wg.Wait()
	peak = max(peak, heapObjects())
	if err != nil || len(rep.Changed) != 10_000 || len(out) < len(src) {
		t.Fatalf("apply: %d changes, %v", len(rep.Changed), err)
	}
	grew := peak - min(peak, base)
	t.Logf("100k apply: peak heap %.0f MiB above its %.0f MiB input (bound %d MiB)", float64(grew)/(1<<20), float64(base)/(1<<20), applyHeapBound>>20)
	if b, ok := t.(*testing.B); ok {
		b.ReportMetric(float64(grew)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(applyHeapBound>>20), "bound-MiB")
	}
	if grew > applyHeapBound {
		t.Fatalf("peak heap grew by %d MiB, over the %d MiB bound", grew>>20, applyHeapBound>>20)
	}
}

// heapObjects is the heap memory occupied by objects, live or not yet
// swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
