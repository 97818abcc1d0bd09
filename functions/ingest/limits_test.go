package ingest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
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
