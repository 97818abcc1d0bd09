package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/redistest"
	"github.com/stuttgart-things/machinery-status-collector/shared/servertest"
	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// Tokens used across the tests; each at least 16 characters.
const (
	tokenA   = "token-for-cluster-a"
	tokenB   = "token-for-cluster-b"
	tokenAll = "token-for-every-cluster"
)

type env struct {
	t     *testing.T
	redis *redistest.Server
	store *store.Store
	fn    *Function
	srv   *httptest.Server
	log   *servertest.Buffer
}

// newEnv serves a Function over a fresh Redis; tokens may be nil (open API).
func newEnv(t *testing.T, tokens string, edit ...func(*Options)) *env {
	t.Helper()
	r := redistest.Start(t)
	st := store.New(r.Client(), "")
	opts := Options{Store: st, Now: func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }}
	if tokens != "" {
		tk, err := ParseTokens([]byte(tokens))
		if err != nil {
			t.Fatal(err)
		}
		opts.Tokens = tk
	}
	logs := &servertest.Buffer{}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, e := range edit {
		e(&opts)
	}
	fn := New(opts)
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	return &env{t: t, redis: r, store: st, fn: fn, srv: srv, log: logs}
}

// do sends a request and returns the status code, headers and body.
func (e *env) do(method, path, token, contentType, body string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (e *env) records(cluster string) []status.Record {
	e.t.Helper()
	recs, err := e.store.ClusterRecords(context.Background(), cluster)
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

func TestSeedPayloadRoundTrip(t *testing.T) {
	e := newEnv(t, "")
	code, _, body := e.do("POST", "/api/v1/status", "", "application/json",
		`{"cluster":"cluster-01","claimRef":"default/my-db","statusMessage":"Resource is available"}`)
	if code != 201 || body != `{"status":"created","outcome":"accepted"}`+"\n" {
		t.Fatalf("POST = %d %s", code, body)
	}
	// A repeat of the same status still answers 201.
	code, _, body = e.do("POST", "/api/v1/status", "", "application/json",
		`{"cluster":"cluster-01","claimRef":"default/my-db","statusMessage":"Resource is available"}`)
	if code != 201 || !strings.Contains(body, `"status":"created"`) {
		t.Fatalf("repeat POST = %d %s", code, body)
	}
	code, _, body = e.do("GET", "/api/v1/status/cluster-01", "", "", "")
	want := `[{"cluster":"cluster-01","claimRef":"default/my-db","statusMessage":"Resource is available","observedAt":"2026-11-25T12:00:00Z","receivedAt":"2026-11-25T12:00:00Z","lastTransitionTime":"2026-11-25T12:00:00Z"}]` + "\n"
	if code != 200 || body != want {
		t.Fatalf("GET cluster = %d\n%s\nwant\n%s", code, body, want)
	}
	code, _, body = e.do("GET", "/api/v1/status", "", "", "")
	if code != 200 || body != want {
		t.Fatalf("GET all = %d %s", code, body)
	}
	code, _, body = e.do("GET", "/api/v1/status/unknown", "", "", "")
	if code != 200 || body != "[]\n" {
		t.Fatalf("GET unknown cluster = %d %s", code, body)
	}
	code, _, body = e.do("GET", "/api/v1/clusters", "", "", "")
	if code != 200 || body != `[{"cluster":"cluster-01","lastSeen":"2026-11-25T12:00:00Z","ready":0,"notReady":1,"deleted":0}]`+"\n" {
		t.Fatalf("GET clusters = %d %s", code, body)
	}
}

func batchJSON(cluster string, items ...string) string {
	return fmt.Sprintf(`{"cluster":%q,"items":[%s]}`, cluster, strings.Join(items, ","))
}

func item(ref, msg, observed string, extra ...string) string {
	s := fmt.Sprintf(`{"claimRef":%q,"statusMessage":%q,"ready":"True","observedAt":%q`, ref, msg, observed)
	for _, x := range extra {
		s += "," + x
	}
	return s + "}"
}

func TestBatchOutcomesAndGeneration(t *testing.T) {
	e := newEnv(t, "")
	steps := []struct {
		name, body, want string
	}{
		{"first", batchJSON("a", item("ns/one", "ok", "2026-11-25T10:00:00Z", `"uid":"u1"`), item("ns/two", "ok", "2026-11-25T10:00:00Z")),
			`{"accepted":2,"unchanged":0,"stale":0,"generation":1}`},
		{"same again", batchJSON("a", item("ns/one", "ok", "2026-11-25T10:00:01Z", `"uid":"u1"`), item("ns/two", "ok", "2026-11-25T10:00:01Z")),
			`{"accepted":0,"unchanged":2,"stale":0,"generation":1}`},
		{"older", batchJSON("a", item("ns/one", "old news", "2026-11-25T09:00:00Z", `"uid":"u1"`)),
			`{"accepted":0,"unchanged":0,"stale":1,"generation":1}`},
		{"recreated", batchJSON("a", item("ns/one", "new claim", "2026-11-25T09:00:00Z", `"uid":"u2"`)),
			`{"accepted":1,"unchanged":0,"stale":0,"generation":2}`},
		{"real change", batchJSON("a", item("ns/two", "broken", "2026-11-25T10:00:02Z", `"ready":"False"`)),
			`{"accepted":1,"unchanged":0,"stale":0,"generation":3}`},
	}
	for _, st := range steps {
		code, _, body := e.do("POST", "/api/v1/statuses", "", "application/json", st.body)
		if code != 200 || strings.TrimSpace(body) != st.want {
			t.Fatalf("%s: %d %s, want %s", st.name, code, body, st.want)
		}
	}
	recs := e.records("a")
	if len(recs) != 2 || recs[0].StatusMessage != "new claim" || recs[1].Ready != "False" {
		t.Fatalf("stored %+v", recs)
	}
}

func TestBatchIsAtomic(t *testing.T) {
	e := newEnv(t, "")
	body := batchJSON("a",
		item("ns/one", "ok", "2026-11-25T10:00:00Z"),
		item("ns/two", "ok", "2026-11-25T10:00:00Z", `"ready":"maybe"`))
	code, _, resp := e.do("POST", "/api/v1/statuses", "", "application/json", body)
	if code != 400 || strings.TrimSpace(resp) != `{"error":"items[1].ready: \"maybe\" must be one of True, False, Unknown"}` {
		t.Fatalf("bad item: %d %s", code, resp)
	}
	if recs := e.records("a"); len(recs) != 0 {
		t.Fatalf("a rejected batch stored %d records", len(recs))
	}
	if cur, _, _ := e.store.Generations(context.Background()); cur != 0 {
		t.Fatalf("generation moved to %d", cur)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.MaxItems = 3; o.MaxBodyBytes = 2048 })
	many := batchJSON("a", item("ns/1", "m", "2026-11-25T10:00:00Z"), item("ns/2", "m", "2026-11-25T10:00:00Z"),
		item("ns/3", "m", "2026-11-25T10:00:00Z"), item("ns/4", "m", "2026-11-25T10:00:00Z"))
	huge := batchJSON("a", item("ns/1", strings.Repeat("x", 3000), "2026-11-25T10:00:00Z"))
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		want                            string
	}{
		{"bad json", "POST", "/api/v1/status", "application/json", `{"cluster":`, 400, `{"error":"cluster: expected a string, got end of input (truncated JSON)"}`},
		{"wrong type", "POST", "/api/v1/statuses", "application/json", `{"cluster":"a","items":[{"claimRef":"ns/a","statusMessage":"m","generation":"7"}]}`, 400,
			`{"error":"items[0].generation: expected an integer at byte 76"}`},
		{"trailing data", "POST", "/api/v1/status", "application/json", `{"cluster":"a","claimRef":"ns/a","statusMessage":"m"} {}`, 400, `{"error":"body: unexpected data after the JSON object at byte 54"}`},
		{"missing field", "POST", "/api/v1/status", "application/json", `{"cluster":"a","claimRef":"ns/a"}`, 400, `{"error":"statusMessage: is required"}`},
		{"batch cluster mismatch", "POST", "/api/v1/statuses", "application/json", `{"cluster":"a","items":[{"cluster":"b","claimRef":"ns/a","statusMessage":"m"}]}`, 400,
			`{"error":"items[0].cluster: \"b\" differs from the batch's cluster \"a\""}`},
		{"empty batch", "POST", "/api/v1/statuses", "application/json", `{"cluster":"a","items":[]}`, 400, `{"error":"items: must hold at least one item"}`},
		{"too many items", "POST", "/api/v1/statuses", "application/json", many, 413, `{"error":"items: 4 items exceed the limit of 3"}`},
		{"body too large", "POST", "/api/v1/statuses", "application/json", huge, 413, `{"error":"body: larger than the limit of 2048 bytes"}`},
		{"not json", "POST", "/api/v1/status", "text/plain", `x`, 415, `{"error":"Content-Type \"text/plain\" is not supported; send application/json"}`},
		{"no content type", "POST", "/api/v1/statuses", "", `{}`, 415, `{"error":"Content-Type is missing; send application/json"}`},
		{"wrong method", "DELETE", "/api/v1/status", "", "", 405, `{"error":"method DELETE not allowed on /api/v1/status; allowed: GET, POST"}`},
		{"unknown path", "GET", "/api/v2/nothing", "", "", 404, `{"error":"no route for /api/v2/nothing"}`},
		{"bad cluster in path", "GET", "/api/v1/status/Bad_Name", "", "", 400, `{"error":"cluster: \"Bad_Name\" must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := e.do(tt.method, tt.path, "", tt.ctype, tt.body)
			if code != tt.code || strings.TrimSpace(body) != tt.want {
				t.Fatalf("%s %s = %d %s\nwant %d %s", tt.method, tt.path, code, body, tt.code, tt.want)
			}
		})
	}
	if recs := e.records("a"); len(recs) != 0 {
		t.Fatalf("refused requests stored %d records", len(recs))
	}
}

func TestAuthMatrix(t *testing.T) {
	e := newEnv(t, "a="+tokenA+"\nb="+tokenB+"\n*="+tokenAll)
	post := func(cluster string) string { return batchJSON(cluster, item("ns/x", "m", "2026-11-25T10:00:00Z")) }
	tests := []struct {
		name, method, path, token, body string
		code                            int
	}{
		{"no token", "POST", "/api/v1/statuses", "", post("a"), 401},
		{"bad token", "POST", "/api/v1/statuses", "not-a-known-token-at-all", post("a"), 401},
		{"own cluster", "POST", "/api/v1/statuses", tokenA, post("a"), 200},
		{"other cluster", "POST", "/api/v1/statuses", tokenB, post("a"), 403},
		{"wildcard", "POST", "/api/v1/statuses", tokenAll, post("b"), 200},
		{"single post other cluster", "POST", "/api/v1/status", tokenA, `{"cluster":"b","claimRef":"ns/y","statusMessage":"m"}`, 403},
		{"read own cluster", "GET", "/api/v1/status/a", tokenA, "", 200},
		{"read other cluster", "GET", "/api/v1/status/b", tokenA, "", 403},
		{"read all needs wildcard", "GET", "/api/v1/status", tokenA, "", 403},
		{"read all with wildcard", "GET", "/api/v1/status", tokenAll, "", 200},
		{"clusters needs wildcard", "GET", "/api/v1/clusters", tokenB, "", 403},
		{"health is open", "GET", "/healthz", "", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, body := e.do(tt.method, tt.path, tt.token, "application/json", tt.body)
			if code != tt.code {
				t.Fatalf("%d %s, want %d", code, body, tt.code)
			}
			if code == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if recs := e.records("a"); len(recs) != 1 {
		t.Fatalf("cluster a has %d records, want only its own token's write", len(recs))
	}
	if recs := e.records("b"); len(recs) != 1 {
		t.Fatalf("cluster b has %d records, want only the wildcard write", len(recs))
	}
	for _, tok := range []string{tokenA, tokenB, tokenAll, "not-a-known-token-at-all"} {
		if strings.Contains(e.log.String(), tok) {
			t.Fatalf("log contains a token: %s", e.log.String())
		}
	}
}

func TestRedisDownThenBack(t *testing.T) {
	e := newEnv(t, "")
	first := batchJSON("a", item("ns/1", "m", "2026-11-25T10:00:00Z"))
	if code, _, body := e.do("POST", "/api/v1/statuses", "", "application/json", first); code != 200 {
		t.Fatalf("before: %d %s", code, body)
	}
	e.redis.Stop()
	code, hdr, body := e.do("POST", "/api/v1/statuses", "", "application/json",
		batchJSON("a", item("ns/2", "m", "2026-11-25T10:00:00Z"), item("ns/3", "m", "2026-11-25T10:00:00Z")))
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(body, `"error"`) {
		t.Fatalf("with Redis down: %d Retry-After=%q %s", code, hdr.Get("Retry-After"), body)
	}
	if code, hdr, _ := e.do("GET", "/readyz", "", "", ""); code != 503 || hdr.Get("Retry-After") == "" {
		t.Fatalf("readyz with Redis down = %d", code)
	}
	if code, _, _ := e.do("GET", "/healthz", "", "", ""); code != 200 {
		t.Fatalf("healthz with Redis down = %d, want 200 (the process is alive)", code)
	}
	e.redis.Restart() // comes back empty, as a Redis without persistence does
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, _ := e.do("GET", "/readyz", "", "", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz never recovered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if recs := e.records("a"); len(recs) != 0 {
		t.Fatalf("the refused batch left %d records behind", len(recs))
	}
	code, _, body = e.do("POST", "/api/v1/statuses", "", "application/json",
		batchJSON("a", item("ns/2", "m", "2026-11-25T10:00:00Z"), item("ns/3", "m", "2026-11-25T10:00:00Z")))
	if code != 200 || !strings.Contains(body, `"accepted":2`) {
		t.Fatalf("after restart: %d %s", code, body)
	}
}

func TestConcurrentWriters(t *testing.T) {
	e := newEnv(t, "")
	const clients, perClient = 8, 25
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				body := batchJSON(fmt.Sprintf("c%d", c%2),
					item(fmt.Sprintf("ns/claim-%d", i%5), fmt.Sprintf("msg %d", i), time.Date(2026, 11, 25, 10, 0, i, c, time.UTC).Format(time.RFC3339Nano)))
				req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/statuses", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	for _, cluster := range []string{"c0", "c1"} {
		recs := e.records(cluster)
		if len(recs) != 5 {
			t.Fatalf("%s: %d records, want 5", cluster, len(recs))
		}
		for _, r := range recs {
			// The newest write for claim-k is round 20+k (seconds), from the highest client id of that cluster.
			var k int
			fmt.Sscanf(r.Name(), "claim-%d", &k)
			if want := fmt.Sprintf("msg %d", 20+k); r.StatusMessage != want {
				t.Errorf("%s/%s = %q, want %q", cluster, r.ClaimRef, r.StatusMessage, want)
			}
		}
	}
}

func TestRequestIDAndPanicRecovery(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.Store = nil })
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/status", nil)
	req.Header.Set(RequestIDHeader, "abc-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.TrimSpace(string(body)) != `{"error":"internal error"}` || resp.Header.Get(RequestIDHeader) != "abc-123" {
		t.Fatalf("panic: %d %s id=%q", resp.StatusCode, body, resp.Header.Get(RequestIDHeader))
	}
	line := logLine(t, e.log.String(), "request")
	if line["request_id"] != "abc-123" || line["status"] != float64(500) || line["path"] != "/api/v1/status" {
		t.Fatalf("access log line = %v", line)
	}
	if !strings.Contains(e.log.String(), "handler panic") {
		t.Fatal("panic not logged")
	}
}

// logLine returns the first JSON log line whose msg is msg, decoded into a
// fresh map so that no field of another line can leak into it; it fails
// the test when there is none or a line is not JSON.
func logLine(t *testing.T, log, msg string) map[string]any {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if line["msg"] == msg {
			return line
		}
	}
	t.Fatalf("no %q line in the log:\n%s", msg, log)
	return nil
}

func TestHealthVersionMetrics(t *testing.T) {
	e := newEnv(t, "", func(o *Options) { o.Version, o.Commit = "v1.2.3", "abc" })
	if code, _, body := e.do("GET", "/version", "", "", ""); code != 200 || strings.TrimSpace(body) != `{"version":"v1.2.3","commit":"abc"}` {
		t.Fatalf("version = %d %s", code, body)
	}
	if code, _, body := e.do("GET", "/readyz", "", "", ""); code != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("readyz = %d %s", code, body)
	}
	e.do("POST", "/api/v1/statuses", "", "application/json", batchJSON("a", item("ns/1", "m", "2026-11-25T10:00:00Z")))
	code, _, body := e.do("GET", "/metrics", "", "", "")
	for _, want := range []string{
		`msc_ingest_requests_total{code="200",route="/api/v1/statuses"} 1`,
		`msc_ingest_statuses_total{outcome="accepted"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
}

// A kind-less post for a claim stored under two kinds is refused with a
// 400 naming the item and the kinds; nothing of the batch is stored.
func TestKindlessPostForSeveralKindsIs400(t *testing.T) {
	e := newEnv(t, "")
	body := batchJSON("a",
		item("ns/db", "pg", "2026-11-25T10:00:00Z", `"kind":"PostgreSQL.database.example.org"`),
		item("ns/db", "bucket", "2026-11-25T10:00:00Z", `"kind":"Bucket.s3.example.org"`))
	if code, _, resp := e.do("POST", "/api/v1/statuses", "", "application/json", body); code != 200 {
		t.Fatalf("kinded batch: %d %s", code, resp)
	}
	const kinds = `claim ns/db in cluster a has records of several kinds (PostgreSQL.database.example.org, Bucket.s3.example.org)`
	code, _, resp := e.do("POST", "/api/v1/statuses", "", "application/json", batchJSON("a",
		item("ns/other", "x", "2026-11-25T10:00:01Z"), item("ns/db", "which", "2026-11-25T10:00:01Z")))
	if code != 400 || strings.TrimSpace(resp) != `{"error":"items[1].kind: required: `+kinds+`"}` {
		t.Fatalf("batch: %d %s", code, resp)
	}
	code, _, resp = e.do("POST", "/api/v1/status", "", "application/json", `{"cluster":"a","claimRef":"ns/db","statusMessage":"which"}`)
	if code != 400 || strings.TrimSpace(resp) != `{"error":"kind: required: `+kinds+`"}` {
		t.Fatalf("single: %d %s", code, resp)
	}
	if recs := e.records("a"); len(recs) != 2 {
		t.Fatalf("%d records stored, want the 2 kinded ones", len(recs))
	}
}
