package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Writes whose bodies would take the bytes in flight past the cap are shed
// with 503 and Retry-After before their body is read; the bytes come back
// when a write ends.
func TestInFlightBytesCap(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.MaxInFlightBytes = 1 << 20; o.MaxBodyBytes = 1 << 20 })
	body := batchJSON("a", item("ns/slow", "ok", "2026-11-25T10:00:00Z"))
	// A write that holds 600 KiB of the 1 MiB cap: its client sends the
	// first byte and then waits.
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) }) // before the server's Close, which waits for it
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/statuses", pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = 600 << 10
	slow := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		slow <- resp
	}()
	pw.Write([]byte(" "))
	deadline := time.Now().Add(10 * time.Second)
	for e.fn.inFlight.Load() != 600<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("slow write never reserved its bytes: %d", e.fn.inFlight.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, want := e.inFlightSeries(), inFlightSeries(600<<10, 0); got != want {
		t.Fatalf("/metrics with the slow write held:\n%s\nwant:\n%s", got, want)
	}
	// 600 KiB held: a 500 KiB write does not fit, a small one does.
	big := `{"cluster":"a","items":[` + item("ns/big", "ok", "2026-11-25T10:00:00Z") + `]}` + strings.Repeat(" ", 500<<10)
	code, hdr, got := e.do("POST", "/api/v1/statuses", "", "application/json", big)
	want := fmt.Sprintf(`{"error":"requests in flight hold 614400 body bytes; %d more would exceed the limit of 1048576 (INGEST_MAX_INFLIGHT_BYTES), retry later"}`+"\n", len(big))
	if code != 503 || hdr.Get("Retry-After") != "1" || got != want {
		t.Fatalf("over the cap: %d %v %s, want 503 Retry-After 1 %s", code, hdr, got, want)
	}
	if code, _, got := e.do("POST", "/api/v1/statuses", "", "application/json", body); code != 200 {
		t.Fatalf("small write beside the slow one: %d %s", code, got)
	}
	if got, want := e.inFlightSeries(), inFlightSeries(600<<10, 1); got != want {
		t.Fatalf("/metrics after one refusal:\n%s\nwant:\n%s", got, want)
	}
	// The slow write ends; its bytes are free again and the big one fits.
	pw.Write([]byte(body + strings.Repeat(" ", 600<<10-1-len(body))))
	pw.Close()
	if resp := <-slow; resp == nil || resp.StatusCode != 200 {
		t.Fatalf("slow write: %v", resp)
	}
	if code, _, got := e.do("POST", "/api/v1/statuses", "", "application/json", big); code != 200 {
		t.Fatalf("after the slow write ended: %d %s", code, got)
	}
	if n := e.fn.inFlight.Load(); n != 0 {
		t.Fatalf("%d bytes still reserved with no request in flight", n)
	}
	if got, want := e.inFlightSeries(), inFlightSeries(0, 1); got != want {
		t.Fatalf("/metrics with nothing in flight:\n%s\nwant:\n%s", got, want)
	}
}

// inFlightSeries is the exact /metrics text of the in-flight cap's series.
func inFlightSeries(bytes, refused int) string {
	return fmt.Sprintf(`# HELP msc_ingest_inflight_bytes Request body bytes reserved by writes being served, against INGEST_MAX_INFLIGHT_BYTES.
# TYPE msc_ingest_inflight_bytes gauge
msc_ingest_inflight_bytes %d
# HELP msc_ingest_inflight_refused_total Writes answered 503 because their body would take the bytes in flight past INGEST_MAX_INFLIGHT_BYTES.
# TYPE msc_ingest_inflight_refused_total counter
msc_ingest_inflight_refused_total %d
`, bytes, refused)
}

// inFlightSeries scrapes /metrics and returns the lines of the in-flight
// cap's series, in order.
func (e *env) inFlightSeries() string {
	e.t.Helper()
	code, _, body := e.do("GET", "/metrics", "", "", "")
	if code != 200 {
		e.t.Fatalf("GET /metrics: %d %s", code, body)
	}
	var b strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, "msc_ingest_inflight_") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// A write that would take its cluster past INGEST_MAX_CLAIMS_PER_CLUSTER
// answers 409 naming the limit and stores nothing; updates still pass.
func TestClaimLimitAnswers409(t *testing.T) {
	e := newEnv(t, "")
	e.store.SetClaimLimit(2)
	two := batchJSON("a", item("ns/1", "ok", "2026-11-25T10:00:00Z"), item("ns/2", "ok", "2026-11-25T10:00:00Z"))
	if code, _, body := e.do("POST", "/api/v1/statuses", "", "application/json", two); code != 200 {
		t.Fatalf("within the limit: %d %s", code, body)
	}
	code, _, body := e.do("POST", "/api/v1/statuses", "", "application/json",
		batchJSON("a", item("ns/1", "changed", "2026-11-25T10:00:01Z"), item("ns/3", "ok", "2026-11-25T10:00:01Z")))
	want := `{"error":"cluster a holds 2 claims; 1 new ones would exceed the limit of 2 claims per cluster (INGEST_MAX_CLAIMS_PER_CLUSTER); nothing was stored"}` + "\n"
	if code != 409 || body != want {
		t.Fatalf("over the limit: %d %s, want 409 %s", code, body, want)
	}
	if recs := e.records("a"); len(recs) != 2 || recs[0].StatusMessage != "ok" {
		t.Fatalf("a refused batch changed the store: %+v", recs)
	}
	code, _, body = e.do("POST", "/api/v1/status", "", "application/json", `{"cluster":"a","claimRef":"ns/9","statusMessage":"x"}`)
	if code != 409 || !strings.Contains(body, "INGEST_MAX_CLAIMS_PER_CLUSTER") {
		t.Fatalf("single update over the limit: %d %s", code, body)
	}
	if code, _, body := e.do("POST", "/api/v1/statuses", "", "application/json",
		batchJSON("a", item("ns/1", "changed", "2026-11-25T10:00:01Z"))); code != 200 {
		t.Fatalf("update of a held claim: %d %s", code, body)
	}
}

// A Redis at its maxmemory: 503 with Retry-After saying the store is
// full, and nothing stored.
func TestRedisFullAnswers503(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if err := e.redis.Client().ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	code, hdr, body := e.do("POST", "/api/v1/statuses", "", "application/json", batchJSON("a", item("ns/1", "ok", "2026-11-25T10:00:00Z")))
	want := `{"error":"status store is full (Redis maxmemory reached); nothing was stored, retry later"}` + "\n"
	if code != 503 || hdr.Get("Retry-After") == "" || body != want {
		t.Fatalf("Redis full: %d %v %s, want 503 %s", code, hdr, body, want)
	}
	if err := e.redis.Client().ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if recs := e.records("a"); len(recs) != 0 {
		t.Fatalf("stored %+v", recs)
	}
}

// burstBatches is the burst: 24 batches of 1000 claims, each body
// just under the 4 MiB body limit, one cluster per batch.
func burstBatches(t *testing.T) (clusters, bodies []string, msg string) {
	t.Helper()
	const n, count = 24, 1000
	item0 := func(i int, m string) string { return item(fmt.Sprintf("ns/claim-%04d", i), m, "2026-11-25T10:00:00Z") }
	// Items are as long as the largest one without its message; the message
	// fills the rest of the body limit.
	overhead := len(batchJSON("c00")) + count*(len(item0(count-1, ""))+1)
	msg = strings.Repeat("m", min((DefaultMaxBodyBytes-overhead)/count, 4096))
	parts := make([]string, count)
	for i := range parts {
		parts[i] = item0(i, msg)
	}
	tail := strings.Join(parts, ",") + "]}" // shared by every batch: only the cluster differs
	for c := range n {
		cluster := fmt.Sprintf("c%02d", c)
		body := fmt.Sprintf(`{"cluster":%q,"items":[`, cluster) + tail
		if len(body) > DefaultMaxBodyBytes || len(body) < DefaultMaxBodyBytes-count*8 {
			t.Fatalf("batch of %d bytes, want just under %d", len(body), DefaultMaxBodyBytes)
		}
		clusters, bodies = append(clusters, cluster), append(bodies, body)
	}
	return clusters, bodies, msg
}

// 24 concurrent 4 MiB batches against the default 16 MiB in-flight cap:
// the heap grows by less than 160 MiB (the issue measured 743 MB before
// the cap; four admitted batches cost about 30 MiB each here: body, decoded
// records, Redis arguments, and the garbage HeapAlloc counts until the next
// GC), every write either lands whole (200) or is refused with 503
// and Retry-After leaving its cluster empty, and a refused write retried
// alone lands.
func TestInFlightCapBoundsHeapUnderBurst(t *testing.T) {
	const bound = 160 << 20
	e := newEnv(t, "")
	clusters, bodies, msg := burstBatches(t)
	type answer struct {
		code       int
		retryAfter string
		body       string
		err        error
	}
	answers := make([]answer, len(bodies))
	stop := heapPeak()
	start := time.Now()
	fire := make(chan struct{})
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-fire
			resp, err := http.Post(e.srv.URL+"/api/v1/statuses", "application/json", strings.NewReader(body))
			if err != nil {
				answers[i].err = err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			answers[i] = answer{resp.StatusCode, resp.Header.Get("Retry-After"), string(got), err}
		}()
	}
	close(fire)
	wg.Wait()
	growth := stop()
	var landed, refused []int
	for i, a := range answers {
		switch {
		case a.err != nil:
			// The server closes a refused write's connection without
			// reading its body; a client still sending may see that
			// before the 503. The counter check below tells which.
			t.Logf("batch %s: %v", clusters[i], a.err)
			refused = append(refused, i)
		case a.code == 200 && strings.HasPrefix(a.body, `{"accepted":1000,"unchanged":0,"stale":0,"generation":`):
			landed = append(landed, i)
		case a.code == 503 && a.retryAfter == "1" && inFlightRefusal.MatchString(a.body):
			refused = append(refused, i)
		default:
			t.Errorf("batch %s: %d Retry-After %q %s", clusters[i], a.code, a.retryAfter, a.body)
		}
	}
	t.Logf("24 concurrent %d-byte batches: %d landed, %d refused in %s; peak heap growth %.1f MiB (bound %d MiB)",
		len(bodies[0]), len(landed), len(refused), time.Since(start).Round(time.Millisecond), float64(growth)/(1<<20), bound>>20)
	if growth > bound {
		t.Errorf("heap grew by %.1f MiB, want under %d MiB", float64(growth)/(1<<20), bound>>20)
	}
	if len(refused) == 0 {
		t.Errorf("no batch was refused: the cap was not exercised")
	}
	if got, want := e.inFlightSeries(), inFlightSeries(0, len(refused)); got != want {
		t.Errorf("/metrics after the burst:\n%s\nwant:\n%s", got, want)
	}
	// Nothing half-written: each cluster holds all of its batch or nothing.
	wantRecords := func(i, n int) {
		t.Helper()
		recs := e.records(clusters[i])
		if len(recs) != n {
			t.Errorf("cluster %s holds %d records, want %d", clusters[i], len(recs), n)
			return
		}
		for _, r := range recs {
			if r.StatusMessage != msg {
				t.Errorf("cluster %s: %s holds a message of %d bytes, want %d", clusters[i], r.ClaimRef, len(r.StatusMessage), len(msg))
				return
			}
		}
	}
	for _, i := range landed {
		wantRecords(i, 1000)
	}
	for _, i := range refused {
		wantRecords(i, 0)
	}
	// Retried alone, as Retry-After asks, a refused write lands (one is
	// enough: each takes about 2 s under -race).
	if len(refused) > 0 {
		i := refused[0]
		if code, _, got := e.do("POST", "/api/v1/statuses", "", "application/json", bodies[i]); code != 200 {
			t.Fatalf("retry of %s: %d %s", clusters[i], code, got)
		}
		wantRecords(i, 1000)
	}
}

// inFlightRefusal is the 503 answer of the in-flight cap, whatever the
// bytes held at the time.
var inFlightRefusal = regexp.MustCompile(`^\{"error":"requests in flight hold \d+ body bytes; \d+ more would exceed the limit of 16777216 \(INGEST_MAX_INFLIGHT_BYTES\), retry later"\}\n$`)
