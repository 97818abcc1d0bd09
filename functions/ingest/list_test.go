package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"

	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stuttgart-things/machinery-status-collector/shared/status"
	"github.com/stuttgart-things/machinery-status-collector/shared/store"
)

// fleet is a deterministic set of records: clusters × perCluster claims
// with a 1 KiB message each, ready cycling through True, False, Unknown.
type fleet struct{ clusters, perCluster int }

var readyCycle = []string{status.ReadyTrue, status.ReadyFalse, status.ReadyUnknown}

// record builds claim i of cluster c, normalized as the ingest stores it.
func (fl fleet) record(t testing.TB, c, i int) status.Record {
	msg := fmt.Sprintf("claim %05d of cluster %d: ", i, c)
	r := status.Record{Cluster: fmt.Sprintf("c%d", c), ClaimRef: fmt.Sprintf("ns/claim-%05d", i),
		StatusMessage: msg + strings.Repeat("x", 1024-len(msg)), Ready: readyCycle[i%3],
		ObservedAt: "2026-11-25T10:00:00Z"}
	if err := r.Normalize("", time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	return r
}

// load writes the fleet through the store in big batches and returns
// the SHA-256 of the JSON array each listing should answer: "" for every
// cluster, "/cN" for cluster N. Computed while loading, so the test
// encodes each record once and never holds the arrays.
func (fl fleet) load(t testing.TB, e *env) map[string]string {
	ctx := context.Background()
	const batch = 5000
	all := newArrayHash()
	sums := map[string]string{}
	for c := range fl.clusters {
		one := newArrayHash()
		for start := 0; start < fl.perCluster; start += batch {
			recs := make([]status.Record, 0, batch)
			for i := start; i < min(start+batch, fl.perCluster); i++ {
				r := fl.record(t, c, i)
				js := r.AppendJSON(nil)
				all.add(js)
				one.add(js)
				recs = append(recs, r)
			}
			if _, err := e.store.Apply(ctx, recs[0].ReceivedAt, recs); err != nil {
				t.Fatal(err)
			}
		}
		sums[fmt.Sprintf("/c%d", c)] = one.sum()
	}
	sums[""] = all.sum()
	return sums
}

// arrayHash hashes a JSON array element by element, as a listing writes it.
type arrayHash struct {
	h hash.Hash
	n int
}

func newArrayHash() *arrayHash { h := sha256.New(); h.Write([]byte("[")); return &arrayHash{h: h} }

func (a *arrayHash) add(js []byte) {
	if a.n > 0 {
		a.h.Write([]byte(","))
	}
	a.h.Write(js)
	a.n++
}

func (a *arrayHash) sum() string { a.h.Write([]byte("]\n")); return fmt.Sprintf("%x", a.h.Sum(nil)) }

// digest is the SHA-256 of the JSON array of the fleet's records of
// cluster c (-1: every cluster) whose ready is ready ("" any), in listing
// order, and their number.
func (fl fleet) digest(t testing.TB, c int, ready string) (string, int) {
	a := newArrayHash()
	for ci := range fl.clusters {
		if c >= 0 && ci != c {
			continue
		}
		for i := range fl.perCluster {
			if r := fl.record(t, ci, i); ready == "" || r.Ready == ready {
				a.add(r.AppendJSON(nil))
			}
		}
	}
	return a.sum(), a.n
}

// getDigest streams a GET's body into a hash and returns its status and digest.
func getDigest(t testing.TB, url, token string) (int, string) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Errorf("read %s: %v", url, err)
	}
	return resp.StatusCode, fmt.Sprintf("%x", h.Sum(nil))
}

// heapPeak samples the heap every few milliseconds until stop is called
// and returns the largest growth over the heap live before it started.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); <-finished; return peak.Load() }
}

// 100k records of 1 KiB: GET all and four concurrent cluster GETs stream
// their answers with bounded heap and exact content, though the whole
// read takes longer than the request timeout that bounds each round trip.
func TestListingStreamsWithBoundedHeap(t *testing.T) {
	fl := fleet{clusters: 4, perCluster: 25000}
	const timeout = 500 * time.Millisecond
	e := newEnv(t, "*="+tokenAll, func(o *Options) { o.RequestTimeout = timeout })
	start := time.Now()
	want := fl.load(t, e)
	t.Logf("loaded %d records in %s", fl.clusters*fl.perCluster, time.Since(start).Round(time.Millisecond))
	stop := heapPeak()
	start = time.Now()
	var wg sync.WaitGroup
	durations := make(map[string]time.Duration)
	var mu sync.Mutex
	for path, sum := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			code, got := getDigest(t, e.srv.URL+"/api/v1/status"+path, tokenAll)
			mu.Lock()
			durations[path] = time.Since(t0).Round(time.Millisecond)
			mu.Unlock()
			if code != 200 || got != sum {
				t.Errorf("GET /api/v1/status%s = %d, digest %s, want 200 %s", path, code, got, sum)
			}
		}()
	}
	wg.Wait()
	growth := stop()
	t.Logf("GET all and 4 cluster GETs concurrently: %s (each %v); peak heap growth %.1f MiB",
		time.Since(start).Round(time.Millisecond), durations, float64(growth)/(1<<20))
	if growth > 32<<20 {
		t.Errorf("heap grew by %.1f MiB, want under 32 MiB", float64(growth)/(1<<20))
	}
	if durations[""] <= timeout {
		t.Logf("GET all took %s, within the %s request timeout: the timeout claim was not exercised", durations[""], timeout)
	}
}

var nextLinkRE = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// walkPages follows Link rel="next" from path and returns the records of
// every page in order, and the number of pages.
func walkPages(t *testing.T, e *env, path string) ([]json.RawMessage, int) {
	var all []json.RawMessage
	pages := 0
	for path != "" {
		code, hdr, body := e.do("GET", path, tokenAll, "", "")
		if code != 200 {
			t.Fatalf("GET %s = %d %s", path, code, body)
		}
		var page []json.RawMessage
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			t.Fatalf("page %s: %v", path, err)
		}
		all = append(all, page...)
		pages++
		path = ""
		if l := hdr.Get("Link"); l != "" {
			m := nextLinkRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("Link %q is not one rel=next link", l)
			}
			path = m[1]
		}
	}
	return all, pages
}

// Paging with ?limit= (and filtering with ?ready=) walks every record
// exactly once, in listing order, across clusters.
func TestListingPages(t *testing.T) {
	fl := fleet{clusters: 3, perCluster: 300}
	e := newEnv(t, "*="+tokenAll)
	fl.load(t, e)
	tests := []struct {
		path    string
		cluster int
		ready   string
		pages   int
	}{
		{"/api/v1/status?limit=200", -1, "", 5},
		{"/api/v1/status?limit=300", -1, "", 3},
		{"/api/v1/status?limit=900", -1, "", 1},
		{"/api/v1/status?limit=7&ready=False", -1, "False", 43},
		{"/api/v1/status?ready=Unknown&limit=100", -1, "Unknown", 3},
		{"/api/v1/status/c1?limit=99", 1, "", 4},
		{"/api/v1/status/c2?ready=True", 2, "True", 1},
		{"/api/v1/status/c9?limit=5", -2, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			recs, pages := walkPages(t, e, tt.path)
			a := newArrayHash()
			for _, r := range recs {
				a.add(r)
			}
			got := a.sum()
			want, n := "", 0
			if tt.cluster != -2 {
				want, n = fl.digest(t, tt.cluster, tt.ready)
			}
			if len(recs) != n || (n > 0 && got != want) || pages != tt.pages {
				t.Fatalf("%d records in %d pages, digest %s; want %d records in %d pages, %s", len(recs), pages, got, n, tt.pages, want)
			}
		})
	}
}

// A new claim written between two pages is not skipped when it sorts
// after the cursor, and nothing is visited twice.
func TestListingPagesUnderWrites(t *testing.T) {
	fl := fleet{clusters: 1, perCluster: 10}
	e := newEnv(t, "*="+tokenAll)
	fl.load(t, e)
	code, hdr, _ := e.do("GET", "/api/v1/status?limit=4", tokenAll, "", "")
	link := nextLinkRE.FindStringSubmatch(hdr.Get("Link"))
	if code != 200 || link == nil {
		t.Fatalf("first page: %d %v", code, hdr)
	}
	late := fl.record(t, 0, 99999)
	early := fl.record(t, 0, 0)
	early.ClaimRef = "aa/first"
	if _, err := e.store.Apply(context.Background(), late.ReceivedAt, []status.Record{late, early}); err != nil {
		t.Fatal(err)
	}
	recs, _ := walkPages(t, e, link[1])
	var keys []string
	for _, r := range recs {
		var rec status.Record
		json.Unmarshal(r, &rec)
		keys = append(keys, rec.ClaimRef)
	}
	want := "[ns/claim-00004 ns/claim-00005 ns/claim-00006 ns/claim-00007 ns/claim-00008 ns/claim-00009 ns/claim-99999]"
	if fmt.Sprint(keys) != want {
		t.Fatalf("later pages:\ngot  %v\nwant %s", keys, want)
	}
}

// Bad query parameters answer 400 naming the parameter; nothing is read.
func TestListingRejectsBadParams(t *testing.T) {
	e := newEnv(t, "*="+tokenAll)
	other := encodeCursor(store.Position{Cluster: "c2", Key: "ns/a"})
	tests := []struct{ query, want string }{
		{"?limit=0", `limit: "0" must be an integer from 1 to 10000`},
		{"?limit=10001", `limit: "10001" must be an integer from 1 to 10000`},
		{"?limit=ten", `limit: "ten" must be an integer from 1 to 10000`},
		{"?limit=1&limit=2", `limit: given 2 times; give it once`},
		{"?ready=false", `ready: "false" must be one of True, False, Unknown`},
		{"?cursor=" + other, `cursor: needs limit (take both from the Link header)`},
		{"?limit=5&cursor=%21%21", `cursor: "!!" is not a cursor of this listing; take it from the Link header`},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/v1/status", "/api/v1/status/c1"} {
			code, _, body := e.do("GET", path+tt.query, tokenAll, "", "")
			want := fmt.Sprintf(`{"error":%q}`+"\n", tt.want)
			if code != 400 || body != want {
				t.Errorf("GET %s%s = %d %s, want 400 %s", path, tt.query, code, body, want)
			}
		}
	}
	// A cursor of another cluster's listing is refused by a cluster listing.
	code, _, body := e.do("GET", "/api/v1/status/c1?limit=5&cursor="+other, tokenAll, "", "")
	if code != 400 || !strings.Contains(body, "cursor: ") {
		t.Errorf("foreign cursor = %d %s", code, body)
	}
}

// Redis down before the answer started: 503, and no Link header.
func TestListingUnavailable(t *testing.T) {
	e := newEnv(t, "*="+tokenAll)
	fleet{clusters: 1, perCluster: 5}.load(t, e)
	e.redis.Stop()
	for _, path := range []string{"/api/v1/status", "/api/v1/status?limit=2", "/api/v1/status/c0"} {
		code, hdr, body := e.do("GET", path, tokenAll, "", "")
		if code != 503 || hdr.Get("Retry-After") == "" || hdr.Get("Link") != "" {
			t.Errorf("GET %s with Redis down = %d %v %s", path, code, hdr, body)
		}
	}
}

// blockingWriter is a ResponseWriter whose first body write waits for
// release, so a test can break Redis in the middle of a streamed answer.
type blockingWriter struct {
	header  http.Header
	code    int
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingWriter) Header() http.Header  { return b.header }
func (b *blockingWriter) WriteHeader(code int) { b.code = code }
func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.started); <-b.release })
	return len(p), nil
}

// Redis failing after the 200 and part of the array went out cannot turn
// into a 503 any more: the handler aborts the response (the server then
// cuts the connection), so no client takes the partial array for a whole
// one, and the log says so.
func TestListingAbortsWhenRedisFailsMidStream(t *testing.T) {
	e := newEnv(t, "")
	fleet{clusters: 1, perCluster: 600}.load(t, e)
	w := &blockingWriter{header: http.Header{}, started: make(chan struct{}), release: make(chan struct{})}
	aborted := make(chan any, 1)
	go func() {
		defer func() { aborted <- recover() }()
		e.fn.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/status/c0", nil))
	}()
	<-w.started
	e.redis.Stop()
	close(w.release)
	if v := <-aborted; v != http.ErrAbortHandler {
		t.Fatalf("handler ended with %v, want panic(http.ErrAbortHandler)", v)
	}
	if w.code != 200 || !strings.Contains(e.log.String(), "listing failed after the answer started; aborting the response") {
		t.Fatalf("code %d, log:\n%s", w.code, e.log.String())
	}
}

// Records created, or turned matching the filter, while a page is being
// read never push it over limit, and paging still visits every record
// that exists (and matches) throughout exactly once. The writes run
// between the page's two passes through the test hook, so the race is
// deterministic.
func TestListingPageAtMostLimitUnderWrites(t *testing.T) {
	fl := fleet{clusters: 2, perCluster: 10}
	claim := func(c, i int, ref, ready string) status.Record {
		r := fl.record(t, c, i)
		r.ClaimRef, r.Ready, r.ObservedAt = ref, ready, "2026-11-25T10:30:00Z"
		if err := r.Normalize("", time.Date(2026, 11, 25, 11, 30, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name, path string
		limit      int
		writes     []status.Record // applied between the first page's passes
		deletes    []string        // claims of c0 deleted there
		first      string          // the first page's claims
		all        string          // every page's claims
	}{
		{"created before the page's end", "/api/v1/status/c0?limit=4", 4,
			[]status.Record{claim(0, 1, "aa/first", "True"), claim(0, 1, "ns/claim-00001-b", "True")}, nil,
			"[c0/00000 c0/00001 c0/00002 c0/00003]",
			"[c0/00000 c0/00001 c0/00002 c0/00003 c0/00004 c0/00005 c0/00006 c0/00007 c0/00008 c0/00009]"},
		{"created across clusters", "/api/v1/status?limit=12", 12,
			[]status.Record{claim(0, 1, "ns/claim-00004-b", "True"), claim(1, 1, "aa/first", "True")}, nil,
			"[c0/00000 c0/00001 c0/00002 c0/00003 c0/00004 c0/00005 c0/00006 c0/00007 c0/00008 c0/00009 c1/00000 c1/00001]",
			"[c0/00000 c0/00001 c0/00002 c0/00003 c0/00004 c0/00005 c0/00006 c0/00007 c0/00008 c0/00009 " +
				"c1/00000 c1/00001 c1/00002 c1/00003 c1/00004 c1/00005 c1/00006 c1/00007 c1/00008 c1/00009]"},
		{"deleted from the page, its end too", "/api/v1/status/c0?limit=4", 4,
			[]status.Record{claim(0, 1, "aa/first", "True")}, []string{"ns/claim-00001", "ns/claim-00003"},
			"[c0/00000 c0/00002]",
			"[c0/00000 c0/00002 c0/00004 c0/00005 c0/00006 c0/00007 c0/00008 c0/00009]"},
		{"turned matching the filter", "/api/v1/status/c0?limit=2&ready=True", 2,
			[]status.Record{claim(0, 1, "ns/claim-00001", "True"), claim(0, 2, "ns/claim-00002", "True")}, nil,
			"[c0/00000 c0/00003]",
			"[c0/00000 c0/00003 c0/00006 c0/00009]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "*="+tokenAll)
			fl.load(t, e)
			var once sync.Once
			e.fn.betweenPasses = func() {
				once.Do(func() {
					ctx := context.Background()
					if _, err := e.store.Apply(ctx, tt.writes[0].ReceivedAt, tt.writes); err != nil {
						t.Error(err)
					}
					for _, k := range tt.deletes {
						if err := e.store.Client().HDel(ctx, store.DefaultPrefix+":claims:c0", k).Err(); err != nil {
							t.Error(err)
						}
					}
				})
			}
			names := func(recs []json.RawMessage) string {
				var out []string
				for _, r := range recs {
					var rec status.Record
					if err := json.Unmarshal(r, &rec); err != nil {
						t.Fatal(err)
					}
					out = append(out, rec.Cluster+"/"+strings.TrimPrefix(rec.ClaimRef, "ns/claim-"))
				}
				return fmt.Sprint(out)
			}
			code, hdr, body := e.do("GET", tt.path, tokenAll, "", "")
			var page []json.RawMessage
			if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
				t.Fatalf("first page: %d %v %s", code, err, body)
			}
			if len(page) > tt.limit || names(page) != tt.first {
				t.Errorf("first page holds %d records, at most %d allowed:\ngot  %s\nwant %s", len(page), tt.limit, names(page), tt.first)
			}
			link := nextLinkRE.FindStringSubmatch(hdr.Get("Link"))
			if link == nil {
				t.Fatalf("first page has no next link: %v", hdr)
			}
			rest, _ := walkPages(t, e, link[1])
			if got := names(append(page, rest...)); got != tt.all {
				t.Errorf("every page:\ngot  %s\nwant %s", got, tt.all)
			}
		})
	}
}

// A page of the largest limit keeps only its positions between the two
// passes, not its records: the heap stays far below the page's 10 MiB.
func TestListingPageBoundedHeap(t *testing.T) {
	fl := fleet{clusters: 2, perCluster: 6000}
	e := newEnv(t, "*="+tokenAll)
	fl.load(t, e)
	a := newArrayHash()
	for i := range MaxPageLimit {
		r := fl.record(t, i/fl.perCluster, i%fl.perCluster)
		a.add(r.AppendJSON(nil))
	}
	want := a.sum()
	stop := heapPeak()
	code, got := getDigest(t, fmt.Sprintf("%s/api/v1/status?limit=%d", e.srv.URL, MaxPageLimit), tokenAll)
	growth := stop()
	t.Logf("GET a page of %d records of 1 KiB: peak heap growth %.1f MiB", MaxPageLimit, float64(growth)/(1<<20))
	if code != 200 || got != want {
		t.Fatalf("GET = %d, digest %s, want 200 %s", code, got, want)
	}
	if growth > 6<<20 {
		t.Errorf("heap grew by %.1f MiB, want under 6 MiB", float64(growth)/(1<<20))
	}
}
