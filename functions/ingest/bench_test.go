package ingest

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
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
	var seq, accepted atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b, srv.Listener.Addr().String(), b.N, benchClients, func(c *loadConn) {
		c.body = singleBody(c.body, seq.Add(1))
		if bytes.Equal(expect(b, c, "/api/v1/status", c.body, http.StatusCreated), createdBodies[store.Accepted]) {
			accepted.Add(1)
		}
	})
	report(b, float64(b.N)/time.Since(start).Seconds(), hset, "hset-unpipelined/s")
	if got := accepted.Load(); got < int64(b.N)*99/100 {
		b.Errorf("%d of %d posts accepted; the benchmark must measure real writes", got, b.N)
	}
}

// singleBody is the i-th single post: one of 10k claims over 20 clusters,
// each post newer than the last for its claim and with a new message.
func singleBody(dst []byte, i int64) []byte {
	claim := i % benchClaims
	return fmt.Appendf(dst[:0], `{"cluster":"cluster-%02d","claimRef":"ns-%d/claim-%d","statusMessage":"message %d","ready":"True","observedAt":"%s"}`,
		claim%benchClusters, claim%50, claim, i, time.Unix(1_700_000_000, i).UTC().Format(time.RFC3339Nano))
}

// BenchmarkHTTPFloor is BenchmarkSinglePost's load against a bare
// net/http handler that reads the body and answers 201, with no decoding
// and no Redis: the rate the HTTP layer alone allows on this machine,
// against the same baseline.
func BenchmarkHTTPFloor(b *testing.B) {
	r := redistest.Start(b)
	hset := redisBenchmark(b, r.Addr, 1)
	created := createdBodies[store.Accepted]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		writeBody(w, http.StatusCreated, created)
	}))
	b.Cleanup(srv.Close)
	var seq atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b, srv.Listener.Addr().String(), b.N, benchClients, func(c *loadConn) {
		c.body = singleBody(c.body, seq.Add(1))
		expect(b, c, "/api/v1/status", c.body, http.StatusCreated)
	})
	report(b, float64(b.N)/time.Since(start).Seconds(), hset, "hset-unpipelined/s")
}

// BenchmarkBatchPost measures POST /api/v1/statuses with 500 items a batch
// and reports statuses/s beside redis-benchmark's HSET rate with -P 32.
// Every post makes each of its items newer and different, so every item
// is a real write, as an agent's updates are.
func BenchmarkBatchPost(b *testing.B) {
	srv, r := benchServer(b)
	hset := redisBenchmark(b, r.Addr, 32)
	templates := make([]*batchTemplate, benchClaims/benchBatch)
	for k := range templates {
		templates[k] = newBatchTemplate(k)
	}
	var next, accepted atomic.Int64
	start := time.Now()
	b.ResetTimer()
	runClients(b, srv.Listener.Addr().String(), b.N, 8, func(c *loadConn) {
		i := next.Add(1)
		c.body = templates[i%int64(len(templates))].fill(c.body, i)
		answer := expect(b, c, "/api/v1/statuses", c.body, http.StatusOK)
		var res batchBody
		if json.Unmarshal(answer, &res) == nil {
			accepted.Add(int64(res.Accepted))
		}
	})
	report(b, float64(b.N*benchBatch)/time.Since(start).Seconds(), hset, "hset-P32/s")
	// Two clients may post one template out of order, making the earlier
	// post stale; anything more means the benchmark stopped writing.
	if got, want := accepted.Load(), int64(b.N*benchBatch); got < want*99/100 {
		b.Errorf("%d of %d items accepted; the benchmark must measure real writes", got, want)
	}
}

// BenchmarkStoreFloor applies the batch benchmark's records straight to
// the store (encode and the script, no HTTP, no JSON decoding): the part
// of BenchmarkBatchPost that Redis bounds, against the same baseline.
func BenchmarkStoreFloor(b *testing.B) {
	r := redistest.Start(b)
	st := store.New(r.Client(), "")
	hset := redisBenchmark(b, r.Addr, 32)
	batches := make([][]status.Record, benchClaims/benchBatch)
	for k := range batches {
		batch, err := status.DecodeBatch(newBatchTemplate(k).fill(nil, 0))
		if err != nil {
			b.Fatal(err)
		}
		for i := range batch.Items {
			batch.Items[i].Cluster = batch.Cluster
		}
		batches[k] = batch.Items
	}
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]status.Record, benchBatch)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				// A fresh message and a later observedAt make every record a real write.
				copy(recs, batches[i%int64(len(batches))])
				msg := "message " + strconv.FormatInt(i, 10)
				observed := time.Unix(1_700_000_000, i).UTC().Format(time.RFC3339Nano)
				for j := range recs {
					recs[j].StatusMessage, recs[j].ObservedAt = msg, observed
				}
				if _, err := status.NormalizeAll(recs, time.Now()); err != nil {
					b.Error(err)
					return
				}
				res, err := st.Apply(context.Background(), recs[0].ReceivedAt, recs)
				if err != nil || res.Accepted != len(recs) {
					b.Errorf("apply: %+v, %v", res, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	report(b, float64(b.N*benchBatch)/time.Since(start).Seconds(), hset, "hset-P32/s")
}

// batchTemplate is one batch body whose items' message digits and
// observedAt nanoseconds sit at known offsets, so a client can make a
// post's items newer and different by patching digits in place.
type batchTemplate struct {
	body  []byte
	slots []int // offsets of 9-digit fields: per item, message then nanoseconds
}

func newBatchTemplate(k int) *batchTemplate {
	t := &batchTemplate{}
	t.body = fmt.Appendf(t.body, `{"cluster":"cluster-%02d","items":[`, k%benchClusters)
	for j := range benchBatch {
		claim := k*benchBatch + j
		if j > 0 {
			t.body = append(t.body, ',')
		}
		t.body = fmt.Appendf(t.body, `{"claimRef":"ns-%d/claim-%d","kind":"PostgreSQL.database.example.org","uid":"5f1c2a9e-0000-4000-8000-%012d","statusMessage":"message `,
			claim%50, claim, claim)
		t.slots = append(t.slots, len(t.body))
		t.body = append(t.body, `000000000","ready":"True","synced":"True","reason":"Available","generation":3,"observedGeneration":3,"observedAt":"2023-11-14T22:13:20.`...)
		t.slots = append(t.slots, len(t.body))
		t.body = append(t.body, `000000000Z"}`...)
	}
	t.body = append(t.body, "]}"...)
	return t
}

// fill copies the template into dst with every slot set to n (mod 1e9),
// the nanoseconds offset by one so no two posts share an observedAt.
func (t *batchTemplate) fill(dst []byte, n int64) []byte {
	dst = append(dst[:0], t.body...)
	var digits [9]byte
	v := uint64(n%999_999_999) + 1
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + v%10)
		v /= 10
	}
	for _, at := range t.slots {
		copy(dst[at:at+9], digits[:])
	}
	return dst
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
