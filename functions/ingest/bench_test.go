package ingest

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
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
// HTTP on loopback. The logger discards without formatting: a log line per
// request would measure the logger, and redis-benchmark's baseline logs
// nothing either.
func benchServer(b *testing.B) (*httptest.Server, *redistest.Server) {
	r := redistest.Start(b)
	fn := New(Options{Store: store.New(r.Client(), ""), Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(fn)
	b.Cleanup(srv.Close)
	return srv, r
}

// BenchmarkSinglePost measures POST /api/v1/status from 32 clients and
// reports statuses/s beside redis-benchmark's unpipelined HSET rate
// measured on the same redis-server in the same run.
func BenchmarkSinglePost(b *testing.B) {
	srv, r := benchServer(b)
	hset := redisBenchmark(b, r.Addr, 1)
	var seq atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b, srv.Listener.Addr().String(), b.N, benchClients, func(c *loadConn) {
		i := seq.Add(1)
		claim := i % benchClaims
		body := fmt.Appendf(c.body[:0], `{"cluster":"cluster-%02d","claimRef":"ns-%d/claim-%d","statusMessage":"message %d","ready":"True","observedAt":"%s"}`,
			claim%benchClusters, claim%50, claim, i, time.Unix(1_700_000_000, i).UTC().Format(time.RFC3339Nano))
		c.body = body
		expect(b, c, "/api/v1/status", body, http.StatusCreated)
	})
	report(b, float64(b.N)/time.Since(start).Seconds(), hset, "hset-unpipelined/s")
}

// BenchmarkBatchPost measures POST /api/v1/statuses with 500 items a batch
// and reports statuses/s beside redis-benchmark's HSET rate with -P 32.
func BenchmarkBatchPost(b *testing.B) {
	srv, r := benchServer(b)
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
	runClients(b, srv.Listener.Addr().String(), b.N, 8, func(c *loadConn) {
		i := next.Add(1)
		round := rounds[(i/int64(len(bodies)))%int64(len(rounds))]
		expect(b, c, "/api/v1/statuses", round[i%int64(len(bodies))], http.StatusOK)
	})
	report(b, float64(b.N*benchBatch)/time.Since(start).Seconds(), hset, "hset-P32/s")
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
