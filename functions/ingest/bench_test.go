package ingest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// The workload the issue fixes: 10k distinct claims over 20 clusters, 32
// concurrent clients for single posts, 500 items a batch.
const (
	benchClaims   = 10000
	benchClusters = 20
	benchClients  = 32
	benchBatch    = 500
)

// benchServer serves a Function over a private redis-server through real
// HTTP on loopback, logging nothing (a log line per request would measure
// the logger).
func benchServer(b *testing.B) (*httptest.Server, *redistest.Server, *http.Client) {
	r := redistest.Start(b)
	fn := New(Options{Store: store.New(r.Client(), ""), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(fn)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	return srv, r, client
}

func post(b *testing.B, c *http.Client, url string, body []byte, want int) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Errorf("status %d, want %d", resp.StatusCode, want)
	}
}

// BenchmarkSinglePost measures POST /api/v1/status from 32 clients and
// reports statuses/s beside redis-benchmark's unpipelined HSET rate
// measured on the same redis-server in the same run.
func BenchmarkSinglePost(b *testing.B) {
	srv, r, client := benchServer(b)
	hset := redisBenchmark(b, r.Addr, 1)
	var seq atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b.N, benchClients, func() {
		i := seq.Add(1)
		claim := i % benchClaims
		body := fmt.Appendf(nil, `{"cluster":"cluster-%02d","claimRef":"ns-%d/claim-%d","statusMessage":"message %d","ready":"True","observedAt":"%s"}`,
			claim%benchClusters, claim%50, claim, i, time.Unix(1_700_000_000, i).UTC().Format(time.RFC3339Nano))
		post(b, client, srv.URL+"/api/v1/status", body, http.StatusCreated)
	})
	report(b, float64(b.N)/time.Since(start).Seconds(), hset, "hset-unpipelined/s")
}

// BenchmarkBatchPost measures POST /api/v1/statuses with 500 items a batch
// and reports statuses/s beside redis-benchmark's HSET rate with -P 32.
func BenchmarkBatchPost(b *testing.B) {
	srv, r, client := benchServer(b)
	hset := redisBenchmark(b, r.Addr, 32)
	bodies := make([][]byte, benchClaims/benchBatch)
	var seq atomic.Int64
	build := func(k int) []byte {
		var buf bytes.Buffer
		n := seq.Add(1)
		fmt.Fprintf(&buf, `{"cluster":"cluster-%02d","items":[`, k%benchClusters)
		for j := range benchBatch {
			claim := k*benchBatch + j
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"claimRef":"ns-%d/claim-%d","kind":"PostgreSQL.database.example.org","uid":"5f1c2a9e-0000-4000-8000-%012d","statusMessage":"message %d","ready":"True","synced":"True","reason":"Available","generation":3,"observedGeneration":3,"observedAt":"%s"}`,
				claim%50, claim, claim, n, time.Unix(1_700_000_000, n).UTC().Format(time.RFC3339Nano))
		}
		buf.WriteString("]}")
		return buf.Bytes()
	}
	// Bodies are built before the timer; each round changes every message so every item is a real write.
	rounds := make([][][]byte, 4)
	for r := range rounds {
		for k := range bodies {
			rounds[r] = append(rounds[r], build(k))
		}
	}
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b.N, 8, func() {
		i := next.Add(1)
		round := rounds[(i/int64(len(bodies)))%int64(len(rounds))]
		post(b, client, srv.URL+"/api/v1/statuses", round[i%int64(len(bodies))], http.StatusOK)
	})
	report(b, float64(b.N*benchBatch)/time.Since(start).Seconds(), hset, "hset-P32/s")
}

// runClients calls fn n times spread over clients goroutines.
func runClients(n, clients int, fn func()) {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				fn()
			}
		}()
	}
	wg.Wait()
}

func report(b *testing.B, rate, baseline float64, baselineName string) {
	b.StopTimer()
	b.ReportMetric(rate, "statuses/s")
	b.ReportMetric(baseline, baselineName)
	b.ReportMetric(rate/baseline, "ratio")
}

var rpsLine = regexp.MustCompile(`HSET: ([0-9.]+) requests per second`)

// redisBenchmark runs redis-benchmark HSET with 32 clients and the given
// pipeline depth against addr and returns requests per second.
func redisBenchmark(b *testing.B, addr string, pipeline int) float64 {
	b.Helper()
	host, port, _ := net.SplitHostPort(addr)
	n := 200000
	if pipeline > 1 {
		n = 2000000
	}
	out, err := exec.Command("redis-benchmark", "-h", host, "-p", port, "-t", "hset", "-c", "32",
		"-n", strconv.Itoa(n), "-P", strconv.Itoa(pipeline), "-q").CombinedOutput()
	if err != nil {
		b.Fatalf("redis-benchmark: %v: %s", err, out)
	}
	m := rpsLine.FindSubmatch(out)
	if m == nil {
		b.Fatalf("redis-benchmark printed no rate: %s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	return rps
}
