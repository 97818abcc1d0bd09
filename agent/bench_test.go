package agent_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stuttgart-things/machinery-status-collector/agent"
	"github.com/stuttgart-things/machinery-status-collector/agent/metrics"
)

// benchClaims is the fleet size of the benchmarks: claims with a Ready
// condition and message, as Crossplane leaves them.
const benchClaims = 10000

// benchNS holds the benchmarks' claims; no test's cleanup touches it.
const benchNS = "bench"

var benchOnce sync.Once

// benchEnv returns an env pointed at benchNS, which holds benchClaims
// PostgreSQL claims with statuses. Creating them takes about a minute,
// so all benchmarks share them.
func benchEnv(b *testing.B) *env {
	b.Helper()
	e := newEnv(b)
	e.ns = benchNS
	benchOnce.Do(func() {
		start := time.Now()
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": benchNS}}}
		if _, err := e.admin.Resource(nsGVR).Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
			b.Fatalf("create namespace: %v", err)
		}
		e.createClaims(pgGVR, "PostgreSQL", "db", benchClaims)
		setAll(b, e, "Creating", "waiting for the managed database to become available")
		b.Logf("created %d claims with status in %s", benchClaims, time.Since(start).Round(time.Second))
	})
	return e
}

// setAll sets every bench claim's status, 8 writers.
func setAll(b *testing.B, e *env, reason, msg string) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < benchClaims; i += 8 {
				setReady(b, e.admin, pgGVR, e.ns, fmt.Sprintf("db-%d", i), "False", reason, msg)
			}
		}()
	}
	wg.Wait()
}

// syncAgent starts an agent (batch size 500) and waits until the
// collector holds every claim.
func syncAgent(b *testing.B, e *env, opts agent.Options) *running {
	b.Helper()
	a := e.startAgent(map[string]string{"AGENT_BATCH_SIZE": "500", "AGENT_RESYNC_PERIOD": "0"}, opts)
	eventually(b, 5*time.Minute, "initial sync in Redis", func() bool { return len(e.records()) == benchClaims })
	settled(b, a, time.Minute)
	return a
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC() // the second pass frees what finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkInitialSync10k: requests and bytes per claim for the first
// sync of 10,000 claims, and the agent's heap per watched claim after it.
func BenchmarkInitialSync10k(b *testing.B) {
	e := benchEnv(b)
	for range b.N {
		e.redis.Flush()
		e.front.requests.Store(0)
		e.front.bytes.Store(0)
		base := heapAlloc()
		start := time.Now()
		a := syncAgent(b, e, agent.Options{})
		took := time.Since(start)
		heap := heapAlloc()
		b.ReportMetric(float64(e.front.requests.Load()), "requests/sync")
		b.ReportMetric(float64(e.front.requests.Load())/benchClaims, "requests/claim")
		b.ReportMetric(float64(e.front.bytes.Load())/benchClaims, "bytes/claim")
		b.ReportMetric(float64(int64(heap)-int64(base))/benchClaims, "heap-B/claim")
		b.ReportMetric(took.Seconds(), "s/sync")
		if w := a.Watcher.Len(); w != benchClaims {
			b.Fatalf("watching %d claims", w)
		}
		a.stop() // the next round measures from an agent-free heap
	}
}

// BenchmarkNoStatusChange10k: requests caused by informer resyncs (every
// second here) and by metadata-only updates of 1,000 claims when no status
// changed. Target 0.
func BenchmarkNoStatusChange10k(b *testing.B) {
	e := benchEnv(b)
	e.redis.Flush()
	a := syncAgent(b, e, agent.Options{InformerResync: time.Second})
	for i := range b.N {
		before := e.front.requests.Load()
		unchanged := a.Metrics.EventCount(metrics.EventUnchanged)
		patch := fmt.Appendf(nil, `{"metadata":{"labels":{"bench-round":"r%d"}}}`, i)
		for j := range 1000 {
			if _, err := e.admin.Resource(pgGVR).Namespace(e.ns).Patch(context.Background(), fmt.Sprintf("db-%d", j), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		// 1,000 label updates plus at least one informer resync of all
		// claims must have been seen (and dropped) by the agent.
		eventually(b, time.Minute, "updates and a resync observed", func() bool {
			return a.Metrics.EventCount(metrics.EventUnchanged)-unchanged >= 1000+benchClaims
		})
		settled(b, a, time.Minute)
		b.ReportMetric(float64(e.front.requests.Load()-before), "requests")
		b.ReportMetric(float64(a.Metrics.EventCount(metrics.EventUnchanged)-unchanged), "unchanged-events")
	}
}

// BenchmarkFullResync10k: requests for one periodic full resync of 10,000
// claims. Target ceil(10000/500) = 20.
func BenchmarkFullResync10k(b *testing.B) {
	e := benchEnv(b)
	e.redis.Flush()
	a := syncAgent(b, e, agent.Options{})
	for range b.N {
		before, bytes := e.front.requests.Load(), e.front.bytes.Load()
		start := time.Now()
		if n := a.Controller.Resync(); n != benchClaims {
			b.Fatalf("resync queued %d", n)
		}
		settled(b, a, time.Minute)
		b.ReportMetric(float64(e.front.requests.Load()-before), "requests/resync")
		b.ReportMetric(float64(e.front.bytes.Load()-bytes)/benchClaims, "bytes/claim")
		b.ReportMetric(time.Since(start).Seconds(), "s/resync")
	}
}
